"""A part of the bot dies during a phone call: the caller is not left in silence. They hear an
apology, the call goes to a person, and the call record says what happened.

Piper dead: the apology pre-rendered at start-up, and the record notes what was never said.
Rasa or the action server dead: the dialogue's own apology, spoken by Piper.
"""

from __future__ import annotations

import asyncio
import io

import httpx
import numpy as np
import pytest
import soundfile
import soxr

from sqlalchemy import select

from voicebot.credentials import carrier_key, service_headers
from voicebot.runtime.models import load_whisper
from voicebot.store.models import Call
from voicebot.store.session import make_engine, session_factory
from voicebot.telephony.twilio.caller import Say, Wait, fetch_call_record, load_wav_8k, place_call, play_call

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
    cache, voice.speech_cache = voice.speech_cache, None  # no sentence cached by earlier calls: each one needs Piper
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
        voice.speech_cache = cache
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


@pytest.mark.parametrize("child", ["rasa", "action_server"])
def test_a_dialogue_process_killed_mid_call_gives_an_apology_and_a_handoff(stack, say, tmp_path, child) -> None:
    settings = stack.settings
    process = stack.rasa.children[child]
    first, second = say("Where is my order?"), say("It's one zero four two three three.")
    database = make_engine(settings.sqlalchemy_url)
    sessions = session_factory(database)
    out_wav = tmp_path / "bot.wav"

    def answered_calls() -> set[str]:
        with sessions() as session:
            return set(session.scalars(select(Call.id).where(Call.turn_count >= 2, Call.ended_at.is_(None))))

    async def scenario():
        before = answered_calls()
        steps = [Say(load_wav_8k(first), "first"), Wait(1.5), Say(load_wav_8k(second), "second")]
        call = asyncio.create_task(
            play_call(f"ws://{settings.host}:{settings.port}/telephony/twilio", steps, out_wav, stay_on_line_s=3, key=carrier_key(settings))
        )
        while not (await asyncio.to_thread(answered_calls)) - before:  # the first question is answered: the child dies now
            assert not call.done(), "the call ended before its first answer"
            await asyncio.sleep(0.1)
        process.process.kill()
        return await call

    try:
        result = asyncio.run(scenario())
    finally:
        process.process.wait()
        stack.rasa.restart_dead()
        stack.rasa.wait_ready(180, echo=lambda _: None)
        database.dispose()
    record = asyncio.run(fetch_call_record(settings.engine_url, result.call_id, service_headers(settings)))
    assert record["outcome"] == "handed_off"
    callers = [t for t in record["turns"] if t["caller_text"]]
    assert "order number" in callers[0]["bot_text"]  # answered while everything ran
    assert "sorry" in callers[1]["bot_text"].lower() and "colleague" in callers[1]["bot_text"]
    transcript = heard(settings, out_wav)
    assert "sorry" in transcript and "colleague" in transcript, transcript  # and the caller heard it
    handoff = httpx.get(f"{settings.engine_url}/api/v1/calls/{result.call_id}/handoff", headers=service_headers(settings)).json()
    assert handoff["reason"] == "internal_error" and handoff["status"] in ("waiting", "abandoned")
