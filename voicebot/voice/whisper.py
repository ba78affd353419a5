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
from typing import Any, Iterator

import numpy as np
from faster_whisper import WhisperModel

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


NO_SPEECH_PROB = 0.6  # segments Whisper itself thinks are silence are dropped
MAX_COMPRESSION_RATIO = 2.0  # text this repetitive ("delivery, delivery, ...") is a decoding loop
MIN_AVG_LOGPROB = -1.0


def suspicious(segments: list[Any], text: str, initial_prompt: str | None) -> bool:
    """Signs of a failed decode: a repetition loop, very low confidence, or the prompt echoed back."""
    if any(s.compression_ratio > MAX_COMPRESSION_RATIO or s.avg_logprob < MIN_AVG_LOGPROB for s in segments):
        return True
    words = text.lower().strip(" .,!?")
    return bool(initial_prompt and len(words) > 12 and words in initial_prompt.lower())


def transcribe_turn(
    model: WhisperModel,
    samples: np.ndarray,
    *,
    beam_size: int = 1,
    initial_prompt: str | None = None,
    no_speech_prob: float = NO_SPEECH_PROB,
) -> str:
    """One caller turn (16 kHz float32) → its text; '' when Whisper thinks it was not speech.

    Blocking: run it in a worker thread. Decoding is greedy-or-beam at temperature 0
    only, because temperature-fallback re-decodes took 13–21 s on noisy audio. A
    short-window decode that looks wrong (`suspicious`) is redone with the full window.
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
        speech = [s for s in segments if s.no_speech_prob < no_speech_prob]
        return speech, " ".join(s.text.strip() for s in speech).strip()

    segments, text = decode()
    if isinstance(model, ShortWindowWhisperModel) and model.min_window_s < FULL_WINDOW_S:
        if suspicious(segments, text, initial_prompt):
            with model.window(FULL_WINDOW_S):
                segments, text = decode()
    return text
