"""Text-to-speech through the Piper HTTP server, which runs in its own process.

piper-tts is GPL-3.0, so it lives in its own virtual environment and is only spoken to
over loopback HTTP. pipecat's own PiperHttpTTSService imports `piper` at module load,
which would pull the GPL package into the engine, hence this small client
(same request logic as pipecat's, BSD-2-Clause).
"""

from __future__ import annotations

import io
import re
import wave
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import aiohttp
import numpy as np
from pipecat.frames.frames import ErrorFrame, Frame, TTSStoppedFrame
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService

from voicebot.voice.compat import wav_audio_frames

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


class PiperHttpTTSService(TTSService):
    """POST {base_url}/synthesize {"text": ...} → WAV, streamed and resampled to the output rate."""

    def __init__(
        self, *, base_url: str, aiohttp_session: aiohttp.ClientSession, cache: SpeechCache | None = None, **kwargs: Any
    ) -> None:
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            settings=TTSSettings(model=None, voice=None, language=None),  # the voice is the server's
            text_transforms=[("*", say_dollar_amounts)],
            **kwargs,
        )
        self._url = base_url.rstrip("/") + "/synthesize"
        self._session = aiohttp_session
        self._cache = cache

    def can_generate_metrics(self) -> bool:
        return True

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame, None]:
        wav = self._cache.get(text) if self._cache else None
        try:
            if wav is None:
                async with self._session.post(self._url, json={"text": text}) as response:
                    if response.status != 200:
                        yield ErrorFrame(error=f"Piper HTTP {response.status}: {await response.text()}")
                        yield TTSStoppedFrame(context_id=context_id)
                        return
                    # Piper's server sends the WAV only once it is complete.
                    wav = trim_leading_silence(await response.read())
                if self._cache:
                    self._cache.put(text, wav)
            await self.start_tts_usage_metrics(text)
            # Piper's rate comes from the WAV header; the audio is resampled to the line's.
            async for frame in wav_audio_frames(self, _chunks(wav, self.chunk_size), context_id):
                await self.stop_ttfb_metrics()
                yield frame
        except (aiohttp.ClientError, TimeoutError) as error:
            yield ErrorFrame(error=f"Piper HTTP failed: {error}")
        finally:
            await self.stop_ttfb_metrics()
