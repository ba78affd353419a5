"""Text-to-speech through the Piper HTTP server, which runs in its own process.

piper-tts is GPL-3.0, so it lives in its own virtual environment and is only spoken to
over loopback HTTP. pipecat's own PiperHttpTTSService imports `piper` at module load,
which would pull the GPL package into the engine, hence this small client
(same request logic as pipecat's, BSD-2-Clause).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import aiohttp
from pipecat.frames.frames import ErrorFrame, Frame, TTSStoppedFrame
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService


class PiperHttpTTSService(TTSService):
    """POST {base_url}/synthesize {"text": ...} → WAV, streamed and resampled to the output rate."""

    def __init__(self, *, base_url: str, aiohttp_session: aiohttp.ClientSession, **kwargs: Any) -> None:
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            settings=TTSSettings(model=None, voice=None, language=None),  # the voice is the server's
            **kwargs,
        )
        self._url = base_url.rstrip("/") + "/synthesize"
        self._session = aiohttp_session

    def can_generate_metrics(self) -> bool:
        return True

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame, None]:
        try:
            async with self._session.post(self._url, json={"text": text}) as response:
                if response.status != 200:
                    yield ErrorFrame(error=f"Piper HTTP {response.status}: {await response.text()}")
                    yield TTSStoppedFrame(context_id=context_id)
                    return
                await self.start_tts_usage_metrics(text)
                async for frame in self._stream_audio_frames_from_iterator(
                    response.content.iter_chunked(self.chunk_size),
                    strip_wav_header=True,  # takes Piper's rate from the header and resamples
                    context_id=context_id,
                ):
                    await self.stop_ttfb_metrics()
                    yield frame
        except (aiohttp.ClientError, TimeoutError) as error:
            yield ErrorFrame(error=f"Piper HTTP failed: {error}")
        finally:
            await self.stop_ttfb_metrics()
