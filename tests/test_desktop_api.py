"""Agent desktop API: sign-in, refusals, taking a call, its context, wrap-up, the event stream."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from voicebot.api.errors import install_error_handlers
from voicebot.credentials import carrier_key
from voicebot.desk import routes
from voicebot.desk.agents import AgentService, hash_password, verify_password
from voicebot.desk.desk import AgentDesk
from voicebot.domain.types import TicketKind, utc_now
from voicebot.events.bus import EventBus
from voicebot.handoff.routing import load_rules
from voicebot.handoff.service import HandoffService
from voicebot.settings import Settings
from voicebot.store.models import Ticket
from voicebot.store.repositories import Store
from voicebot.store.seed import FIXED_ORDERS
from voicebot.store.session import make_engine, session_factory
from voicebot.telephony.twilio.access import CarrierAccess
from voicebot.telephony.twilio.routes import router as twilio_router

PASSWORD = "correct horse battery"
OLD = next(o for o in FIXED_ORDERS if o.number == "107081")  # delivered outside the return window


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self):
        return self.now


@pytest.fixture
def app(db_url: str):
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    clock = Clock()
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(routes.api)
    app.include_router(routes.pages)
    app.include_router(twilio_router)
    app.state.settings = Settings(data_dir=Path(db_url.removeprefix("sqlite:///")).parent)
    app.state.twilio_access = CarrierAccess(app.state.settings)
    app.state.events = EventBus()
    app.state.store = Store.open(sessions)
    app.state.handoffs = HandoffService(app.state.store, load_rules(), publish=app.state.events.publish)
    app.state.agents = AgentService(sessions, session_hours=8, clock=clock)
    app.state.desk = AgentDesk(sessions, app.state.store, app.state.events.publish)
    app.state.clock = clock
    app.state.sessions = sessions
    app.state.agents.create_agent("ana", PASSWORD, "Ana Agent", "agent", ["after_sales"])
    app.state.agents.create_agent("lou", PASSWORD, "Lou Logistics", "agent", ["logistics"])
    app.state.agents.create_agent("sue", PASSWORD, "Sue Supervisor", "supervisor")
    yield app
    engine.dispose()


def client_for(app: FastAPI, username: str | None = None) -> TestClient:
    client = TestClient(app)
    if username:
        response = client.post("/api/v1/desk/session", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
    return client


def handed_off_call(app: FastAPI) -> dict:
    """A caller asks for a refund on an order outside the return window and accepts a person."""
    store = app.state.store
    store.calls.start_call(call_id="call-1", caller=OLD.phone, channel="phone")
    store.calls.add_turn("call-1", "i want my money back for the coffee machine on order one oh seven oh eight one", "get_refund", emotion="neutral")
    store.orders.get_order(OLD.number, call_id="call-1")
    return app.state.handoffs.hand_off(
        "call-1", "outside_return_window", intent="affirm",
        collected={"task": "get_refund", "order_number": OLD.number, "new_address": "12 Elm Street, Dayton, 45402"},
    )


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$") and PASSWORD not in first
    assert verify_password(PASSWORD, first) and not verify_password("wrong password!", first)
    assert not verify_password(PASSWORD, "garbage")


def test_unauthenticated_requests_are_refused(app) -> None:
    client = client_for(app)
    queued = handed_off_call(app)
    hid = queued.handoff_id
    for method, path in [
        ("GET", "/api/v1/desk/me"),
        ("GET", "/api/v1/desk/queues"),
        ("POST", f"/api/v1/desk/handoffs/{hid}/accept"),
        ("GET", f"/api/v1/desk/handoffs/{hid}/context"),
        ("GET", "/api/v1/desk/overview"),
    ]:
        assert client.request(method, path).status_code == 401, path
    assert client.post(f"/api/v1/desk/handoffs/{hid}/wrap-up", json={"notes": "x", "disposition": "resolved"}).status_code == 401
    page = client.get("/desk", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/desk/login"
    assert client.get("/desk/login").status_code == 200
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect("/api/v1/desk/events") as socket:
            socket.receive_json()
    assert closed.value.code == 4401
    assert client.get("/api/v1/desk/queues", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_bad_passwords_and_expired_sessions_are_refused(app) -> None:
    client = client_for(app)
    wrong = client.post("/api/v1/desk/session", json={"username": "ana", "password": "not the password"})
    assert wrong.status_code == 401 and "voicebot_session" not in wrong.cookies
    assert client.post("/api/v1/desk/session", json={"username": "nobody", "password": PASSWORD}).status_code == 401
    signed_in = client.post("/api/v1/desk/session", json={"username": "ana", "password": PASSWORD})
    assert signed_in.status_code == 200 and client.get("/api/v1/desk/me").json()["username"] == "ana"
    assert "token" not in signed_in.json()  # a browser's session stays in its HttpOnly cookie, out of reach of scripts
    bearer = TestClient(app).post("/api/v1/desk/session", json={"username": "ana", "password": PASSWORD, "bearer": True})
    token = bearer.json()["token"]
    assert "voicebot_session" not in bearer.cookies
    assert TestClient(app).get("/api/v1/desk/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    app.state.clock.now += timedelta(hours=8, seconds=1)
    assert client.get("/api/v1/desk/me").status_code == 401


def test_signing_out_ends_the_session(app) -> None:
    client = client_for(app, "ana")
    assert client.delete("/api/v1/desk/session").status_code == 204
    assert client.get("/api/v1/desk/me").status_code == 401


def test_wrong_role_or_queue_is_refused(app) -> None:
    hid = handed_off_call(app).handoff_id  # routed to after_sales
    lou, ana = client_for(app, "lou"), client_for(app, "ana")
    assert lou.get("/api/v1/desk/overview").status_code == 403
    assert lou.get("/api/v1/desk/queues").json()["waiting"] == []  # not lou's queue
    assert lou.post(f"/api/v1/desk/handoffs/{hid}/accept").status_code == 403
    assert lou.get(f"/api/v1/desk/handoffs/{hid}/context").status_code == 403
    assert ana.post(f"/api/v1/desk/handoffs/{hid}/accept").status_code == 200
    sue = client_for(app, "sue")
    assert sue.get("/api/v1/desk/overview").status_code == 200
    other = app.state.agents.create_agent("amy", PASSWORD, "Amy", "agent", ["after_sales"])
    assert other.queues == ("after_sales",)
    amy = client_for(app, "amy")
    refused = amy.post(f"/api/v1/desk/handoffs/{hid}/wrap-up", json={"notes": "mine now", "disposition": "resolved"})
    assert refused.status_code == 403  # someone else's call


def test_taking_a_call_then_wrapping_it_up_files_a_ticket(app) -> None:
    queued = handed_off_call(app)
    assert queued.queue == "after_sales"
    ana, sue = client_for(app, "ana"), client_for(app, "sue")
    waiting = ana.get("/api/v1/desk/queues").json()["waiting"]
    assert [w["handoff_id"] for w in waiting] == [queued.handoff_id]
    assert OLD.number in waiting[0]["summary"] and "outside the return window" in waiting[0]["summary"]
    assert waiting[0]["summary_json"]["caller"]["phone"] == "•••" + OLD.phone[-4:]  # masked for the whole queue
    assert OLD.phone not in json.dumps(waiting) and "Elm Street" not in json.dumps(waiting)  # nor an address given
    assert waiting[0]["collected"] == {"task": "get_refund", "order_number": OLD.number, "new_address": "(given)"}
    hid = queued.handoff_id
    assert ana.post(f"/api/v1/desk/handoffs/{hid}/accept").json()["status"] == "accepted"
    again = sue.post(f"/api/v1/desk/handoffs/{hid}/accept")
    assert again.status_code == 409 and again.json()["error"] == "not_waiting"
    context = ana.get(f"/api/v1/desk/handoffs/{hid}/context").json()
    assert context["customer"]["name"] == f"{OLD.first_name} {OLD.last_name}"
    assert context["customer"]["phone"] == OLD.phone  # whole for the agent who took the call
    assert context["handoff"]["collected"]["new_address"] == "12 Elm Street, Dayton, 45402"
    assert OLD.number in [o["order_number"] for o in context["orders"]]
    assert context["transcript"][0]["caller_text"].startswith("i want my money back")
    assert context["wrap_up_draft"].startswith(f"Caller: {OLD.first_name} {OLD.last_name}")
    assert "resolved" in context["dispositions"]
    bad = ana.post(f"/api/v1/desk/handoffs/{hid}/wrap-up", json={"notes": "ok", "disposition": "sorted"})
    assert bad.status_code == 422
    notes = context["wrap_up_draft"] + "Approved a one-off return as a goodwill gesture."
    done = ana.post(f"/api/v1/desk/handoffs/{hid}/wrap-up", json={"notes": notes, "disposition": "refund_issued"})
    assert done.status_code == 201
    with app.state.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.id == done.json()["ticket_id"])).one()
        assert ticket.kind is TicketKind.WRAP_UP and ticket.call_id == "call-1"
        assert ticket.body == {"notes": notes, "disposition": "refund_issued", "agent": "ana", "handoff_id": hid}
        assert ticket.order_id is not None and ticket.customer_id is not None
    assert app.state.store.handoffs.get_handoff(hid).status == "closed"
    overview = sue.get("/api/v1/desk/overview").json()
    assert overview["queues"] == [] and overview["calls"][0]["call_id"] == "call-1"
    assert overview["calls"][0]["queue"] == "after_sales" and overview["calls"][0]["outcome"] == "handed_off"
    assert overview["today"]["handed_off"] == 1 and overview["today"]["in_progress"] == 0


def test_event_stream_shows_agents_their_queues_only(app) -> None:
    ana, lou = client_for(app, "ana"), client_for(app, "lou")
    with ana.websocket_connect("/api/v1/desk/events") as ana_events, lou.websocket_connect("/api/v1/desk/events") as lou_events:
        assert ana_events.receive_json()["type"] == "hello" and lou_events.receive_json()["type"] == "hello"
        queued = handed_off_call(app)
        app.state.events.publish("call.turn", {"call_id": "call-1", "caller_text": "hello?", "bot_text": "Please hold."})
        app.state.events.publish("call.turn", {"call_id": "other-call", "caller_text": "not ana's", "bot_text": ""})
        app.state.events.publish("handoff.waiting", {"handoff_id": 99, "call_id": "call-9", "queue": "logistics"})
        first = ana_events.receive_json()
        assert first["v"] == 1 and first["type"] == "handoff.waiting" and first["data"]["handoff_id"] == queued.handoff_id
        assert first["data"]["summary"]["caller"]["phone"] == "•••" + OLD.phone[-4:]  # as in the queue list
        assert "Elm Street" not in json.dumps(first)
        turn = ana_events.receive_json()
        assert turn["type"] == "call.turn" and turn["data"]["caller_text"] == "hello?"  # other-call skipped
        assert lou_events.receive_json()["data"]["handoff_id"] == 99  # only the logistics handoff reaches lou


def test_transfer_twiml_takes_the_call_to_its_queue_with_the_call_id(app) -> None:
    client = TestClient(app)
    client.params = {"key": carrier_key(app.state.settings)}  # as the carrier fetches it
    queued = handed_off_call(app)
    twiml = client.post("/telephony/twilio/transfer/call-1")
    assert twiml.status_code == 200 and twiml.headers["content-type"].startswith("application/xml")
    assert twiml.text.endswith("<Response><Enqueue>after_sales</Enqueue></Response>")
    assert app.state.store.handoffs.get_handoff(queued.handoff_id).status == "transferred"
    assert client_for(app, "ana").get("/api/v1/desk/queues").json()["waiting"] == []  # the desk no longer offers it
    app.state.settings.transfer_sip_uri = "sip:{queue}@pbx.example.com"
    sip = client.get("/telephony/twilio/transfer/call-1").text
    assert f"<Dial><Sip>sip:after_sales@pbx.example.com?X-Voicebot-Call-Id=call-1&amp;X-Voicebot-Handoff-Id={queued.handoff_id}</Sip></Dial>" in sip
    missing = client.get("/telephony/twilio/transfer/no-such-call")
    assert missing.status_code == 404 and "<Hangup/>" in missing.text


def test_a_caller_who_hangs_up_while_waiting_is_taken_off_the_queue(app) -> None:
    ana = client_for(app, "ana")
    queued = handed_off_call(app)
    status = app.state.handoffs.status(queued.handoff_id)
    assert (status.status, status.position, status.expected_wait_s) == ("waiting", 1, 180)
    with ana.websocket_connect("/api/v1/desk/events") as events:
        events.receive_json()
        app.state.handoffs.caller_left("call-1")
        gone = events.receive_json()
    assert gone["type"] == "handoff.abandoned" and gone["data"]["handoff_id"] == queued.handoff_id
    assert ana.get("/api/v1/desk/queues").json()["waiting"] == []
    assert app.state.handoffs.status(queued.handoff_id).status == "abandoned"


def test_a_call_back_is_a_ticket_and_leaves_the_queue(app) -> None:
    from voicebot.domain.errors import NotAllowed

    ana = client_for(app, "ana")
    queued = handed_off_call(app)
    when = utc_now().replace(microsecond=0) + timedelta(days=1)
    with ana.websocket_connect("/api/v1/desk/events") as events:
        events.receive_json()
        booked = app.state.handoffs.schedule_callback(queued.handoff_id, when)
        event = events.receive_json()
    assert event["type"] == "handoff.callback" and event["data"]["ticket_id"] == booked.ticket_id
    with app.state.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.id == booked.ticket_id)).one()
        assert ticket.kind is TicketKind.CALLBACK and ticket.call_id == "call-1"
        assert ticket.body["phone"] == OLD.phone and ticket.body["at"] == when.isoformat()
        assert ticket.body["queue"] == "after_sales" and OLD.number in ticket.body["summary"]
    assert app.state.store.handoffs.get_handoff(queued.handoff_id).status == "callback"
    assert ana.get("/api/v1/desk/queues").json()["waiting"] == []
    with pytest.raises(NotAllowed):
        app.state.handoffs.schedule_callback(queued.handoff_id, when)
