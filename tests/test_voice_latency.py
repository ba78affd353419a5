"""Per-stage timing of a spoken turn, from the frames a call's pipeline pushes."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)

from voicebot.voice.latency import STAGES, TurnLatencyObserver


async def push_all(observer: TurnLatencyObserver, frames: list, gap_s: float = 0.02) -> None:
    for frame in frames:
        await observer.on_push_frame(SimpleNamespace(frame=frame, first_push=True))
        await observer.on_push_frame(SimpleNamespace(frame=frame, first_push=False))  # next hop: ignored
        await asyncio.sleep(gap_s)


def spoken_turn() -> list:
    return [
        VADUserStartedSpeakingFrame(),
        VADUserStoppedSpeakingFrame(stop_secs=0.2),
        TranscriptionFrame("where is my order", "", "now"),
        UserStoppedSpeakingFrame(),
        TTSSpeakFrame("What is the order number?"),
        TTSAudioRawFrame(b"\0" * 320, 8000, 1),
        BotStartedSpeakingFrame(),
    ]


async def test_each_stage_of_a_turn_is_timed() -> None:
    measured: list[dict] = []

    async def keep(stages: dict) -> None:
        measured.append(stages)

    await push_all(TurnLatencyObserver(keep), spoken_turn())
    [stages] = measured
    assert set(stages) == {*STAGES, "total"}
    assert 190 <= stages["endpointing"] <= 260  # VAD stop_secs, worked back from the stop frame
    assert all(stages[s] >= 15 for s in STAGES[1:])  # 20 ms between the frames above
    assert abs(sum(stages[s] for s in STAGES) - stages["total"]) < 1


async def test_greeting_and_keypad_turns_are_not_timed_and_speech_restarts_the_clock() -> None:
    measured: list[dict] = []

    async def keep(stages: dict) -> None:
        measured.append(stages)

    observer = TurnLatencyObserver(keep)
    # The greeting: bot audio without caller speech before it.
    await push_all(observer, [TTSSpeakFrame("Hello."), TTSAudioRawFrame(b"\0" * 320, 8000, 1), BotStartedSpeakingFrame()])
    # A pause mid-sentence: the caller went on, so the first stop is not the end of speech.
    await push_all(observer, [VADUserStoppedSpeakingFrame(stop_secs=0.2), *spoken_turn()])
    assert len(measured) == 1
    assert measured[0]["endpointing"] < 260
