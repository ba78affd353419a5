"""Handoff summaries against recorded call states: every field traceable to the call."""

from __future__ import annotations

from datetime import datetime

from voicebot.domain.policy import order_policy
from voicebot.domain.records import Address, CallEvent, Customer, Order, Refund, Turn
from voicebot.domain.types import OrderStatus, RefundStatus
from voicebot.handoff.summary import CallState, build_summary


def order(number, status, expected_delivery, delivered_at, carrier, total, refunds=()):
    """An order record as the store returns it; the summary reads only some of its fields."""
    delivered = datetime.fromisoformat(delivered_at) if delivered_at else None
    refund_records = tuple(
        Refund(id=i, amount=amount, status=refund_status, method="original_payment", requested_at=datetime.fromisoformat("2026-10-01T10:00:00+00:00"),
               expected_by=None, completed_at=None, reason=None)
        for i, (refund_status, amount) in enumerate(refunds, 1)
    )
    return Order(
        order_number=number, status=status, customer_first_name="Dana", placed_at=datetime.fromisoformat("2026-09-20T10:00:00+00:00"),
        items=(), total=total, currency="USD", payment_method="card", carrier=carrier, tracking_number=None, last_event=None,
        expected_delivery=datetime.fromisoformat(expected_delivery) if expected_delivery else None, delivered_at=delivered,
        shipping_address=Address("1 Main St", "Austin", "TX", "78704"), refunds=refund_records,
        policy=order_policy(number, OrderStatus(status), delivered, [RefundStatus(r) for r, _ in refunds], datetime.fromisoformat("2026-11-22T10:00:00+00:00")),
    )


ORDER_SHIPPED = order("103158", "shipped", "2026-11-26T00:00:00+00:00", None, "UPS", 84.5)
ORDER_OLD = order("107081", "delivered", None, "2026-09-30T10:00:00+00:00", "FedEx", 129.0, [("rejected", 20.0)])


def turn(seq, text, intent, emotion="neutral"):
    return Turn(seq=seq, at=datetime.fromisoformat("2026-11-22T10:00:00+00:00"), caller_text=text, intent=intent, confidence=None, bot_text="...", emotion=emotion, latency_ms=None)


def event(kind, number, **detail):
    return CallEvent(at=datetime.fromisoformat("2026-11-22T10:00:00+00:00"), kind=kind, order_number=number, detail=detail)


def customer(name, tier):
    return Customer(id=1, name=name, tier=tier, language="en", phone="+15550104233")


ANGRY_CANCEL = CallState(
    call_id="CA-angry",
    reason="contact_human_agent",
    caller="+15550104233",
    turns=[
        turn(1, None, None),
        turn(2, "i want to cancel order one oh three one five eight", "cancel_order"),
        turn(3, "what do you mean it shipped i cancelled it yesterday online", "inform", "frustrated"),
        turn(4, "this is ridiculous you people are useless", "complaint", "angry"),
        turn(5, "just put me through to a real person", "contact_human_agent", "angry"),
    ],
    events=[
        event("order_lookup", "103158", outcome="done", status="shipped"),
        event("cancel", "103158", outcome="refused", code="already_shipped"),
    ],
    collected={"task": "cancel_order", "order_number": "103158"},
    orders=[ORDER_SHIPPED],
    customer=customer("Dana Whitfield", "standard"),
    queue="complaints",
    priority=8,
)


