"""Text-to-speech through the Piper HTTP server, which runs in its own process.

piper-tts is GPL-3.0, so it lives in its own virtual environment and is only spoken to
over loopback HTTP. pipecat's own PiperHttpTTSService imports `piper` at module load,
which would pull the GPL package into the engine, hence this small client
(same request logic as pipecat's, BSD-2-Clause).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
import wave
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import aiohttp
import numpy as np
from pipecat.frames.frames import Frame
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService

from voicebot.voice.compat import wav_audio_frames
from voicebot.voice.frames import SpeechFailedFrame

logger = logging.getLogger(__name__)
RETRY_AFTER_S = 0.5  # one retry, a moment later: the supervisor may be restarting Piper
SYNTHESIS_TIMEOUT = aiohttp.ClientTimeout(total=10)  # a sentence takes 0.03-0.3 s: a hung Piper is a failure

_DOLLAR_AMOUNT = re.compile(r"\$(\d[\d,]*(?:\.\d\d)?)\b")


async def say_dollar_amounts(text: str, text_type: str) -> str:
    """ "$4.99" → "4.99 dollars": Piper garbles the symbol form (heard back as "$1.99")."""
    return _DOLLAR_AMOUNT.sub(r"\1 dollars", text)


LEAD_IN_S = 0.02  # kept before the first audible sample
AUDIBLE = 300  # |sample| of 16-bit audio (~ -40 dBFS) that counts as sound


def trim_leading_silence(wav: bytes) -> bytes:
    """Piper's WAV without the ~0.2 s of silence its voices start with.

    That silence is pure waiting for the caller: the bot seems to answer later than
    it does. A WAV this cannot read is returned unchanged.
    """
    try:
        with wave.open(io.BytesIO(wav)) as reader:
            params = reader.getparams()
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError):
        return wav
    if params.sampwidth != 2:
        return wav
    samples = np.frombuffer(frames, dtype="<i2")
    audible = np.flatnonzero(np.abs(samples.astype(np.int32)) >= AUDIBLE)
    start = max(0, int(audible[0]) - int(LEAD_IN_S * params.framerate * params.nchannels)) if audible.size else 0
    start -= start % params.nchannels
    if start == 0:
        return wav
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setparams(params)
        writer.writeframes(samples[start:].tobytes())
    return out.getvalue()


class SpeechCache:
    """Piper's WAV for recently spoken sentences, shared by every call in the process.

    Most of what the bot says is fixed wording ("What is the order number?", the
    greeting, reprompts); synthesising it again costs 0.1–0.5 s of the caller's wait.
    Least recently used sentences go first once `max_bytes` is reached.
    """

    def __init__(self, max_bytes: int = 32 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._wavs: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self.hits = self.misses = 0

    def get(self, text: str) -> bytes | None:
        wav = self._wavs.get(text)
        if wav is None:
            self.misses += 1
            return None
        self.hits += 1
        self._wavs.move_to_end(text)
        return wav

    def put(self, text: str, wav: bytes) -> None:
        if len(wav) > self.max_bytes or text in self._wavs:
            return
        self._wavs[text] = wav
        self._size += len(wav)
        while self._size > self.max_bytes:
            _, dropped = self._wavs.popitem(last=False)
            self._size -= len(dropped)


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


class SpeechSynthesisFailed(Exception):
    """Piper could not say a sentence (down, restarting, or an error answer)."""


class Apology:
    """The apology a caller hears when speech fails, rendered by Piper once while it works (start-up)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.wav: bytes | None = None

    async def render(self, session: aiohttp.ClientSession, base_url: str, wait_s: float = 300.0) -> None:
        """Asks Piper until it answers (it may still be loading its voice at start-up), then keeps the WAV."""
        deadline = time.monotonic() + wait_s
        while self.wav is None:
            try:
                self.wav = await synthesise(session, base_url, self.text)
            except SpeechSynthesisFailed as error:
                if time.monotonic() > deadline:
                    logger.error("No pre-rendered apology: Piper did not answer in %.0f s (%s)", wait_s, error)
                    return
                await asyncio.sleep(1.0)


async def synthesise(session: aiohttp.ClientSession, base_url: str, text: str) -> bytes:
    """Piper's WAV for `text` (POST {base_url}/synthesize), without its leading silence; `SpeechSynthesisFailed` otherwise."""
    try:
        async with session.post(base_url.rstrip("/") + "/synthesize", json={"text": text}, timeout=SYNTHESIS_TIMEOUT) as response:
            if response.status != 200:
                raise SpeechSynthesisFailed(f"Piper HTTP {response.status}: {(await response.text())[:200]}")
            return trim_leading_silence(await response.read())  # Piper's server sends the WAV once complete
    except (aiohttp.ClientError, TimeoutError) as error:
        raise SpeechSynthesisFailed(f"Piper HTTP failed: {error}") from error


class PiperHttpTTSService(TTSService):
    """POST {base_url}/synthesize {"text": ...} → WAV, streamed and resampled to the output rate.

    A sentence Piper cannot say is tried once more; if that fails too, the caller hears the
    pre-rendered `apology` (once per call) and `SpeechFailedFrame` goes upstream, where the
    dialogue processor hands the call to a person.
    """

    def __init__(
        self,
        *,
        base_url: str,
        aiohttp_session: aiohttp.ClientSession,
        cache: SpeechCache | None = None,
        apology: Apology | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            settings=TTSSettings(model=None, voice=None, language=None),  # the voice is the server's
            text_transforms=[("*", say_dollar_amounts)],
            **kwargs,
        )
        self._base_url = base_url
        self._session = aiohttp_session
        self._cache = cache
        self._apology = apology
        self._apologised = False

    def can_generate_metrics(self) -> bool:
        return True

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame, None]:
        wav = self._cache.get(text) if self._cache else None
        try:
            if wav is None:
                wav = await self._synthesise_with_retry(text)
                if self._cache:
                    self._cache.put(text, wav)
        except SpeechSynthesisFailed as error:
            logger.error("Speech failed twice for a sentence of %d characters: %s", len(text), error)
            await self.push_frame(SpeechFailedFrame(text), FrameDirection.UPSTREAM)
            if self._apologised or self._apology is None or self._apology.wav is None:
                return
            self._apologised, wav = True, self._apology.wav
        try:
            await self.start_tts_usage_metrics(text)
            # Piper's rate comes from the WAV header; the audio is resampled to the line's.
            async for frame in wav_audio_frames(self, _chunks(wav, self.chunk_size), context_id):
                await self.stop_ttfb_metrics()
                yield frame
        finally:
            await self.stop_ttfb_metrics()

    async def _synthesise_with_retry(self, text: str) -> bytes:
        try:
            return await synthesise(self._session, self._base_url, text)
        except SpeechSynthesisFailed as error:
            logger.warning("Speech failed (%s); trying once more", error)
            await asyncio.sleep(RETRY_AFTER_S)
            return await synthesise(self._session, self._base_url, text)
