"""The call's VAD runs Silero on the line's 8 kHz band, though the pipeline's audio is 16 kHz.

The recording is one of Asterisk's English prompts (Debian asterisk-core-sounds-en-wav,
CC-BY-SA-3.0), 8 kHz telephone speech by a real person.
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest
import soxr
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams, VADState

from voicebot.settings import Settings
from voicebot.voice.vad import TelephoneBandVADAnalyzer, caller_vad

PROMPT = Path("/usr/share/asterisk/sounds/en_US_f_Allison/agent-alreadyon.wav")


@pytest.fixture(scope="module")
def line_speech() -> np.ndarray:
    """The prompt after 2 s of a quiet line, with 1 s of quiet after: 8 kHz int16."""
    if not PROMPT.exists():
        pytest.fail(f"{PROMPT} is missing: apt-get install asterisk-core-sounds-en-wav (make test-services does)")
    with wave.open(str(PROMPT)) as recording:
        speech = np.frombuffer(recording.readframes(recording.getnframes()), dtype=np.int16)
    return np.concatenate([np.zeros(16000, np.int16), speech, np.zeros(8000, np.int16)])


def states(vad, pcm: np.ndarray, rate: int) -> list[VADState]:
    """The VAD's state after each 20 ms frame, fed as a call feeds it."""
    vad.set_sample_rate(rate)
    step = rate // 50

    async def run() -> list[VADState]:
        return [await vad.analyze_audio(pcm[n : n + step].tobytes()) for n in range(0, pcm.size - step + 1, step)]

    return asyncio.run(run())


def test_pipeline_audio_is_judged_at_8_khz_without_delay(line_speech) -> None:
    wide = (soxr.resample(line_speech.astype(np.float32) / 32768, 8000, 16000) * 32767).astype(np.int16)
    params = VADParams(stop_secs=0.2, confidence=0.5)
    from_pipeline = states(TelephoneBandVADAnalyzer(params=params), wide, 16000)
    from_line = states(SileroVADAnalyzer(sample_rate=8000, params=params), line_speech, 8000)
    started = [s.index(VADState.SPEAKING) for s in (from_pipeline, from_line)]
    stopped = [len(s) - s[::-1].index(VADState.SPEAKING) for s in (from_pipeline, from_line)]
    # The same speech, found at the same moments (within one 32 ms model window): no buffering in between.
    assert abs(started[0] - started[1]) <= 2 and abs(stopped[0] - stopped[1]) <= 2
    assert 2.0 <= started[0] * 0.02 <= 2.5  # the speech starts after the 2 s of quiet line


def test_the_calls_vad_uses_the_settings_threshold() -> None:
    vad = caller_vad(Settings(vad_confidence=0.4, vad_stop_secs=0.3))
    vad.set_sample_rate(16000)
    assert vad.sample_rate == 8000 and vad.params.confidence == 0.4 and vad.params.stop_secs == 0.3
