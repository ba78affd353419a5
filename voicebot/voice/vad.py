"""The caller's voice activity: Silero VAD run on the telephone band, at 8 kHz.

The pipeline runs at 16 kHz (Whisper's rate), but a phone line carries 8 kHz audio, and
Silero scores that audio upsampled to 16 kHz poorly: synthetic callers' words often
stay under its threshold ("yes", "representative" were never heard), so the bot waited
in silence. Silero's own 8 kHz model, fed the same band, hears them
(`voicebot-eval vad` measures both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import soxr
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams, VADState

if TYPE_CHECKING:
    from voicebot.settings import Settings

LINE_RATE = 8000


class TelephoneBandVADAnalyzer(SileroVADAnalyzer):
    """Silero at 8 kHz whatever the pipeline's input rate: input audio is resampled to it first.

    With soxr's quick quality, which holds back no audio (its better qualities buffer
    about 100 ms, which every start and stop of speech would wait for); the line's audio
    has nothing above 4 kHz to alias.
    """

    def __init__(self, *, params: VADParams | None = None) -> None:
        super().__init__(sample_rate=LINE_RATE, params=params)
        self._to_line_rate: soxr.ResampleStream | None = None

    def set_sample_rate(self, sample_rate: int) -> None:
        """The rate the audio arrives at; the model's own stays 8 kHz."""
        self._to_line_rate = None if sample_rate == LINE_RATE else soxr.ResampleStream(sample_rate, LINE_RATE, 1, dtype="int16", quality="QQ")
        super().set_sample_rate(sample_rate)

    async def analyze_audio(self, buffer: bytes) -> VADState:
        if self._to_line_rate is not None:
            buffer = self._to_line_rate.resample_chunk(np.frombuffer(buffer, dtype=np.int16)).tobytes()
        return await super().analyze_audio(buffer)


def caller_vad(settings: "Settings") -> TelephoneBandVADAnalyzer:
    """The VAD every call uses (and the turn-taking eval replays)."""
    return TelephoneBandVADAnalyzer(params=VADParams(stop_secs=settings.vad_stop_secs, confidence=settings.vad_confidence))
