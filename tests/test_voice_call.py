"""Phone calls end to end: a scripted caller on the Twilio WebSocket, real VAD, Whisper, Rasa and Piper.

The caller's speech is synthesised by the stack's own Piper server and sent as
μ-law 8 kHz telephone audio, in real time, by `voicebot.call_client`.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile
import soxr

from voicebot.call_client import fetch_call_record, merge, place_call
from voicebot.speech.models import load_whisper

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings(stack):
    return stack.settings


@pytest.fixture(scope="module")
def say(settings, tmp_path_factory):
    """Text → a WAV of the caller saying it (Piper, slightly slower than the bot's voice)."""
    folder = tmp_path_factory.mktemp("caller")

    def synthesise(text: str) -> Path:
        response = httpx.post(f"{settings.tts_url}/synthesize", json={"text": text, "length_scale": 1.1}, timeout=30)
        response.raise_for_status()
        path = folder / (re.sub(r"\W+", "_", text.lower())[:40] + ".wav")
        path.write_bytes(response.content)
        return path

    return synthesise


def call(settings, turns, **kwargs) -> tuple[dict, object]:
    async def run():
        result = await place_call(f"ws://{settings.host}:{settings.port}/telephony/twilio", turns, **kwargs)
        record = await fetch_call_record(settings.engine_url, result.call_id)
        return merge(result, record), result

    return asyncio.run(run())


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def test_order_status_by_voice_and_the_audio_says_what_the_text_says(settings, say, tmp_path):
    order = httpx.get(f"{settings.engine_url}/api/v1/orders/104233").json()
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
    assert {"order", "number", "way", "ups", "arrive"} <= heard
    assert len(heard & spoken) / len(spoken) > 0.6


def test_order_number_keyed_in_on_the_keypad(settings, say):
    merged, _ = call(settings, [say("Where is my order?")], dtmf="104233#")
    assert merged["turns"][-1]["caller_text"] == "104233"
    assert "Order 104233" in merged["turns"][-1]["bot_text"]


def test_hanging_up_mid_sentence_closes_the_call_as_abandoned(settings, say):
    merged, result = call(settings, [say("Where is my order?")], hangup_after_s=2.0)
    assert result.hung_up_early
    record = httpx.get(f"{settings.engine_url}/api/v1/calls/{merged['call_id']}").json()
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
