"""The order, call and handoff HTTP API: routes, status codes and JSON bodies."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from voicebot.api import calls, orders
from voicebot.api.errors import install_error_handlers
from voicebot.handoff.routing import load_rules
from voicebot.handoff.service import HandoffService
from voicebot.store import make_engine, session_factory
from voicebot.store.repositories import Store
from voicebot.store.seed import FIXED_ORDERS

DEMO = {o.number: o for o in FIXED_ORDERS}
IN_TRANSIT, PENDING, PAID, DELIVERED_RECENT, DELIVERED_OLD = "104233", "100512", "101874", "106347", "107081"
SERVICE_TOKEN = "service-token-of-the-tests-0123456789abcdef"


def _app(store: Store) -> FastAPI:
    app = FastAPI()
    app.include_router(orders.router)
    app.include_router(calls.router)
    install_error_handlers(app)
    app.state.store = store
    app.state.handoffs = HandoffService(store, load_rules())
    app.state.service_token = SERVICE_TOKEN
    return app


def authorised(app: FastAPI) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})


@pytest.fixture
def client(db_url: str):
    engine = make_engine(db_url)
    with authorised(_app(Store.open(session_factory(engine)))) as client:
        yield client
    engine.dispose()


def test_list_orders(client: TestClient) -> None:
    response = client.get("/api/v1/orders")
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) >= 240
    assert {"order_number": IN_TRANSIT, "status": "in_transit", "customer": "Maria Garcia"}.items() <= next(
        r for r in rows if r["order_number"] == IN_TRANSIT
    ).items()


def test_get_order(client: TestClient) -> None:
    response = client.get(f"/api/v1/orders/{IN_TRANSIT}")
    assert response.status_code == 200
    body = response.json()
    assert body["order_number"] == IN_TRANSIT and body["status"] == "in_transit"
    assert body["carrier"] == "UPS" and body["last_event"]["code"]
    assert body["shipping_address"]["postcode"] == "78704"


def test_unknown_order_is_404(client: TestClient) -> None:
    for method, path in (
        ("get", "/api/v1/orders/999999"),
        ("post", "/api/v1/orders/999999/cancel"),
        ("get", "/api/v1/orders/999999/refunds"),
    ):
        response = client.request(method, path)
        assert response.status_code == 404
        assert response.json() == {"error": "order_not_found", "message": "No order with number 999999."}


@pytest.mark.parametrize("number", ["abc", "10423x", "1" * 13, "-1"])
def test_order_number_must_be_digits(client: TestClient, number: str) -> None:
    response = client.get(f"/api/v1/orders/{number}")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error" and body["message"].startswith("path.number")


def test_cancel(client: TestClient) -> None:
    response = client.post(f"/api/v1/orders/{PAID}/cancel", json={"call_id": "c-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["order"]["status"] == "cancelled"
    assert body["refund"]["status"] == "processing" and isinstance(body["ticket_id"], int)

    response = client.post(f"/api/v1/orders/{PENDING}/cancel")  # the body is optional
    assert response.status_code == 200 and response.json()["refund"] is None

    response = client.post(f"/api/v1/orders/{PAID}/cancel")
    assert response.status_code == 409
    assert response.json()["error"] == "already_cancelled"

    response = client.post(f"/api/v1/orders/{IN_TRANSIT}/cancel")
    assert response.status_code == 409
    assert response.json() == {
        "error": "already_shipped",
        "message": f"Order {IN_TRANSIT} is in transit and can no longer be cancelled.",
    }


def test_verify(client: TestClient) -> None:
    demo = DEMO[IN_TRANSIT]
    url = f"/api/v1/orders/{IN_TRANSIT}/verify"
    assert client.post(url, json={"phone_last4": demo.phone_last4}).json() == {
        "order_number": IN_TRANSIT,
        "verified": True,
    }
    assert client.post(url, json={"postcode": demo.postcode}).json()["verified"] is True
    assert client.post(url, json={"phone_last4": "9999"}).json()["verified"] is False
    for bad in ({}, {"phone_last4": "12"}, {"postcode": "ABCDE"}):
        response = client.post(url, json=bad)
        assert response.status_code == 422 and response.json()["error"] == "validation_error"


def test_change_address(client: TestClient) -> None:
    demo = DEMO[PENDING]
    url = f"/api/v1/orders/{PENDING}/address"
    response = client.post(url, json={"address": "1 Elm St, Dayton, OH", "postcode": "45402", "phone_last4": "0000"})
    assert response.status_code == 409 and response.json()["error"] == "identity_check_failed"

    response = client.post(
        url, json={"address": "1 Elm St, Dayton, OH", "postcode": "45402", "postcode_check": demo.postcode}
    )
    assert response.status_code == 200
    assert response.json()["order"]["shipping_address"] == {
        "line": "1 Elm St",
        "city": "Dayton",
        "state": "OH",
        "postcode": "45402",
    }

    response = client.post(
        f"/api/v1/orders/{IN_TRANSIT}/address",
        json={"address": "1 Elm St, Austin, TX", "phone_last4": DEMO[IN_TRANSIT].phone_last4},
    )
    assert response.status_code == 409 and response.json()["error"] == "already_shipped"

    response = client.post(url, json={"address": "x", "phone_last4": demo.phone_last4})
    assert response.status_code == 422


def test_refunds(client: TestClient) -> None:
    url = f"/api/v1/orders/{DELIVERED_RECENT}/refunds"
    assert client.get(url).json() == {"order_number": DELIVERED_RECENT, "refunds": []}

    response = client.post(url, json={"reason": "Wrong size", "call_id": "c-2"})
    assert response.status_code == 201
    created = response.json()
    assert created["refund"]["status"] == "requested" and isinstance(created["ticket_id"], int)
    assert client.get(url).json()["refunds"] == [created["refund"]]

    response = client.post(url, json={"reason": "Wrong size"})
    assert response.status_code == 409 and response.json()["error"] == "refund_already_requested"

    response = client.post(f"/api/v1/orders/{DELIVERED_OLD}/refunds", json={"reason": "Broken"})
    assert response.status_code == 409 and response.json()["error"] == "outside_return_window"

    response = client.post(f"/api/v1/orders/{IN_TRANSIT}/refunds", json={"reason": "Broken"})
    assert response.status_code == 409 and response.json()["error"] == "not_delivered"

    response = client.post(url, json={})
    assert response.status_code == 422 and response.json()["message"].startswith("reason")


def test_handoff(client: TestClient) -> None:
    response = client.post(
        "/api/v1/handoffs",
        json={
            "call_id": "c-3",
            "reason": "contact_human_agent",
            "intent": "track_order",
            "collected": {"order_number": IN_TRANSIT},
            "order_number": IN_TRANSIT,
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert isinstance(body["handoff_id"], int)
    assert (body["queue"], body["priority"], body["position"]) == ("logistics", 4, 1)
    assert body["expected_wait_s"] == 180
    assert body["summary"]["orders"][0]["order_number"] == IN_TRANSIT
    assert client.post("/api/v1/handoffs", json={"call_id": "c-3"}).status_code == 422


def test_handoff_summary_tells_what_the_bot_did_on_the_call(client: TestClient) -> None:
    shipped = next(o for o in FIXED_ORDERS if o.status == "shipped")
    client.post("/api/v1/calls", json={"call_id": "c-9", "caller": shipped.phone, "channel": "phone"})
    client.post("/api/v1/calls/c-9/turns", json={"caller_text": "cancel my order please", "intent": "cancel_order"})
    assert client.get(f"/api/v1/orders/{shipped.number}", params={"call_id": "c-9"}).status_code == 200
    assert client.post(f"/api/v1/orders/{shipped.number}/cancel", json={"call_id": "c-9"}).status_code == 409
    queued = client.post(
        "/api/v1/handoffs",
        json={"call_id": "c-9", "reason": "contact_human_agent", "intent": "contact_human_agent",
              "collected": {"task": "cancel_order", "order_number": shipped.number}},
    ).json()
    stored = client.get("/api/v1/calls/c-9/handoff").json()
    assert stored["handoff_id"] == queued["handoff_id"] and stored["status"] == "waiting"
    summary = stored["summary_json"]
    assert summary["caller"]["name"] == f"{shipped.first_name} {shipped.last_name}" and summary["caller"]["phone"] == shipped.phone
    assert summary["orders"][0] == {**summary["orders"][0], "order_number": shipped.number, "status": "shipped"}
    assert [a["text"] for a in summary["bot_actions"]] == [f"cancellation of order {shipped.number} refused: already shipped"]
    assert summary["intents"] == ["cancel_order"] and summary["quotes"] == ["cancel my order please"]
    assert stored["summary"] == summary["text"] and "refused: already shipped" in stored["summary"]
    assert client.get("/api/v1/calls/no-such-call/handoff").status_code == 404


def test_call_lifecycle(client: TestClient) -> None:
    response = client.post("/api/v1/calls", json={"caller": "+15125550147", "channel": "phone"})
    assert response.status_code == 201
    call_id = response.json()["id"]

    response = client.post(
        f"/api/v1/calls/{call_id}/turns",
        json={"caller_text": "where is my order", "intent": "track_order", "confidence": 0.9, "bot_text": "Sure."},
    )
    assert response.status_code == 201 and response.json()["seq"] == 1

    response = client.post(f"/api/v1/calls/{call_id}/end", json={"outcome": "resolved"})
    assert response.status_code == 200 and response.json()["outcome"] == "resolved"

    call = client.get(f"/api/v1/calls/{call_id}").json()
    assert call["channel"] == "phone" and [t["intent"] for t in call["turns"]] == ["track_order"]

    response = client.post(f"/api/v1/calls/{call_id}/end", json={"outcome": "resolved"})
    assert response.status_code == 409 and response.json()["error"] == "call_ended"

    assert client.post("/api/v1/calls").status_code == 201  # the body is optional
    assert client.post(f"/api/v1/calls/{call_id}/end", json={"outcome": "great"}).status_code == 422
    assert client.post("/api/v1/calls", json={"channel": "fax"}).status_code == 422

    response = client.get("/api/v1/calls/unknown")
    assert response.status_code == 404 and response.json()["error"] == "call_not_found"


def test_database_down_is_503(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = make_engine(f"postgresql+psycopg://voicebot@127.0.0.1:{port}/voicebot")
    try:
        with authorised(_app(Store.open(session_factory(engine)))) as client:
            for method, path in (("get", f"/api/v1/orders/{IN_TRANSIT}"), ("post", "/api/v1/calls")):
                response = client.request(method, path)
                assert response.status_code == 503
                assert response.json()["error"] == "database_unavailable"
                assert "password" not in response.text
    finally:
        engine.dispose()


def test_turns_written_over_the_api_are_redacted_like_every_other(client: TestClient) -> None:
    """The call repository redacts on write, so this route stores no card number either."""
    call_id = client.post("/api/v1/calls", json={"channel": "text"}).json()["id"]
    stored = client.post(
        f"/api/v1/calls/{call_id}/turns",
        json={"caller_text": "my card is 4111 1111 1111 1111 and the code is 123", "bot_text": "Thanks, card 4111111111111111."},
    ).json()
    read_back = client.get(f"/api/v1/calls/{call_id}").json()["turns"][0]
    for turn in (stored, read_back):
        assert "4111" not in turn["caller_text"] and "4111" not in turn["bot_text"]
    assert read_back["caller_text"] == stored["caller_text"]
