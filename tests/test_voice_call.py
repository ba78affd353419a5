"""Phone calls end to end: a scripted caller on the Twilio WebSocket, real VAD, Whisper, Rasa and Piper.

The caller's speech is synthesised by the stack's own Piper server and sent as
μ-law 8 kHz telephone audio, in real time, by `voicebot.telephony.twilio.caller`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

import httpx
import numpy as np
import pytest
import soundfile
import soxr

from voicebot.credentials import carrier_key, service_headers
from voicebot.runtime.models import load_whisper
from voicebot.telephony.twilio.caller import fetch_call_record, merge, place_call

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings(stack):
    return stack.settings


def call(settings, turns, **kwargs) -> tuple[dict, object]:
    async def run():
        result = await place_call(f"ws://{settings.host}:{settings.port}/telephony/twilio", turns, key=carrier_key(settings), **kwargs)
        record = await fetch_call_record(settings.engine_url, result.call_id, service_headers(settings))
        return merge(result, record), result

    return asyncio.run(run())


def words(text: str) -> set[str]:
    """The words, with letters spelled out joined up: Whisper writes UPS as "UPS", "U.P.S.", "U-P-S" or "U P S"."""
    spelled = re.sub(r"\b([a-z])[.\s-]+(?=[a-z]\b)", r"\1", text.lower().replace(".", ". "))
    return set(re.findall(r"[a-z]+", spelled))


def test_order_status_by_voice_and_the_audio_says_what_the_text_says(settings, say, tmp_path):
    order = httpx.get(f"{settings.engine_url}/api/v1/orders/104233", headers=service_headers(settings)).json()
    merged, result = call(
        settings,
        [say("Where is my order?"), say("It's one zero four two three three.")],
        out_wav=tmp_path / "bot.wav",
    )
    first, second = merged["turns"]
    assert first["intent"] == "track_order" and "order number" in first["bot_text"]
    assert "104233" in second["bot_text"] and "on its way" in second["bot_text"]
    day = order["expected_delivery"]
    assert f"{int(day[8:10])}" in second["bot_text"]
    assert all(t["latency_ms"] > 0 for t in merged["turns"])

    # What the caller heard, transcribed back, says what bot_text says.
    audio, rate = soundfile.read(result.bot_audio, dtype="float32")
    model = load_whisper(settings)
    segments, _ = model.transcribe(soxr.resample(audio, rate, 16000), language="en", beam_size=1, temperature=0.0)
    heard = words(" ".join(s.text for s in segments))
    spoken = words(" ".join(t["bot_text"] for t in merged["turns"]))
    # The carrier's name is left out: Piper reads "UPS" as a word that Whisper hears as "ups" or "oops".
    assert {"order", "number", "way", "arrive"} <= heard, sorted(heard)
    assert len(heard & spoken) / len(spoken) > 0.6

    # The engine timed each spoken turn's stages.
    record = httpx.get(f"{settings.engine_url}/api/v1/calls/{merged['call_id']}", headers=service_headers(settings)).json()
    timed = [t["latency_ms"] for t in record["turns"] if t["caller_text"]]
    assert len(timed) == 2 and all(t and t["total"] > t["transcription"] > 0 for t in timed)

    # The call was recorded in stereo: the caller on the left, the bot on the right.
    recording, rate = soundfile.read(settings.data_dir / "recordings" / f"{merged['call_id']}.wav", dtype="float32")
    assert recording.ndim == 2 and recording.shape[1] == 2 and rate == 8000
    caller_track, bot_track = np.abs(recording).mean(axis=0)
    assert caller_track > 0.002 and bot_track > 0.002
    # The greeting, from its first sound (later on a busy machine): nobody else speaks.
    greeting_starts = int(np.flatnonzero(np.abs(recording[:, 1]) > 0.01)[0])
    bot_only = np.abs(recording[greeting_starts : greeting_starts + int(rate * 1.5)]).mean(axis=0)
    assert bot_only[1] > 10 * bot_only[0]


def test_order_number_keyed_in_on_the_keypad(settings, say):
    merged, _ = call(settings, [say("Where is my order?")], dtmf="104233#")
    assert merged["turns"][-1]["caller_text"] == "104233"
    assert "Order 104233" in merged["turns"][-1]["bot_text"]


def test_hanging_up_mid_sentence_closes_the_call_as_abandoned(settings, say):
    merged, result = call(settings, [say("Where is my order?")], hangup_after_s=2.0)
    assert result.hung_up_early
    record = httpx.get(f"{settings.engine_url}/api/v1/calls/{merged['call_id']}", headers=service_headers(settings)).json()
    assert record["outcome"] == "abandoned" and record["ended_at"]


def test_bad_media_messages_leave_the_server_serving(settings, say):
    import websockets

    async def send_garbage():
        async with websockets.connect(f"ws://{settings.host}:{settings.port}/telephony/twilio") as ws:
            await ws.send("this is not json")
            await asyncio.wait_for(ws.wait_closed(), 5)
            return ws.close_code

    assert asyncio.run(send_garbage()) == 1003
    merged, _ = call(settings, [say("Where is my order?")])
    assert merged["turns"][0]["intent"] == "track_order"


def test_caller_talking_over_the_bot_stops_it_and_is_answered(settings, say):
    barge_in_s = settings.barge_in_min_speech_s
    merged, result = call(
        settings, [say("Can you tell me where my order is right now please"), say("It's one zero four two three three.")],
        barge_in_after_s=1.0,
    )
    # One sentence with no pause inside: a pause between sentences may end the turn (the
    # turn-taking eval measures that); this test is about the bot going quiet.
    first, second = merged["turns"]
    # The caller spoke 1 s into the greeting: the bot went quiet once the speech was
    # long enough to be a barge-in (plus at most 300 ms), and sent `clear`.
    assert first["clear_ms"] is not None and first["clear_ms"] <= barge_in_s * 1000 + 300
    assert result.turns[0]["bot_audio_after_clear_s"] < 0.1
    assert first["intent"] == "track_order"
    assert "104233" in second["bot_text"]


def test_backchannel_over_the_bot_does_not_interrupt_it(settings, say):
    merged, result = call(settings, [say("Okay.")], barge_in_after_s=1.0)
    assert result.clears == 0
    greeting_s = result.greeting["bot_audio_s"] + result.turns[0]["bot_audio_s"]
    assert greeting_s > 3.0  # the whole greeting played
    record = httpx.get(f"{settings.engine_url}/api/v1/calls/{merged['call_id']}", headers=service_headers(settings)).json()
    assert [t["caller_text"] for t in record["turns"] if t["caller_text"]] == []  # "okay" was not a turn


def test_malformed_messages_mid_call_are_dropped_and_the_call_goes_on(settings, say, caplog):
    junk = [
        "not json",
        json.dumps({"event": "media", "streamSid": "MZx", "media": {"payload": "%%% not base64 %%%"}}),
        json.dumps({"event": "transcription", "text": "hello"}),
        json.dumps({"event": "media", "media": {"payload": "A" * 200_000}}),  # oversized
    ]
    with caplog.at_level(logging.WARNING, logger="voicebot.telephony.twilio.routes"):
        merged, _ = call(settings, [say("Where is my order?")], raw_after_start=junk)
    assert merged["turns"][0]["intent"] == "track_order"
    for problem in ("malformed message", "not base64", "unknown event", "limit"):
        assert problem in caplog.text


def test_caller_on_hold_books_a_call_back_by_voice(settings, say):
    merged, result = call(
        settings,
        [say("I'd like to speak to a person, please."), say("Can you call me back instead?"), say("Tomorrow at ten a.m.")],
        caller="+15125550166",
        stay_on_line_s=10,
    )
    assert "in the queue" in merged["turns"][0]["bot_text"]
    assert result.closed_by == "server"  # the bot said goodbye and hung up
    handoff = httpx.get(f"{settings.engine_url}/api/v1/calls/{result.call_id}/handoff", headers=service_headers(settings)).json()
    assert handoff["status"] == "callback"
    record = httpx.get(f"{settings.engine_url}/api/v1/calls/{result.call_id}", headers=service_headers(settings)).json()
    assert record["outcome"] == "handed_off"


def test_a_caller_who_goes_on_over_the_bots_answer_is_answered_for_both_parts(settings, say):
    from voicebot.domain.records import TURN_TAKEN_BACK
    from voicebot.store.repositories import Store
    from voicebot.store.session import make_engine, session_factory
    from voicebot.telephony.twilio.caller import Say, load_wav_8k, play_call

    first = Say(load_wav_8k(say("I have a question about my order.")), "first")
    # The caller goes on a moment after the bot began to answer, as a caller who only paused does.
    rest = Say(load_wav_8k(say("It's one zero four two three three. Where is it?")), "rest", barge_in_after_s=0.2)

    async def run():
        result = await play_call(f"ws://{settings.host}:{settings.port}/telephony/twilio", [first, rest], key=carrier_key(settings))
        return result, await fetch_call_record(settings.engine_url, result.call_id, service_headers(settings))

    result, record = asyncio.run(run())
    caller_turns = [t for t in record["turns"] if t["caller_text"]]
    assert len(caller_turns) == 1, caller_turns  # both parts, answered as one turn
    assert "question" in caller_turns[0]["caller_text"].lower() and "104233" in caller_turns[0]["bot_text"]
    engine = make_engine(settings.sqlalchemy_url)
    try:
        events = Store.open(session_factory(engine)).calls.call_events(result.call_id)
    finally:
        engine.dispose()
    taken_back = [e.detail for e in events if e.kind == TURN_TAKEN_BACK]
    assert len(taken_back) == 1 and "question" in taken_back[0]["caller_text"].lower() and taken_back[0]["bot_text"]
