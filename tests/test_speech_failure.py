"""When Piper dies mid-call the caller is not left in silence: they hear the pre-rendered apology,
the call goes to a person, and the call record says what they never heard."""

from __future__ import annotations

import asyncio
import io

import httpx
import numpy as np
import pytest
import soundfile
import soxr

from voicebot.credentials import carrier_key, service_headers
from voicebot.runtime.models import load_whisper
from voicebot.telephony.twilio.caller import fetch_call_record, place_call

pytestmark = pytest.mark.integration


def audible_s(pcm: np.ndarray, rate: int) -> float:
    """Seconds of the recording in 20 ms frames louder than a quiet line (about -40 dBFS)."""
    frame = rate // 50
    frames = pcm[: len(pcm) // frame * frame].reshape(-1, frame)
    return float((np.sqrt((frames**2).mean(axis=1)) > 0.01).sum() * 0.02)


def heard(settings, wav_path) -> str:
    audio, rate = soundfile.read(wav_path, dtype="float32")
    segments, _ = load_whisper(settings).transcribe(soxr.resample(audio, rate, 16000), language="en", beam_size=5)
    return " ".join(s.text for s in segments).lower()


def test_a_call_whose_speech_fails_hears_the_apology_and_is_handed_off(stack, say, tmp_path) -> None:
    settings = stack.settings
    question = say("Where is my order one zero six three four seven, please?")
    voice = stack.server.config.app.state.voice
    assert voice.apology.wav, "the apology was not pre-rendered at start-up"
    if voice.speech_cache:
        voice.speech_cache.max_bytes = 0  # nothing cached: every sentence of this call needs Piper
    stack.piper.process.kill()
    stack.piper.process.wait()
    out_wav = tmp_path / "bot.wav"
    try:
        result = asyncio.run(
            place_call(
                f"ws://{settings.host}:{settings.port}/telephony/twilio", [question], out_wav=out_wav,
                stay_on_line_s=4, key=carrier_key(settings),
            )
        )
        record = asyncio.run(fetch_call_record(settings.engine_url, result.call_id, service_headers(settings)))
    finally:
        if voice.speech_cache:
            voice.speech_cache.max_bytes = settings.speech_cache_mb * 2**20
        stack.piper.start()
        stack.piper.wait_ready(60, echo=lambda _: None)

    transcript = heard(settings, out_wav)
    assert "sorry" in transcript and "colleague" in transcript, transcript  # the pre-rendered apology
    # Once, not for every sentence that failed: the bot was audible about as long as the apology lasts.
    pcm, rate = soundfile.read(out_wav, dtype="float32")
    apology_s = len(soundfile.read(io.BytesIO(voice.apology.wav))[0]) / soundfile.info(io.BytesIO(voice.apology.wav)).samplerate
    # (Whisper may hear it twice: it repeats itself over the silence after speech.)
    assert 0.5 * apology_s < audible_s(pcm, rate) <= apology_s + 1.0, (audible_s(pcm, rate), apology_s)
    assert record["outcome"] == "handed_off", record["outcome"]
    handoff = httpx.get(f"{settings.engine_url}/api/v1/calls/{result.call_id}/handoff", headers=service_headers(settings)).json()
    assert handoff["reason"] == "internal_error"
    failed = [a for a in handoff["summary_json"]["bot_actions"] if a["action"] == "speech_failed"]
    assert failed and "voice failed" in failed[0]["text"]
    assert np.abs(pcm).max() > 0.05  # the line was not silent
