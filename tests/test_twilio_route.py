"""The Twilio Media Streams handshake: bad clients get a close code, the server keeps serving."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from pipecat.frames.frames import CancelWorkerFrame, InputAudioRawFrame, InputDTMFFrame
from pipecat.processors.frame_processor import FrameProcessorSetup
from starlette.websockets import WebSocketDisconnect

import voicebot.telephony.twilio.routes as twilio_route
from voicebot.dialogue.service import DialogueService
from voicebot.domain.records import QueuedHandoff
from voicebot.telephony.twilio.handshake import (
    MAX_MESSAGE_CHARS,
    call_from_start,
    stream_sid_from_start,
)
from voicebot.settings import Settings
from voicebot.telephony.twilio.access import CarrierAccess, twilio_signature
from voicebot.telephony.twilio.serializer import CheckedTwilioSerializer
from voicebot.voice.admission import CallAdmission
from voicebot.voice.carrier import CallInfo
from voicebot.voice.frames import BotTurnSpokenFrame

STREAM_SID = "MZ" + "0" * 32
CARRIER_KEY = "carrier-key-of-the-tests-0123456789abcdef"
START = {
    "event": "start",
    "streamSid": STREAM_SID,
    "start": {"streamSid": STREAM_SID, "callSid": "CA" + "1" * 32, "customParameters": {"caller": "+15550100", "key": CARRIER_KEY}},
}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[CallInfo, str]]:
    """Replaces the audio pipeline: a good handshake records the call (and its stream) and says goodbye."""
    started: list[tuple[CallInfo, str]] = []

    async def fake_run_call(websocket: WebSocket, call: CallInfo, serializer: object, resources: object) -> None:
        assert resources is app_resources
        assert isinstance(serializer, CheckedTwilioSerializer) and serializer.call is call
        started.append((call, serializer.stream_sid))
        await websocket.send_text(json.dumps({"event": "mark", "mark": {"name": "ok"}}))
        await websocket.close()

    monkeypatch.setattr(twilio_route, "run_call", fake_run_call)
    return started


app_resources = SimpleNamespace(admission=CallAdmission(max_calls=2, per_minute=100))  # VoiceResources stand-in


def carrier_app(tmp_path: Path, **settings: object) -> FastAPI:
    (tmp_path / "secrets").mkdir(exist_ok=True)
    (tmp_path / "secrets" / "carrier-key").write_text(CARRIER_KEY)
    app = FastAPI()
    app.state.voice = app_resources
    app.state.twilio_access = CarrierAccess(Settings(data_dir=tmp_path, **settings))
    app.include_router(twilio_route.router)
    return app


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(carrier_app(tmp_path))


def closed_with(client: TestClient, *messages: str) -> int:
    with client.websocket_connect("/telephony/twilio") as ws:
        for message in messages:
            ws.send_text(message)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    return closed.value.code


def test_non_json_is_closed_1003(client: TestClient, calls: list, caplog: pytest.LogCaptureFixture) -> None:
    assert closed_with(client, "hello, is this Twilio?") == 1003
    assert "not JSON" in caplog.text
    assert calls == []


def test_media_before_start_is_closed_1008(client: TestClient, calls: list) -> None:
    media = {"event": "media", "streamSid": STREAM_SID, "media": {"payload": ""}}
    assert closed_with(client, json.dumps({"event": "connected"}), json.dumps(media)) == 1008
    assert calls == []


def test_start_without_stream_sid_is_closed_1008(client: TestClient, calls: list) -> None:
    assert closed_with(client, json.dumps({"event": "start", "start": {}})) == 1008


def test_good_call_after_bad_ones_reaches_the_pipeline(client: TestClient, calls: list) -> None:
    assert closed_with(client, "{not json") == 1003
    assert closed_with(client, json.dumps({"event": "media"})) == 1008
    with client.websocket_connect("/telephony/twilio") as ws:
        ws.send_text(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        ws.send_text(json.dumps({"event": "dtmf"}))  # unknown before start: logged and ignored
        ws.send_text(json.dumps(START))
        assert json.loads(ws.receive_text())["mark"]["name"] == "ok"
    assert [(c.call_id, stream_sid, c.caller) for c, stream_sid in calls] == [(START["start"]["callSid"], STREAM_SID, "+15550100")]


def test_wrong_media_format_is_closed_1003(client: TestClient, calls: list, caplog: pytest.LogCaptureFixture) -> None:
    start = {**START, "start": {**START["start"], "mediaFormat": {"encoding": "audio/x-l16", "sampleRate": 16000, "channels": 1}}}
    assert closed_with(client, json.dumps(start)) == 1003
    assert "unsupported mediaFormat" in caplog.text and "audio/x-l16" in caplog.text
    assert calls == []


def test_oversized_message_before_start_is_closed_1003(client: TestClient, calls: list, caplog: pytest.LogCaptureFixture) -> None:
    huge = json.dumps({"event": "connected", "padding": "x" * (MAX_MESSAGE_CHARS + 1)})
    assert closed_with(client, huge) == 1003
    assert "limit" in caplog.text


def test_custom_parameters_reach_the_call(client: TestClient, calls: list) -> None:
    start = {**START, "start": {**START["start"], "customParameters": {"From": "+15550199", "campaign": "returns", "key": CARRIER_KEY}}}
    with client.websocket_connect("/telephony/twilio") as ws:
        ws.send_text(json.dumps(start))
        ws.receive_text()
    call, _ = calls[0]
    assert call.caller == "+15550199"
    assert call.parameters == {"From": "+15550199", "campaign": "returns"}  # the key is not passed on


async def test_a_handed_off_call_names_its_transfer_twiml_in_the_call_transfer_event() -> None:
    events: list[tuple[str, dict]] = []
    call = call_from_start(START)
    dialogue = DialogueService("http://127.0.0.1:9", calls=None, handoffs=None, publish=lambda kind, data: events.append((kind, data)))
    try:
        queued = QueuedHandoff(
            handoff_id=7, call_id=call.call_id, reason="caller_request", intent=None, queue="general", priority=1, position=1,
            expected_wait_s=180, announcement="Please hold.", collected={}, summary=None,
        )
        await dialogue.transfer_requested(call.call_id, queued, call.transfer)
    finally:
        await dialogue.close()
    call_sid = START["start"]["callSid"]
    assert json.dumps(events) == json.dumps(  # the fields and their order, as docs/events.md lists them
        [("call.transfer", {"call_id": call_sid, "handoff_id": 7, "queue": "general", "twiml_path": f"/telephony/twilio/transfer/{call_sid}"})]
    )


# --- after `start`: one bad message is dropped, the call goes on ------------------------


@pytest.fixture
async def serializer() -> CheckedTwilioSerializer:
    checked = CheckedTwilioSerializer(call_from_start(START), stream_sid_from_start(START))
    # Only the sample rates matter to a serializer; the clock and task manager are unused.
    await checked.setup(FrameProcessorSetup(clock=None, task_manager=None, pipeline_worker=None, audio_out_sample_rate=8000))
    return checked


def media(payload: str) -> str:
    return json.dumps({"event": "media", "streamSid": STREAM_SID, "media": {"track": "inbound", "payload": payload}})


async def audio_flows(serializer: CheckedTwilioSerializer) -> bool:
    """Some 20 ms frames of μ-law come out as 16 kHz audio (the resampler holds the first back)."""
    frame = media(base64.b64encode(b"\x7f" * 160).decode())
    frames = [await serializer.deserialize(frame) for _ in range(25)]
    return any(isinstance(f, InputAudioRawFrame) and f.sample_rate == 16000 for f in frames)


async def test_good_media_and_dtmf_become_frames(serializer) -> None:
    assert await audio_flows(serializer)
    key = await serializer.deserialize(json.dumps({"event": "dtmf", "dtmf": {"digit": "5"}}))
    assert isinstance(key, InputDTMFFrame) and key.button.value == "5"


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ("not json at all", "malformed message"),
        ("x" * (64 * 1024 + 1), "oversized message"),
        (media("%%%not-base64%%%"), "media with a payload that is not base64 μ-law"),
        (json.dumps({"event": "transcription", "text": "hi"}), "unknown event"),
        (json.dumps({"event": "dtmf", "dtmf": {"digit": "X"}}), None),  # not a key: ignored quietly
    ],
)
async def test_bad_messages_are_dropped_and_logged(serializer, message: str, problem: str | None, caplog) -> None:
    assert await serializer.deserialize(message) is None
    if problem:
        assert serializer.problems[problem] == 1
        assert problem in caplog.text
    # and the stream goes on
    assert await audio_flows(serializer)


async def test_repeated_problems_are_logged_sparingly(serializer, caplog) -> None:
    for _ in range(250):
        await serializer.deserialize("garbage")
    assert serializer.problems["malformed message"] == 250
    assert caplog.text.count("dropped malformed message") == 3  # the 1st, 100th and 200th


async def test_a_bot_turn_spoken_is_a_twilio_mark_on_the_stream(serializer) -> None:
    wire = await serializer.serialize(BotTurnSpokenFrame(3))
    assert wire == '{"event": "mark", "streamSid": "%s", "mark": {"name": "bot-turn-3"}}' % STREAM_SID


async def test_stop_ends_the_call(serializer) -> None:
    assert isinstance(await serializer.deserialize(json.dumps({"event": "stop", "streamSid": STREAM_SID})), CancelWorkerFrame)


def started(**changes: object) -> str:
    return json.dumps({**START, "start": {**START["start"], **changes}})


def test_a_stream_without_the_carrier_key_never_reaches_the_pipeline(client: TestClient, calls: list) -> None:
    assert closed_with(client, started(customParameters={"caller": "+15550100"})) == 1008
    assert closed_with(client, started(customParameters={"caller": "+15550100", "key": "guess"})) == 1008
    assert calls == []


def test_ids_and_parameters_no_twilio_stream_sends_are_refused(client: TestClient, calls: list) -> None:
    for bad in (
        {"callSid": "x/../../status?a="},  # would have been pasted into Rasa's tracker URL
        {"callSid": {"$ne": 1}},
        {"callSid": "C" * 60_000},
        {"customParameters": ["caller", "+15550100"]},  # crashed the handler, no close frame
        {"customParameters": {f"p{n}": "v" for n in range(50)}},
        {"customParameters": {"caller": "+1" * 300, "key": CARRIER_KEY}},
        {"streamSid": {"x": 1}},
    ):
        assert closed_with(client, started(**bad)) == 1008, bad
    assert calls == []


def test_calls_over_the_limit_are_refused_busy(client: TestClient, calls: list) -> None:
    admission = app_resources.admission
    taken = [admission.claim(), admission.claim()]  # two calls in progress: the limit
    try:
        assert taken == [None, None]
        assert closed_with(client, json.dumps(START)) == 1013
        assert calls == []
    finally:
        admission.release(), admission.release()
    with client.websocket_connect("/telephony/twilio") as ws:
        ws.send_text(json.dumps(START))
        assert json.loads(ws.receive_text())["mark"]["name"] == "ok"
    assert admission.active == 0  # the call's place was given back when it ended


def test_with_the_twilio_auth_token_only_signed_streams_are_taken(tmp_path: Path, calls: list) -> None:
    client = TestClient(carrier_app(tmp_path, twilio_auth_token="twilio-auth-token-0123"))
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/telephony/twilio", headers={"X-Twilio-Signature": "forged"}):
            pass
    url = "ws://testserver/telephony/twilio"
    signature = twilio_signature("twilio-auth-token-0123", url, {})
    unsigned_start = started(customParameters={"caller": "+15550100"})  # a signed stream needs no key
    with client.websocket_connect("/telephony/twilio", headers={"X-Twilio-Signature": signature}) as ws:
        ws.send_text(unsigned_start)
        assert json.loads(ws.receive_text())["mark"]["name"] == "ok"
    assert len(calls) == 1


def test_the_transfer_twiml_is_only_for_the_carrier(tmp_path: Path) -> None:
    app = carrier_app(tmp_path)
    transferred: list[str] = []

    def transfer(call_id: str) -> SimpleNamespace:
        transferred.append(call_id)
        return SimpleNamespace(queue="general", handoff_id=7)

    app.state.handoffs = SimpleNamespace(transfer=transfer)
    app.state.settings = Settings(data_dir=tmp_path)
    client = TestClient(app)
    path = "/telephony/twilio/transfer/CA123"
    assert client.post(path).status_code == 403 and client.get(path, params={"key": "guess"}).status_code == 403
    assert transferred == []  # a refused request takes no call out of the queue
    allowed = client.post(path, params={"key": CARRIER_KEY})
    assert allowed.status_code == 200 and "<Enqueue>general</Enqueue>" in allowed.text and transferred == ["CA123"]

    signed_app = carrier_app(tmp_path, twilio_auth_token="twilio-auth-token-0123")
    signed_app.state.handoffs, signed_app.state.settings = app.state.handoffs, app.state.settings
    signed = TestClient(signed_app)
    form = {"CallSid": "CA123", "From": "+15550100"}
    signature = twilio_signature("twilio-auth-token-0123", f"http://testserver{path}", form)
    assert signed.post(path, data=form, headers={"X-Twilio-Signature": "forged"}).status_code == 403
    assert signed.post(path, data=form, headers={"X-Twilio-Signature": signature}).status_code == 200
