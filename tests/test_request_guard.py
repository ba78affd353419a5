"""The checks every request passes (voicebot/api/guard.py), on a small app of its own."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.websockets import WebSocketDisconnect

from voicebot.api.guard import MAX_BODY_BYTES, RequestGuard


class Note(BaseModel):
    text: str


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.add_middleware(RequestGuard, allowed_hosts=["127.0.0.1", "testserver", "bot.example.com"])

    @app.post("/notes")
    def add(note: Note) -> dict:
        return {"stored": note.text}

    @app.post("/telephony/twiml")
    def twiml() -> dict:
        return {"ok": True}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    return TestClient(app)


def test_only_known_host_names_are_answered(client: TestClient) -> None:
    assert client.post("/notes", json={"text": "x"}, headers={"Host": "bot.example.com:443"}).status_code == 200
    refused = client.post("/notes", json={"text": "x"}, headers={"Host": "rebound.attacker.example"})
    assert refused.status_code == 400 and refused.json()["error"] == "unknown_host"


def test_pages_of_other_origins_are_refused(client: TestClient) -> None:
    assert client.post("/notes", json={"text": "x"}, headers={"Origin": "http://testserver"}).status_code == 200
    for origin in ("http://attacker.example", "http://testserver:8081", "null"):
        assert client.post("/notes", json={"text": "x"}, headers={"Origin": origin}).status_code == 403, origin
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws", headers={"Origin": "http://attacker.example"}) as ws:
            ws.receive_text()
    with client.websocket_connect("/ws") as ws:  # no Origin: not a browser
        assert ws.receive_text() == "hello"


def test_state_changes_take_json_only_and_bounded_bodies(client: TestClient) -> None:
    form = client.post("/notes", content=b"text=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415 and form.json()["error"] == "json_only"
    assert client.post("/notes", content=b'{"text": "x"}', headers={"Content-Type": "text/plain"}).status_code == 415
    assert client.post("/telephony/twiml", content=b"CallSid=CA1", headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 200
    big = client.post("/notes", json={"text": "x" * MAX_BODY_BYTES})
    assert big.status_code == 413 and big.json()["error"] == "too_large"
    surrogate = client.post("/notes", content=b'{"text": "a \\ud800 b"}', headers={"Content-Type": "application/json"})
    assert surrogate.status_code == 422 and surrogate.json()["error"] == "invalid_text"
    assert client.post("/notes", content='{"text": "caf\u00e9 \U0001F600"}'.encode(), headers={"Content-Type": "application/json"}).json() == {"stored": "caf\u00e9 \U0001F600"}


def test_answers_carry_the_security_headers(client: TestClient) -> None:
    for response in (client.post("/notes", json={"text": "x"}), client.post("/notes", json={}, headers={"Host": "evil.example"})):
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store" and response.headers["referrer-policy"] == "no-referrer"


async def test_with_an_internal_port_the_data_api_is_not_on_the_public_one() -> None:
    import httpx

    app = FastAPI()
    app.add_middleware(RequestGuard, allowed_hosts=["127.0.0.1"], internal_port=9091)

    @app.get("/api/v1/orders")
    def orders() -> list:
        return []

    @app.get("/api/v1/desk/me")
    def me() -> dict:
        return {}

    @app.get("/health")
    def health() -> dict:
        return {}

    transport = httpx.ASGITransport(app=app)  # the request's port is the server's, as on a real socket
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as public, httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1:9091"
    ) as internal:
        assert (await public.get("/api/v1/orders")).status_code == 404
        assert (await public.get("/api/v1/desk/me")).status_code == 200 and (await public.get("/health")).status_code == 200
        assert (await internal.get("/api/v1/orders")).status_code == 200
