"""Caller ⇄ agent audio through the engine, for agents who take calls in the browser.

While a phone caller holds for a person, their call registers an `AgentAudioBridge`.
When the agent who accepted the call opens the desk's audio WebSocket, the bridge is
connected: the caller's audio (16 kHz 16-bit mono, as the pipeline hears it) is queued
for the agent's browser (`CallerAudioTap`), and the agent's microphone audio (the same
format) is spoken into the call in place of the bot (`AgentVoice`). Either side closing
ends the conversation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from pipecat.audio.utils import create_stream_resampler
from pipecat.frames.frames import Frame, InputAudioRawFrame, OutputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
BACKLOG = 100  # ~2 s of 20 ms frames: a stalled browser loses old audio, the call never waits


class AgentAudioBridge:
    def __init__(self, call_id: str, speak: Callable[[bytes], Awaitable[None]], end: Callable[[], Awaitable[None]]) -> None:
        self.call_id = call_id
        self._speak = speak  # pushes agent audio into the call
        self._end = end  # ends the call (the agent hung up)
        self.to_agent: asyncio.Queue[bytes] = asyncio.Queue(BACKLOG)
        self.connected = False

    def from_caller(self, pcm: bytes) -> None:
        """The caller's audio, as it arrives; kept only while an agent listens."""
        if not self.connected:
            return
        if self.to_agent.full():
            self.to_agent.get_nowait()
        self.to_agent.put_nowait(pcm)

    async def from_agent(self, pcm: bytes) -> None:
        if self.connected and pcm:
            await self._speak(pcm[: len(pcm) - len(pcm) % 2])  # whole 16-bit samples only

    def connect(self) -> None:
        logger.info("Call %s: agent audio connected", self.call_id)
        self.connected = True

    async def agent_left(self) -> None:
        logger.info("Call %s: agent audio closed, ending the call", self.call_id)
        self.connected = False
        await self._end()


class Bridges:
    """The bridges of the calls on hold in this engine, by call id."""

    def __init__(self) -> None:
        self._by_call: dict[str, AgentAudioBridge] = {}

    def add(self, bridge: AgentAudioBridge) -> None:
        self._by_call[bridge.call_id] = bridge

    def remove(self, call_id: str) -> None:
        self._by_call.pop(call_id, None)

    def get(self, call_id: str | None) -> AgentAudioBridge | None:
        return self._by_call.get(call_id) if call_id else None


class AgentVoice:
    """The agent's microphone audio as output audio frames at the line's rate, pushed by the call's processor."""

    def __init__(self, push_frame: Callable[[Frame], Awaitable[None]], sample_rate: int = 8000) -> None:
        self._push_frame = push_frame
        self.sample_rate = sample_rate  # the line's: the pipeline's output rate
        self._resampler = create_stream_resampler()

    async def say(self, pcm: bytes) -> None:
        audio = await self._resampler.resample(pcm, SAMPLE_RATE, self.sample_rate)
        await self._push_frame(OutputAudioRawFrame(audio=audio, sample_rate=self.sample_rate, num_channels=1))


class CallerAudioTap(FrameProcessor):
    """Copies the caller's audio to an agent listening on this call's bridge; passes every frame on.

    It sits right after the transport's input, before VAD and STT, so the agent hears the
    caller whatever the later processors keep of the audio (STT only passes it on when
    calls are recorded).
    """

    def __init__(self, bridges: Bridges, call_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._bridges = bridges
        self._call_id = call_id

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            bridge = self._bridges.get(self._call_id)
            if bridge is not None:
                bridge.from_caller(frame.audio)
        await self.push_frame(frame, direction)
