"""The pipecat private members voicebot/voice/compat.py relies on, checked against the installed pipecat.

One test per member: it still exists, has the signature compat.py calls it with, and
(where that is cheap) still does what compat.py says. A failure names the member and
says where to adapt.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import wave

import numpy as np
from pipecat.frames.frames import TTSAudioRawFrame, TTSSpeakFrame
from pipecat.pipeline.worker import PipelineParams
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.turns.user_idle_controller import UserIdleController
from pipecat.turns.user_turn_processor import UserTurnProcessor
from pipecat.turns.user_turn_strategies import ExternalUserTurnStrategies

from voicebot.voice import compat


def changed(owner: str, member: str, how: str = "no longer has") -> str:
    return f"pipecat {owner} {how} {member}: update voicebot/voice/compat.py"


def keyword_names(function) -> set[str]:
    return {p.name for p in inspect.signature(function).parameters.values() if p.kind is not p.VAR_POSITIONAL}


# --- UserTurnProcessor._user_idle_controller ---------------------------------------------


async def test_user_turn_processor_keeps_an_idle_controller_that_can_wait_for_the_user() -> None:
    processor = UserTurnProcessor(user_idle_timeout=0.1, user_turn_strategies=ExternalUserTurnStrategies())  # no turn model to load
    controller = getattr(processor, "_user_idle_controller", None)
    assert isinstance(controller, UserIdleController), changed("UserTurnProcessor", "_user_idle_controller (a UserIdleController)")
    wait = getattr(UserIdleController, "wait_for_user", None)
    assert wait is not None and inspect.iscoroutinefunction(wait), changed("UserIdleController", "async wait_for_user()")
    assert list(inspect.signature(wait).parameters) == ["self"], changed("UserIdleController", "wait_for_user(self)", "changed")

    # Behaviour: with nothing else arming it, waiting for the user times the silence.
    idle: list[float] = []

    @processor.event_handler("on_user_turn_idle")
    async def _idle(processor) -> None:
        idle.append(asyncio.get_running_loop().time())

    async def wait_soon() -> float:
        await asyncio.sleep(0.1)
        await compat.wait_for_user(processor)
        return asyncio.get_running_loop().time()

    _, waited_at = await asyncio.gather(run_test(processor, frames_to_send=[SleepFrame(1.0)]), wait_soon())
    assert len(idle) == 1 and idle[0] - waited_at >= 0.09, changed(
        "UserIdleController", "the idle event after wait_for_user() and the timeout", "no longer fires"
    )


# --- TTSService._stream_audio_frames_from_iterator -----------------------------------------


def wav(seconds: float, rate: int) -> bytes:
    samples = (np.sin(np.arange(int(seconds * rate)) / 3) * 8000).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()


class WavTTS(TTSService):
    """Speaks every sentence as the same 16 kHz WAV, through compat.wav_audio_frames."""

    def __init__(self, audio: bytes) -> None:
        super().__init__(push_start_frame=True, push_stop_frames=True, settings=TTSSettings(model=None, voice=None, language=None))
        self.audio = audio

    async def run_tts(self, text: str, context_id: str):
        async def chunks():
            for i in range(0, len(self.audio), 1000):
                yield self.audio[i : i + 1000]

        async for frame in compat.wav_audio_frames(self, chunks(), context_id):
            yield frame


async def test_tts_service_streams_a_wav_as_audio_frames_at_the_output_rate() -> None:
    stream = getattr(TTSService, "_stream_audio_frames_from_iterator", None)
    assert stream is not None, changed("TTSService", "_stream_audio_frames_from_iterator")
    assert inspect.isasyncgenfunction(stream), changed("TTSService", "_stream_audio_frames_from_iterator (an async generator)", "changed")
    parameters = inspect.signature(stream).parameters
    assert list(parameters)[:2] == ["self", "iterator"] and {"strip_wav_header", "context_id"} <= set(parameters), changed(
        "TTSService", "_stream_audio_frames_from_iterator(iterator, *, strip_wav_header, context_id)", "changed"
    )

    # Behaviour: the header is dropped, its rate read, the audio resampled to the line's 8 kHz.
    down, _ = await run_test(
        WavTTS(wav(0.5, 16000)),
        frames_to_send=[TTSSpeakFrame("Hello."), SleepFrame(0.5)],
        pipeline_params=PipelineParams(audio_out_sample_rate=8000),
    )
    audio = [f for f in down if isinstance(f, TTSAudioRawFrame)]
    assert audio and {f.sample_rate for f in audio} == {8000}, changed("TTSService", "resampling to the output rate", "stopped")
    seconds = sum(len(f.audio) for f in audio) / 2 / 8000
    assert 0.4 < seconds < 0.6, changed("TTSService", f"the WAV's length (got {seconds:.2f} s of 0.5 s)", "no longer keeps")


# --- pipecat.audio.turn.smart_turn._whisper_features ------------------------------------


def test_smart_turn_features_are_the_ones_pipecats_own_analyzer_feeds_the_model() -> None:
    from pipecat.audio.turn.smart_turn import _whisper_features
    from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3

    from voicebot.voice.smart_turn import TurnCompletionModel

    compute = getattr(_whisper_features, "compute_whisper_log_mel_features", None)
    assert compute is not None, changed("smart_turn._whisper_features", "compute_whisper_log_mel_features")
    assert "do_normalize" in keyword_names(compute), changed("smart_turn._whisper_features", "compute_whisper_log_mel_features(audio, *, do_normalize)", "changed")
    features = compat.smart_turn_features(np.zeros(8 * 16000, dtype=np.float32))
    assert features.shape == (80, 800), changed("smart_turn._whisper_features", f"the 80 x 800 log-mel shape (got {features.shape})", "changed")

    # Behaviour: our one shared session gives the probability pipecat's analyzer gives.
    rng = np.random.default_rng(7)
    t = np.arange(3 * 16000) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    theirs = LocalSmartTurnAnalyzerV3()._predict_endpoint(audio)["probability"]
    ours = TurnCompletionModel().probability(audio)
    assert abs(ours - theirs) < 1e-4, changed("LocalSmartTurnAnalyzerV3", f"its features or model (ours {ours:.4f}, theirs {theirs:.4f})", "changed")
