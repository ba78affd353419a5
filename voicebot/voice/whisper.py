"""Whisper with a shorter encoder window for short phone turns.

faster-whisper pads every segment's log-mel features with zeros to 3,000 frames (30 s)
before the encoder runs, so a 2 s caller turn costs as much as a 30 s one: on 2 CPU
cores that padding was most of the ~1 s a turn took. `ShortWindowWhisperModel` cuts
the zero padding off again, keeping at least `min_window_s` of features, because
Whisper was trained on full windows and very short ones make it drop words.
`voicebot-eval asr` measures word error and time for each window length.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
from faster_whisper import WhisperModel

from voicebot.voice.turns import words_in

FRAMES_PER_SECOND = 100  # Whisper's log-mel hop is 10 ms
FULL_WINDOW_S = 30.0


def content_frames(features: np.ndarray) -> int:
    """Frames before the zero padding (padding columns are exactly zero; log-mel audio never is)."""
    columns = np.flatnonzero(np.any(features != 0, axis=-2).reshape(-1, features.shape[-1]).any(axis=0))
    return int(columns[-1]) + 1 if columns.size else 0


class ShortWindowWhisperModel(WhisperModel):
    """WhisperModel whose encoder sees max(min_window_s, the audio) instead of 30 s."""

    def __init__(self, *args: Any, min_window_s: float = FULL_WINDOW_S, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.min_window_s = min(min_window_s, FULL_WINDOW_S)
        self._override = threading.local()  # the model is shared by calls decoding in parallel threads

    @contextmanager
    def window(self, seconds: float) -> Iterator[None]:
        """Decodes in this thread with another minimum window (e.g. the full 30 s to retry)."""
        previous = getattr(self._override, "seconds", None)
        self._override.seconds = seconds
        try:
            yield
        finally:
            self._override.seconds = previous

    def encode(self, features: np.ndarray):  # noqa: ANN201 - a ctranslate2.StorageView
        total = features.shape[-1]
        window_s = getattr(self._override, "seconds", None) or self.min_window_s
        keep = max(int(window_s * FRAMES_PER_SECOND), content_frames(features))
        keep += keep % 2  # the encoder's strided convolution halves the frame count
        if keep < total:
            features = np.ascontiguousarray(features[..., :keep])
        return super().encode(features)


NO_SPEECH_PROB = 0.6  # segments Whisper itself thinks are silence are dropped…
NO_SPEECH_SURE = 0.8  # …unless it is sure of their words (MIN_AVG_LOGPROB) and not this sure there was no speech
MAX_COMPRESSION_RATIO = 2.0  # text this repetitive ("delivery, delivery, ...") is a decoding loop
MIN_AVG_LOGPROB = -1.0
ECHO_RUN_WORDS = 3  # a run this long copied from the prompt counts as echoed
ECHO_SHARE = 0.8  # …and a transcript mostly made of such runs is the prompt, not the caller


@dataclass(frozen=True)
class Heard:
    """One caller segment's transcript and what Whisper's own scores say about it."""

    text: str
    avg_logprob: float = 0.0  # the least sure segment's mean token log-probability (0 when nothing was heard)
    compression_ratio: float = 0.0  # gzip ratio of the text: high means a repetition loop
    doubt: str | None = None  # why not to act on it: "prompt echo", "repetition", "unsure"; None: trust it


def echoes_prompt(text: str, prompt: str | None) -> bool:
    """True when most of `text` is made of runs of words copied from `prompt` ("Customer service call about an online order.").

    Digits are the caller's own: the prompt's example numbers are real order numbers
    and zip codes a caller may read out ("My order number is 1 0 4 2 3 3"), and an echo
    of the prompt on silence has come back as its words, never as its numbers.
    """
    words, source = words_in(text), words_in(prompt or "")
    if len(words) < ECHO_RUN_WORDS or not source or any(w.isdigit() for w in words):
        return False
    runs = {tuple(source[i : i + ECHO_RUN_WORDS]) for i in range(len(source) - ECHO_RUN_WORDS + 1)}
    covered = [False] * len(words)
    for i in range(len(words) - ECHO_RUN_WORDS + 1):
        if tuple(words[i : i + ECHO_RUN_WORDS]) in runs:
            covered[i : i + ECHO_RUN_WORDS] = [True] * ECHO_RUN_WORDS
    return sum(covered) >= ECHO_SHARE * len(words)


def doubt_about(segments: list[Any], text: str, initial_prompt: str | None) -> str | None:
    """Signs of a failed decode: the prompt echoed back, a repetition loop, very low confidence."""
    if echoes_prompt(text, initial_prompt):
        return "prompt echo"
    if any(s.compression_ratio > MAX_COMPRESSION_RATIO for s in segments):
        return "repetition"
    if any(s.avg_logprob < MIN_AVG_LOGPROB for s in segments):
        return "unsure"
    return None


def is_speech(segment: Any, no_speech_prob: float = NO_SPEECH_PROB) -> bool:
    """Whisper's own rule, bounded: a segment is silence when the no-speech token is likely and
    the words are unsure. On a noisy line "It's 1 0 4 2 3 3." came with no-speech 0.61 and
    log-probability -0.89, and dropping it left the caller unanswered. With this rule the
    silence, hiss and hold-music clips of `voicebot-eval asr --prompts` still yield no words."""
    if segment.no_speech_prob < no_speech_prob:
        return True
    return segment.no_speech_prob < NO_SPEECH_SURE and segment.avg_logprob >= MIN_AVG_LOGPROB


def transcribe_turn(
    model: WhisperModel,
    samples: np.ndarray,
    *,
    beam_size: int = 1,
    initial_prompt: str | None = None,
    no_speech_prob: float = NO_SPEECH_PROB,
) -> Heard:
    """One caller turn (16 kHz float32) → its text ('' when Whisper thinks it was not speech) and scores.

    Blocking: run it in a worker thread. Decoding is greedy-or-beam at temperature 0
    only, because temperature-fallback re-decodes took 13–21 s on noisy audio. A
    short-window decode that looks wrong (`doubt_about`) is redone with the full window;
    if it still looks wrong the result says why, and the call asks the caller to repeat.
    """

    def decode() -> tuple[list[Any], str]:
        segments, _ = model.transcribe(
            samples,
            language="en",
            beam_size=beam_size,
            condition_on_previous_text=False,
            vad_filter=False,  # Silero already cut the turn
            temperature=0.0,
            without_timestamps=True,
            initial_prompt=initial_prompt,  # domain words: order numbers read digit by digit, carriers...
            max_new_tokens=int(10 + 12 * len(samples) / 16000),  # bounds a runaway loop
        )
        speech = [s for s in segments if is_speech(s, no_speech_prob)]
        return speech, " ".join(s.text.strip() for s in speech).strip()

    segments, text = decode()
    doubt = doubt_about(segments, text, initial_prompt)
    if doubt and isinstance(model, ShortWindowWhisperModel) and model.min_window_s < FULL_WINDOW_S:
        with model.window(FULL_WINDOW_S):
            segments, text = decode()
        doubt = doubt_about(segments, text, initial_prompt)
    if not text:
        return Heard("")
    return Heard(
        text,
        avg_logprob=min(s.avg_logprob for s in segments),
        compression_ratio=max(s.compression_ratio for s in segments),
        doubt=doubt,
    )
