"""Where a spoken turn's response time goes: one pipecat observer per call.

From the end of the caller's speech to the bot's first audio on the wire, split into
the stages the pipeline runs through, from frames it already passes along:

    endpointing     caller silent → VAD reports the end of speech (VAD stop_secs)
    transcription   VAD stop → Whisper's transcript
    turn_wait       transcript → the turn ends (speech timeout, digit hold)
    dialogue        turn end → the first sentence to say (Rasa, actions, database)
    tts             sentence → Piper's first audio
    output          first audio → the transport sends it (BotStartedSpeaking)

Keypad turns have no speech end, so they are not measured here.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed

STAGES = ("endpointing", "transcription", "turn_wait", "dialogue", "tts", "output")
_MOMENTS = ("speech_end", "vad_stop", "transcript", "turn_end", "sentence", "first_audio", "bot_speaking")


class TurnLatencyObserver(BaseObserver):
    """Times each voice turn's stages and hands them to `on_turn` (milliseconds)."""

    def __init__(self, on_turn: Callable[[dict[str, float]], Awaitable[None]], **kwargs) -> None:
        super().__init__(**kwargs)
        self._on_turn = on_turn
        self._moments: dict[str, float] = {}

    async def on_push_frame(self, data: FramePushed) -> None:
        if not data.first_push:
            return
        frame, now, moments = data.frame, time.monotonic(), self._moments
        if isinstance(frame, VADUserStartedSpeakingFrame):
            moments.clear()  # the caller (still) talking: a new end of speech will come
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            moments.clear()
            moments.update(speech_end=now - frame.stop_secs, vad_stop=now)
        elif "vad_stop" not in moments:
            return
        elif isinstance(frame, TranscriptionFrame) and "turn_end" not in moments:
            moments["transcript"] = now
        elif isinstance(frame, UserStoppedSpeakingFrame):
            moments.setdefault("turn_end", now)
        elif isinstance(frame, TTSSpeakFrame) and "turn_end" in moments:
            moments.setdefault("sentence", now)
        elif isinstance(frame, TTSAudioRawFrame) and "sentence" in moments:
            moments.setdefault("first_audio", now)
        elif isinstance(frame, BotStartedSpeakingFrame) and "first_audio" in moments:
            moments["bot_speaking"] = now
            if all(m in moments for m in _MOMENTS):
                await self._on_turn(stage_times(moments))
            moments.clear()


def stage_times(moments: dict[str, float]) -> dict[str, float]:
    """Monotonic moments → each stage's milliseconds, and the total."""
    times = {
        stage: round(1000.0 * (moments[end] - moments[start]), 1)
        for stage, start, end in zip(STAGES, _MOMENTS, _MOMENTS[1:])
    }
    times["total"] = round(1000.0 * (moments["bot_speaking"] - moments["speech_end"]), 1)
    return times
