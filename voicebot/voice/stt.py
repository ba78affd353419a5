"""Whisper speech-to-text over one model shared by every call.

pipecat's WhisperSTTService loads its own model per instance (per call, possibly from
the Hugging Face hub); a phone line needs one pre-loaded model and predictable latency,
so this subclass reuses the process's model and decodes without temperature fallback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import numpy as np
from pipecat.frames.frames import ErrorFrame, Frame, TranscriptionFrame
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.utils.time import time_now_iso8601

from voicebot.voice.whisper import transcribe_turn

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

logger = logging.getLogger(__name__)


class SharedWhisperSTTService(WhisperSTTService):
    """WhisperSTTService over an already-loaded faster-whisper model (thread-safe for reads)."""

    def __init__(
        self, *, whisper_model: "WhisperModel", beam_size: int = 1, initial_prompt: str | None = None, **kwargs: Any
    ) -> None:
        self._shared_model = whisper_model
        self._beam_size = beam_size
        self._initial_prompt = initial_prompt
        super().__init__(**kwargs)  # the parent calls self._load()

    def _load(self) -> None:
        self._model = self._shared_model

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        """One caller segment (16 kHz 16-bit PCM) → at most one final TranscriptionFrame."""
        await self.start_processing_metrics()
        samples = np.frombuffer(audio, dtype=np.int16).astype(np.float32) / 32768.0
        try:
            text = await asyncio.to_thread(
                transcribe_turn, self._model, samples, beam_size=self._beam_size,
                initial_prompt=self._initial_prompt, no_speech_prob=self._settings.no_speech_prob,
            )
        except Exception as error:  # noqa: BLE001 - any decoder failure must not end the call
            logger.error("Whisper failed: %s", error)
            yield ErrorFrame(f"whisper failed: {error}")
            return
        finally:
            await self.stop_processing_metrics()
        if text:
            yield TranscriptionFrame(text, self._user_id, time_now_iso8601(), "en")
