"""One phone call's audio pipeline, and what every call in the process shares.

Per call: the carrier's websocket in → Silero VAD → Whisper → CallDialogueProcessor →
Piper → the carrier's websocket out. Per process (`VoiceResources`): the loaded Whisper
and Smart Turn models, the HTTP session to Piper and the DialogueService, so a new call
costs no model load.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
import numpy as np
from fastapi import WebSocket
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.audio.vad_processor import VADProcessor
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.transports.websocket.fastapi import (
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)
from pipecat.workers.runner import WorkerRunner

from voicebot.dialogue.service import DialogueService
from voicebot.prompts import say
from voicebot.settings import Settings
from voicebot.voice.admission import CallAdmission
from voicebot.voice.bridge import Bridges, CallerAudioTap
from voicebot.voice.call import CallDialogueProcessor
from voicebot.voice.carrier import CallInfo
from voicebot.voice.latency import TurnLatencyObserver
from voicebot.voice.recording import CallRecording
from voicebot.voice.smart_turn import TurnCompletionModel
from voicebot.voice.stt import SharedWhisperSTTService
from voicebot.voice.tts import Apology, PiperHttpTTSService, SpeechCache
from voicebot.voice.turns import TurnEndRule
from voicebot.voice.vad import caller_vad
from voicebot.voice.whisper import transcribe_turn

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

logger = logging.getLogger(__name__)

CALL_IDLE_TIMEOUT_S = 120.0  # nobody spoke at all for this long: the line is dead


def release_freed_memory() -> None:
    """Frees what the last call left behind, once no call is running.

    A finished call's pipeline sits in reference cycles that hold megabytes of native
    buffers (ONNX VAD state, resamplers, audio); Python frees them only at its next
    full collection, so resident memory climbed ~4 MB a call until one happened
    (`voicebot-eval soak`). A full collection stalls the event loop for a moment, so
    it runs only while the line is idle; then glibc hands its free pages back to the OS.
    """
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _glibc()


@dataclass
class VoiceResources:
    """Shared by every call in the process; build once at start-up, close at shutdown."""

    settings: Settings
    dialogue: DialogueService
    whisper: "WhisperModel"
    http: aiohttp.ClientSession
    admission: CallAdmission  # the carriers' limit on calls at once and per minute
    apology: Apology  # what a caller hears when speech fails (rendered in the background at start-up)
    speech_cache: SpeechCache | None = None
    turn_model: TurnCompletionModel | None = None  # Smart Turn, unless VOICEBOT_TURN_DETECTOR=pause
    active_calls: int = 0
    bridges: Bridges = field(default_factory=Bridges)  # calls on hold that an agent's browser can join
    apology_rendering: asyncio.Task | None = None

    @classmethod
    async def open(cls, settings: Settings, dialogue: DialogueService, whisper: "WhisperModel") -> "VoiceResources":
        """Warms the loaded Whisper model up (off the event loop) and opens the HTTP session to Piper."""
        # The first decode allocates the decoder's buffers: pay that now, not on a caller's turn.
        await asyncio.to_thread(transcribe_turn, whisper, np.zeros(16000, dtype=np.float32))
        turn_model = None
        if settings.turn_detector == "smart-turn":
            turn_model = await asyncio.to_thread(TurnCompletionModel)
            await asyncio.to_thread(turn_model.probability, np.zeros(16000, dtype=np.float32))
        cache = SpeechCache(settings.speech_cache_mb * 2**20) if settings.speech_cache_mb > 0 else None
        resources = cls(
            settings=settings, dialogue=dialogue, whisper=whisper, http=aiohttp.ClientSession(),
            speech_cache=cache, turn_model=turn_model,
            admission=CallAdmission(settings.max_calls, settings.max_calls_per_minute),
            apology=Apology(say("apology_handoff")),
        )
        resources.apology_rendering = asyncio.create_task(resources.apology.render(resources.http, settings.tts_url))
        return resources

    async def close(self) -> None:
        if self.apology_rendering:
            self.apology_rendering.cancel()
        await self.http.close()


async def run_call(
    websocket: WebSocket, call: CallInfo, serializer: FrameSerializer, resources: VoiceResources
) -> None:
    """Runs one call to its end (bot ended it, caller hung up, or the line went dead).

    `call` and `serializer` come from the carrier (see voice/carrier.py): the serializer
    speaks its websocket protocol.
    """
    settings = resources.settings
    call_id = call.call_id
    logger.info("Call %s from %s", call_id, call.caller or "unknown")

    transport = FastAPIWebsocketTransport(
        websocket=websocket,
        params=FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            add_wav_header=False,
            serializer=serializer,
            audio_out_10ms_chunks=2,  # 20 ms media messages, as phone carriers send them
        ),
    )
    vad = VADProcessor(vad_analyzer=caller_vad(settings))
    stt = SharedWhisperSTTService(
        whisper_model=resources.whisper,
        model_name=settings.whisper_model,
        beam_size=settings.whisper_beam_size,
        initial_prompt=settings.whisper_initial_prompt or None,
        prompt_when=settings.whisper_prompt_when,
        audio_passthrough=True,  # the turn-stop strategy (Smart Turn) and the recorder hear the caller after STT
    )
    dialogue = CallDialogueProcessor(
        dialogue=resources.dialogue,
        call=call,
        dtmf_timeout_s=settings.dtmf_timeout_s,
        silence_timeout_s=settings.silence_timeout_s,
        max_silences=settings.silence_max_prompts,
        barge_in_min_speech_s=settings.barge_in_min_speech_s,
        turn_rule=TurnEndRule.from_settings(settings),
        turn_model=resources.turn_model,
        hold_announce_s=settings.hold_announce_s,
        bridges=resources.bridges,
    )
    tts = PiperHttpTTSService(
        base_url=settings.tts_url, aiohttp_session=resources.http, cache=resources.speech_cache, apology=resources.apology
    )

    async def record_latency(stages: dict[str, float]) -> None:
        logger.info("Call %s: caller stopped → bot speaking in %.0f ms %s", call_id, stages["total"], stages)
        await resources.dialogue.record_latency(call_id, stages)

    tap = CallerAudioTap(resources.bridges, call_id)  # the caller's line to an agent's browser, once on hold
    processors = [transport.input(), tap, vad, stt, dialogue, tts, transport.output()]
    recording = CallRecording(settings.data_dir / "recordings" / f"{call_id}.wav") if settings.record_calls else None
    if recording:
        processors.append(recording.processor())
    worker = PipelineWorker(
        Pipeline(processors),
        params=PipelineParams(
            audio_in_sample_rate=16000,  # Whisper and Silero want 16 kHz; the serializer upsamples the line's audio
            audio_out_sample_rate=8000,  # TTS resamples once, to the line's rate; the serializer only encodes
            enable_metrics=True,
        ),
        enable_rtvi=False,  # no RTVI client on a phone line
        idle_timeout_secs=CALL_IDLE_TIMEOUT_S,
        observers=[TurnLatencyObserver(record_latency)],
    )

    @transport.event_handler("on_client_connected")
    async def _connected(transport: FastAPIWebsocketTransport, websocket: WebSocket) -> None:
        await dialogue.greet()

    @transport.event_handler("on_client_disconnected")
    async def _disconnected(transport: FastAPIWebsocketTransport, websocket: WebSocket) -> None:
        await dialogue.hang_up()
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=False)  # uvicorn owns the signals
    await runner.add_workers(worker)
    resources.active_calls += 1
    try:
        await runner.run()
    finally:
        resources.active_calls -= 1
        if recording:
            recording.close()
        if resources.active_calls == 0:
            release_freed_memory()
        await dialogue.hang_up()  # no-op when the call already ended; covers a dead line
        logger.info("Call %s finished: %s", call_id, dialogue.outcome)
