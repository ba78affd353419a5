"""Whisper speech-to-text over one model shared by every call.

pipecat's WhisperSTTService loads its own model per instance (per call, possibly from
the Hugging Face hub); a phone line needs one pre-loaded model and predictable latency.
So this is pipecat's SegmentedSTTService (the VAD cuts the caller's speech into
segments, one transcript each) over the process's model, decoding without temperature
fallback (`whisper.transcribe_turn`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import numpy as np
from pipecat.frames.frames import ErrorFrame, Frame, TranscriptionFrame
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import SegmentedSTTService
from pipecat.transcriptions.language import Language
from pipecat.utils.time import time_now_iso8601

from voicebot.voice.frames import ExpectedAnswerFrame
from voicebot.voice.whisper import NO_SPEECH_PROB, transcribe_turn

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

logger = logging.getLogger(__name__)

CALLER = ""  # the user id of a phone line's one speaker: its audio frames carry none


class SharedWhisperSTTService(SegmentedSTTService):
    """Transcribes each caller segment with an already-loaded faster-whisper model (thread-safe for reads)."""

    def __init__(
        self,
        *,
        whisper_model: "WhisperModel",
        model_name: str,
        beam_size: int = 1,
        initial_prompt: str | None = None,
        prompt_when: str = "always",
        no_speech_prob: float = NO_SPEECH_PROB,
        **kwargs: Any,
    ) -> None:
        """`prompt_when`: "always", "number" (only while the bot waits for a number) or "never" (Settings.whisper_prompt_when)."""
        super().__init__(settings=STTSettings(model=model_name, language=Language.EN), **kwargs)
        self._whisper = whisper_model
        self._beam_size = beam_size
        self._initial_prompt = initial_prompt
        self._prompt_when = prompt_when
        self._number_asked = False  # from the dialogue's ExpectedAnswerFrame after each bot turn
        self._no_speech_prob = no_speech_prob

    @property
    def wants_wav_segments(self) -> bool:
        """Whisper reads the segment as raw 16-bit PCM."""
        return False

    def can_generate_metrics(self) -> bool:
        return True

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, ExpectedAnswerFrame):
            self._number_asked = frame.expected.number_asked  # ends here: nothing further upstream needs it
            return
        await super().process_frame(frame, direction)

    @property
    def prompt(self) -> str | None:
        """The prompt the next segment is decoded with."""
        wanted = self._prompt_when == "always" or (self._prompt_when == "number" and self._number_asked)
        return self._initial_prompt if wanted else None

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        """One caller segment (16 kHz 16-bit PCM) → one final TranscriptionFrame, empty when Whisper heard no words."""
        await self.start_processing_metrics()
        samples = np.frombuffer(audio, dtype=np.int16).astype(np.float32) / 32768.0
        try:
            heard = await asyncio.to_thread(
                transcribe_turn, self._whisper, samples, beam_size=self._beam_size,
                initial_prompt=self.prompt, no_speech_prob=self._no_speech_prob,
            )
        except Exception as error:  # noqa: BLE001 - any decoder failure must not end the call
            logger.error("Whisper failed: %s", error)
            yield ErrorFrame(f"whisper failed: {error}")
            return
        finally:
            await self.stop_processing_metrics()
        if heard.doubt:
            logger.info("Whisper doubts %r (%s)", heard.text, heard.doubt)
        # No words is an answer too: the turn ends on the transcript, and one that never came
        # would leave a caller Whisper could not make out in silence.
        yield TranscriptionFrame(heard.text, CALLER, time_now_iso8601(), "en", result=heard)