def test_summary_of_an_angry_caller_whose_cancellation_was_refused() -> None:
    s = build_summary(ANGRY_CANCEL)
    assert s["version"] == 1 and s["call_id"] == "CA-angry"
    assert s["caller"] == {"phone": "+15550104233", "name": "Dana Whitfield", "tier": "standard", "language": "en", "identity": "not checked"}
    assert s["reason"] == "contact_human_agent" and s["reason_text"] == "asked for a person"
    assert [o["order_number"] for o in s["orders"]] == ["103158"] and s["orders"][0]["status"] == "shipped"
    assert s["intents"] == ["cancel_order", "inform", "complaint", "contact_human_agent"]
    assert s["collected"] == {"task": "cancel_order", "order_number": "103158"}
    assert [a["text"] for a in s["bot_actions"]] == ["cancellation of order 103158 refused: already shipped"]
    assert s["emotion"] == {"trajectory": ["neutral", "neutral", "frustrated", "angry", "angry"], "at_handoff": "angry"}
    # Quotes are the caller's own words, upset ones first, in call order.
    assert s["quotes"] == [
        "what do you mean it shipped i cancelled it yesterday online",
        "this is ridiculous you people are useless",
        "just put me through to a real person",
    ]
    assert s["recommended_action"].startswith("Apologise") and "carrier intercept for order 103158" in s["recommended_action"]
    text = s["text"]
    assert "Dana Whitfield" in text and "order 103158 (shipped, due 2026-11-26)" in text and "asked for a person" in text
    assert "cancellation of order 103158 refused: already shipped" in text and "angry" in text
    assert text.count(". ") + 1 <= 4  # a few sentences, readable in five seconds
    assert (s["queue"], s["priority"]) == ("complaints", 8)


def test_summary_of_an_unknown_caller_whose_order_was_not_found() -> None:
    state = CallState(
        call_id="CA-lost",
        reason="order_not_found",
        turns=[turn(1, None, None), turn(2, "where is my parcel", "track_order"), turn(3, "nine nine nine nine nine nine", "inform")],
        events=[event("order_lookup", "999999", outcome="not_found"), event("order_lookup", "999999", outcome="not_found")],
        collected={"task": "track_order", "order_number": "999999"},
    )
    s = build_summary(state)
    assert s["caller"]["name"] is None and s["caller"]["identity"] == "not checked"
    assert s["orders"] == [] and [a["text"] for a in s["bot_actions"]] == ["order 999999 not found"] * 2
    assert s["quotes"] == ["where is my parcel"]  # the digits read out are data, not a quote
    assert s["recommended_action"] == "Find the order by the caller's phone number or email."
    assert s["text"].startswith("Unknown caller, identity not checked, about no order identified; their order number was not found twice.")
    assert s["emotion"]["at_handoff"] == "neutral"


def test_summary_of_a_vip_outside_the_return_window_after_a_failed_then_passed_identity_check() -> None:
    state = CallState(
        call_id="CA-vip",
        reason="outside_return_window",
        caller="+15550107081",
        turns=[turn(1, None, None), turn(2, "i'd like to return the coffee machine from order one oh seven oh eight one", "get_refund", "neutral"), turn(3, "yes please put me through", "affirm")],
        events=[
            event("order_lookup", "107081", outcome="done", status="delivered"),
            event("identity_check", "107081", outcome="done", verified=False),
            event("identity_check", "107081", outcome="done", verified=True),
        ],
        collected={"task": "get_refund", "order_number": "107081"},
        orders=[ORDER_OLD],
        customer=customer("Priya Raman", "vip"),
    )
    s = build_summary(state)
    assert s["caller"]["identity"] == "verified" and s["caller"]["tier"] == "vip"
    assert [a["text"] for a in s["bot_actions"]] == ["identity NOT confirmed on order 107081", "identity confirmed on order 107081"]
    assert s["orders"][0]["refunds"] == [{"status": "rejected", "amount": 20.0}]
    assert s["recommended_action"] == "Decide on a return exception for order 107081."
    assert s["text"].startswith("Priya Raman (VIP), identity verified, about order 107081 (delivered 2026-09-30); wants a refund outside the return window.")
    assert s["quotes"] == ["i'd like to return the coffee machine from order one oh seven oh eight one"]  # not the "yes"


def test_every_summary_field_comes_from_the_call_state() -> None:
    s = build_summary(ANGRY_CANCEL)
    said = {t.caller_text for t in ANGRY_CANCEL.turns}
    assert set(s["quotes"]) <= said
    assert set(s["intents"]) <= {t.intent for t in ANGRY_CANCEL.turns}
    assert {o["order_number"] for o in s["orders"]} <= {o.order_number for o in ANGRY_CANCEL.orders}
    assert {(a["action"], a["order_number"]) for a in s["bot_actions"]} <= {(e.kind, e.order_number) for e in ANGRY_CANCEL.events}
    assert set(s["emotion"]["trajectory"]) <= {t.emotion for t in ANGRY_CANCEL.turns}
