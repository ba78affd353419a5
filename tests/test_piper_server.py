"""Piper speaks a sentence on loopback and Whisper understands it: the voice loop's two ends."""

from __future__ import annotations

import io
import os
import time
import wave

import httpx
import numpy as np
import pytest

from tests.pg_server import free_port
from voicebot.runtime.models import load_whisper
from voicebot.runtime.piper import PiperServer
from voicebot.settings import Settings

pytestmark = pytest.mark.integration

SENTENCE = "Your order is on its way."


@pytest.fixture(scope="module")
def piper_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("piper"), tts_port=free_port())
    if not (settings.piper_venv / "bin" / "python").exists():
        pytest.skip(f"{settings.piper_venv} not set up (make setup)")
    return settings


def test_piper_speaks_and_whisper_understands(piper_settings: Settings) -> None:
    settings = piper_settings
    server = PiperServer(settings)
    started = time.monotonic()
    server.start()
    pid = server.process.pid
    try:
        server.wait_ready(60, echo=lambda _: None)
        ready_s = time.monotonic() - started
        started = time.monotonic()
        response = httpx.post(f"{settings.tts_url}/synthesize", json={"text": SENTENCE}, timeout=30)
        synth_s = time.monotonic() - started
        info = httpx.get(f"{settings.tts_url}/info").json()
        others = [httpx.get(f"{settings.tts_url}/").status_code, httpx.post(f"{settings.tts_url}/download", json={"voice": "x"}).status_code]
    finally:
        server.stop()
    # Only what the engine uses is served, and nobody can read back what was last said to a caller.
    assert info["voice"]["name"] and "last" not in info and SENTENCE not in str(info)
    assert others == [404, 404]
    assert response.status_code == 200
    assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WAVE"
    with wave.open(io.BytesIO(response.content)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (22050, 1, 2)
        duration = wav.getnframes() / wav.getframerate()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    assert 0.8 < duration < 5.0, duration

    # The server is gone: its process (and group) no longer exists, the port is free again.
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert server.process is None and not server.healthy()

    import soxr

    audio = soxr.resample(pcm.astype(np.float32) / 32768.0, 22050, 16000)
    started = time.monotonic()
    model = load_whisper(settings, echo=lambda _: None)
    load_s = time.monotonic() - started
    started = time.monotonic()
    # Piper's voice varies a little run to run (noise_scale); beam 5 and the shop prompt keep "order" an order.
    segments, _ = model.transcribe(audio, language="en", beam_size=5, initial_prompt=settings.whisper_initial_prompt)
    transcript = " ".join(segment.text for segment in segments).lower()
    transcribe_s = time.monotonic() - started
    print(
        f"\npiper ready {ready_s:.1f} s, synth {synth_s:.2f} s for {duration:.2f} s audio, "
        f"whisper prepare+load {load_s:.1f} s, transcribe {transcribe_s:.2f} s: {transcript!r}"
    )
    assert "order" in transcript and "way" in transcript, transcript


def test_dead_server_is_restarted(piper_settings: Settings) -> None:
    server = PiperServer(piper_settings)
    server.start()
    try:
        server.wait_ready(60, echo=lambda _: None)
        assert not server.restart_if_dead()
        server.process.kill()
        server.process.wait(timeout=10)
        assert server.dead()
        assert server.restart_if_dead()
        server.wait_ready(60, echo=lambda _: None)
        assert server.healthy()
    finally:
        server.stop()
    assert not server.healthy()
    log = piper_settings.data_dir / "logs" / "piper.log"
    assert log.is_file() and log.stat().st_size > 0


async def test_prices_are_spoken_so_a_caller_hears_the_right_amount(piper_settings: Settings) -> None:
    """Piper says "$4.99" so that it is heard back as "$1.99"; the TTS step rewrites it first."""
    import aiohttp
    import soxr
    from pipecat.frames.frames import TTSAudioRawFrame, TTSSpeakFrame
    from pipecat.tests.utils import run_test

    from voicebot.voice.tts import PiperHttpTTSService

    server = PiperServer(piper_settings)
    server.start()
    try:
        server.wait_ready(60, echo=lambda _: None)
        async with aiohttp.ClientSession() as session:
            tts = PiperHttpTTSService(base_url=piper_settings.tts_url, aiohttp_session=session)
            down, _ = await run_test(tts, frames_to_send=[TTSSpeakFrame("Standard delivery is $4.99.")])
    finally:
        server.stop()
    audio = [f for f in down if isinstance(f, TTSAudioRawFrame)]
    assert audio
    pcm = np.frombuffer(b"".join(f.audio for f in audio), dtype=np.int16).astype(np.float32) / 32768.0
    model = load_whisper(piper_settings, echo=lambda _: None)
    segments, _ = model.transcribe(soxr.resample(pcm, audio[0].sample_rate, 16000), language="en", beam_size=5)
    transcript = " ".join(s.text for s in segments).lower()
    assert "4.99" in transcript and "1.99" not in transcript, transcript
