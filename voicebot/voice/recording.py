"""Optional two-channel recording of a call: the caller on the left, the bot on the right.

Off by default (VOICEBOT_RECORD_CALLS): a recording holds everything the caller said,
card numbers included, which the text records redact. pipecat's AudioBufferProcessor
lines both sides up in time; this writes its output to
`<data_dir>/recordings/<call id>.wav` every few seconds, so a long call never sits
whole in memory and a crash loses at most the last few seconds.
"""

from __future__ import annotations

import logging
import wave
from pathlib import Path

from pipecat.processors.audio.audio_buffer_processor import AudioBufferProcessor

logger = logging.getLogger(__name__)

FLUSH_EVERY_S = 5


class CallRecording:
    """One call's stereo WAV file, fed by the AudioBufferProcessor from `processor()`."""

    def __init__(self, path: Path, sample_rate: int = 8000) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self._wav: wave.Wave_write | None = None

    def processor(self) -> AudioBufferProcessor:
        """Place it after the transport's output, with the caller's audio passed through STT."""
        recorder = AudioBufferProcessor(
            sample_rate=self.sample_rate,
            num_channels=2,
            buffer_size=self.sample_rate * 2 * 2 * FLUSH_EVERY_S,  # bytes: 16-bit, two channels
            auto_start_recording=True,
        )

        @recorder.event_handler("on_audio_data")
        async def _write(processor: AudioBufferProcessor, audio: bytes, sample_rate: int, num_channels: int) -> None:
            self.write(audio)

        return recorder

    def write(self, interleaved: bytes) -> None:
        if self._wav is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._wav = wave.open(str(self.path), "wb")
            self._wav.setnchannels(2)
            self._wav.setsampwidth(2)
            self._wav.setframerate(self.sample_rate)
        self._wav.writeframes(interleaved)

    def close(self) -> None:
        if self._wav is not None:
            self._wav.close()
            self._wav = None
            logger.info("Call recording written to %s", self.path)
