"""Smart Turn v3.2 (voicebot.voice.smart_turn) on a real person's telephone speech.

The recording is one of Asterisk's English prompts (Debian asterisk-core-sounds-en-wav,
8 kHz, spoken by a person; `make test` installs it): the whole sentence sounds finished,
the same audio stopped mid-sentence ("… Please enter | your agent number …") does not.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
import soxr

from voicebot.voice.smart_turn import TurnCompletionModel

PROMPT = Path("/usr/share/asterisk/sounds/en_US_f_Allison/agent-alreadyon.wav")
# "That agent is already logged on. Please enter your agent number followed by the pound key."
GAP_AFTER_ENTER_S = (2.78, 2.80, 2.82)  # the quiet between "Please enter" and "your"
VAD_STOP_S = 0.2  # the silence a call's VAD needs before it reports the stop Smart Turn is asked at


@pytest.fixture(scope="module")
def prompt() -> np.ndarray:
    if not PROMPT.exists():
        pytest.fail(f"{PROMPT} is missing: apt-get install asterisk-core-sounds-en-wav (make test-services does)")
    with wave.open(str(PROMPT)) as recording:
        pcm = np.frombuffer(recording.readframes(recording.getnframes()), dtype=np.int16)
        rate = recording.getframerate()
    return soxr.resample(pcm.astype(np.float32) / 32768.0, rate, 16000).astype(np.float32)


def paused(audio: np.ndarray) -> np.ndarray:
    return np.concatenate([audio, np.zeros(int(VAD_STOP_S * 16000), dtype=np.float32)])


def test_a_finished_sentence_sounds_finished_and_a_mid_sentence_pause_does_not(prompt: np.ndarray) -> None:
    model = TurnCompletionModel()
    finished = model.probability(paused(prompt))
    unfinished = [model.probability(paused(prompt[: int(at * 16000)])) for at in GAP_AFTER_ENTER_S]
    assert finished > 0.8, f"the whole prompt scored {finished:.2f}"
    assert max(unfinished) < 0.3, f"the prompt cut after 'Please enter' scored {unfinished}"


def test_only_the_last_eight_seconds_count(prompt: np.ndarray) -> None:
    model = TurnCompletionModel()
    long_turn = np.concatenate([np.zeros(20 * 16000, dtype=np.float32), paused(prompt)])
    assert model.probability(long_turn) == pytest.approx(model.probability(paused(prompt)), abs=1e-4)
