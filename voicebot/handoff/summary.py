"""The handoff summary: what the agent needs so the caller never repeats themselves.

Built only from the call's own state (`CallState`: the call record with its turns,
the events the order service logged for the call, the slots Rasa collected, the
orders and customer as the database has them now), never invented: every field of
`summary_json` can be traced back to one of those. `text` is the two or three
sentences an agent reads in five seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from voicebot.domain.records import TURN_TAKEN_BACK, CallEvent, Customer, Order, Turn, to_json

SUMMARY_VERSION = 1
MIN_QUOTE_WORDS = 4
MAX_QUOTES = 3
UPSET = ("angry", "frustrated")
# Turns that carry data or small talk, not the caller's problem in their words.
NOT_QUOTES = frozenset({"inform", "affirm", "deny", "greet", "goodbye", "thank_you", "repeat"})

REASONS = {
    "contact_human_agent": "asked for a person",
    "caller_request": "asked for a person",
    "contact_customer_service": "asked for customer service",
    "complaint": "made a complaint",
    "not_understood": "the bot did not understand them three times",
    "internal_error": "the bot hit an internal error",
    "no_knowledge_answer": "asked a question the knowledge base could not answer",
    "order_not_found": "their order number was not found twice",
    "identity_check_failed": "the identity check failed",
    "outside_return_window": "wants a refund outside the return window",
    "payment_issue": "has a payment problem",
    "change_order": "wants to change the items on an order",
    "angry_caller": "was upset for several turns",
    "keypad_zero": "pressed 0 for a person",
}
ACTIONS = {
    "order_lookup": "looked up order {n}",
    "cancel": "cancelled order {n}",
    "address_change": "changed the delivery address of order {n}",
    "refund_request": "opened a refund request for order {n}",
    "identity_check": "checked identity on order {n}",
    "speech_failed": "the bot's voice failed: the caller heard an apology instead of its answer",
}
REFUSALS = {
    "cancel": "cancellation of order {n} refused",
    "address_change": "address change on order {n} refused",
    "refund_request": "refund request on order {n} refused",
}
CODES = {
    "already_shipped": "already shipped",
    "already_cancelled": "already cancelled",
    "outside_return_window": "outside the return window",
    "refund_already_requested": "a refund is already in progress",
    "not_delivered": "not delivered yet",
    "identity_check_failed": "identity not confirmed",
    "already_refunded": "already refunded",
}


@dataclass(frozen=True)
class CallState:
    """Everything the summary may use, gathered when the handoff happens."""

    call_id: str
    reason: str
    caller: str | None = None  # the number the call came from
    turns: Sequence[Turn] = ()  # the call record's turns
    events: Sequence[CallEvent] = ()  # what the bot did on the call, oldest first
    collected: dict[str, Any] = field(default_factory=dict)  # Rasa slots at handoff
    orders: Sequence[Order] = ()  # the orders involved, as the database has them
    customer: Customer | None = None
    queue: str | None = None
    priority: int | None = None


def _identity(state: CallState) -> str:
    checks = [e.detail.get("verified") for e in state.events if e.kind == "identity_check" and e.detail.get("outcome") == "done"]
    if True in checks:
        return "verified"
    if checks or any(e.detail.get("code") == "identity_check_failed" for e in state.events):
        return "failed"
    if state.collected.get("identity_verified") is True:
        return "verified"
    return "not checked"


def _intents(state: CallState) -> list[str]:
    intents: list[str] = []
    for turn in state.turns:
        intent = turn.intent
        if turn.caller_text is None:
            continue  # the bot's greeting, not something the caller asked
        if intent and (not intents or intents[-1] != intent):
            intents.append(intent)
    return intents


def _bot_actions(state: CallState) -> list[dict[str, Any]]:
    actions = []
    for event in state.events:
        kind, detail, n = event.kind, event.detail, event.order_number
        outcome = detail.get("outcome")
        if kind == "order_lookup" and outcome == "done":
            continue  # listed under orders
        if kind == TURN_TAKEN_BACK:
            continue  # the caller went on talking: a record of the transcript, not something the bot did
        if outcome == "refused":
            text = f"{REFUSALS.get(kind, kind + ' refused').format(n=n)}: {CODES.get(detail.get('code'), detail.get('code'))}"
        elif outcome == "not_found":
            text = f"order {n} not found"
        elif kind == "identity_check":
            text = f"identity {'confirmed' if detail.get('verified') else 'NOT confirmed'} on order {n}"
        else:
            text = ACTIONS.get(kind, kind).format(n=n)
        actions.append({"action": kind, "order_number": n, "outcome": outcome, "code": detail.get("code"), "at": to_json(event.at), "text": text})
    return actions


def _quotes(state: CallState) -> list[str]:
    """Up to three of the caller's own sentences: the upset ones first, then the latest."""
    said = [
        t
        for t in state.turns
        if t.caller_text and len(t.caller_text.split()) >= MIN_QUOTE_WORDS
        and (t.intent not in NOT_QUOTES or t.emotion in UPSET)
    ]
    upset = [t for t in said if t.emotion in UPSET]
    chosen = upset[-MAX_QUOTES:]
    for turn in reversed(said):
        if len(chosen) >= MAX_QUOTES:
            break
        if turn not in chosen:
            chosen.append(turn)
    chosen.sort(key=lambda t: t.seq)
    return [t.caller_text for t in chosen if t.caller_text]


