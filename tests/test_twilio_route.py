"""The Twilio Media Streams handshake: bad clients get a close code, the server keeps serving."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import telephony.twilio as twilio_route

STREAM_SID = "MZ" + "0" * 32
START = {
    "event": "start",
    "streamSid": STREAM_SID,
    "start": {"streamSid": STREAM_SID, "callSid": "CA" + "1" * 32, "customParameters": {"caller": "+15550100"}},
}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replaces the audio pipeline: a good handshake records the start message and says goodbye."""
    started: list[dict[str, Any]] = []

    async def fake_run_call(websocket: WebSocket, start_message: dict[str, Any], resources: object) -> None:
        assert resources is app_resources
        started.append(start_message)
        await websocket.send_text(json.dumps({"event": "mark", "mark": {"name": "ok"}}))
        await websocket.close()

    monkeypatch.setattr(twilio_route, "run_call", fake_run_call)
    return started


app_resources = object()  # VoiceResources stand-in: the bad-input paths never touch it


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.state.voice = app_resources
    app.include_router(twilio_route.router)
    return TestClient(app)


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
    assert [c["start"]["callSid"] for c in calls] == [START["start"]["callSid"]]
