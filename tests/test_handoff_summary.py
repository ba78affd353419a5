"""Handoff summaries against recorded call states: every field traceable to the call."""

from __future__ import annotations

from voicebot.handoff.summary import CallState, build_summary

ORDER_SHIPPED = {
    "order_number": "103158", "status": "shipped", "expected_delivery": "2026-11-26T00:00:00+00:00",
    "delivered_at": None, "carrier": "UPS", "total": 84.5, "refunds": [],
}
ORDER_OLD = {
    "order_number": "107081", "status": "delivered", "expected_delivery": None,
    "delivered_at": "2026-09-30T10:00:00+00:00", "carrier": "FedEx", "total": 129.0,
    "refunds": [{"status": "rejected", "amount": 20.0}],
}


def turn(seq, text, intent, emotion="neutral"):
    return {"seq": seq, "caller_text": text, "intent": intent, "emotion": emotion, "bot_text": "..."}


def event(kind, number, **detail):
    return {"at": "2026-11-22T10:00:00+00:00", "kind": kind, "order_number": number, "detail": detail}


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
    customer={"name": "Dana Whitfield", "tier": "standard", "language": "en"},
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
        customer={"name": "Priya Raman", "tier": "vip", "language": "en"},
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
    said = {t["caller_text"] for t in ANGRY_CANCEL.turns}
    assert set(s["quotes"]) <= said
    assert set(s["intents"]) <= {t["intent"] for t in ANGRY_CANCEL.turns}
    assert {o["order_number"] for o in s["orders"]} <= {o["order_number"] for o in ANGRY_CANCEL.orders}
    assert {(a["action"], a["order_number"]) for a in s["bot_actions"]} <= {(e["kind"], e["order_number"]) for e in ANGRY_CANCEL.events}
    assert set(s["emotion"]["trajectory"]) <= {t["emotion"] for t in ANGRY_CANCEL.turns}