def _emotion(state: CallState) -> dict[str, Any]:
    trajectory = [t.emotion for t in state.turns if t.emotion]
    return {"trajectory": trajectory, "at_handoff": trajectory[-1] if trajectory else None}


def _order_brief(order: Order) -> dict[str, Any]:
    return {
        "order_number": order.order_number,
        "status": order.status,
        "expected_delivery": to_json(order.expected_delivery),
        "delivered_at": to_json(order.delivered_at),
        "carrier": order.carrier,
        "total": order.total,
        "refunds": [{"status": r.status, "amount": r.amount} for r in order.refunds],
    }


def _order_state(order: dict[str, Any]) -> str:
    state = order["status"].replace("_", " ")
    if order.get("delivered_at"):
        return f"{state} {order['delivered_at'][:10]}"
    if order.get("expected_delivery"):
        return f"{state}, due {order['expected_delivery'][:10]}"
    return state


def _next_action(state: CallState, actions: list[dict[str, Any]], orders: list[dict[str, Any]], emotion: str | None) -> str:
    first = orders[0]["order_number"] if orders else state.collected.get("order_number")
    refused = next((a for a in reversed(actions) if a["outcome"] == "refused"), None)
    lead = "Apologise and acknowledge the frustration first; then " if emotion in UPSET else ""
    if state.reason == "outside_return_window" and first:
        step = f"decide on a return exception for order {first}"
    elif refused and refused["code"] == "already_shipped":
        step = f"offer a return after delivery or a carrier intercept for order {refused['order_number']}"
    elif refused:
        step = f"resolve the refused {refused['action'].replace('_', ' ')} on order {refused['order_number']}"
    elif state.reason == "identity_check_failed" or _identity(state) == "failed":
        step = "verify the caller's identity another way before changing anything"
    elif state.reason == "order_not_found":
        step = "find the order by the caller's phone number or email"
    elif state.reason == "no_knowledge_answer":
        step = "answer the caller's question (see the last quote)"
    elif state.reason == "internal_error":
        step = "finish what the bot could not" + (f" on order {first}" if first else "")
    elif state.collected.get("task") and first:
        step = f"help with {state.collected['task'].replace('_', ' ')} on order {first}"
    elif first:
        step = f"ask what they need with order {first}"
    else:
        step = "ask how you can help; no order was identified"
    text = lead + step
    return text[0].upper() + text[1:] + "."


def build_summary(state: CallState) -> dict[str, Any]:
    """The structured summary (JSON types only) with its short `text`."""
    customer = state.customer
    orders = [_order_brief(o) for o in state.orders]
    actions = _bot_actions(state)
    emotion = _emotion(state)
    identity = _identity(state)
    intents = _intents(state)
    next_action = _next_action(state, actions, orders, emotion["at_handoff"])

    who = customer.name if customer else "Unknown caller"
    if customer and customer.tier != "standard":
        who += f" ({customer.tier.upper()})"
    about = ", ".join(f"order {o['order_number']} ({_order_state(o)})" for o in orders) or "no order identified"
    first = f"{who}, identity {identity}, about {about}; {REASONS.get(state.reason, state.reason.replace('_', ' '))}."
    did = [a["text"] for a in actions if a["outcome"] != "done" or a["action"] != "identity_check"]
    second = ("Bot: " + "; ".join(did) + ". ") if did else ""
    mood = f"Caller sounds {emotion['at_handoff']}. " if emotion["at_handoff"] and emotion["at_handoff"] != "neutral" else ""
    text = f"{first} {second}{mood}Next: {next_action}".replace("  ", " ").strip()

    return {
        "version": SUMMARY_VERSION,
        "call_id": state.call_id,
        "caller": {
            "phone": state.caller,
            "name": customer.name if customer else None,
            "tier": customer.tier if customer else None,
            "language": customer.language if customer else None,
            "identity": identity,
        },
        "reason": state.reason,
        "reason_text": REASONS.get(state.reason, state.reason.replace("_", " ")),
        "queue": state.queue,
        "priority": state.priority,
        "orders": orders,
        "intents": intents,
        "collected": dict(state.collected),
        "bot_actions": actions,
        "emotion": emotion,
        "quotes": _quotes(state),
        "recommended_action": next_action,
        "text": text,
    }
