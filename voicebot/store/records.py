"""Rows → the JSON-shaped records the services return (dates ISO 8601, money in dollars)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from voicebot.domain.policy import order_policy
from voicebot.store.models import (
    Address,
    Call,
    CallTurn,
    Handoff,
    Order,
    Refund,
    Shipment,
)


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def dollars(cents: int) -> float:
    return round(cents / 100, 2)


def refund_dict(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "amount": dollars(refund.amount_cents),
        "status": str(refund.status),
        "method": refund.method,
        "requested_at": iso(refund.requested_at),
        "expected_by": iso(refund.expected_by),
        "completed_at": iso(refund.completed_at),
        "reason": refund.reason,
    }


def address_dict(address: Address) -> dict[str, str]:
    return {"line": address.line, "city": address.city, "state": address.state, "postcode": address.postcode}


def order_dict(order: Order, now: datetime) -> dict[str, Any]:
    """The order as the bot and the agents see it, with what the policy allows now (`policy`)."""
    shipment: Shipment | None = order.shipments[-1] if order.shipments else None
    last_event = shipment.events[-1] if shipment and shipment.events else None
    return {
        "order_number": order.order_number,
        "status": str(order.status),
        "customer_first_name": order.customer.first_name,
        "placed_at": iso(order.placed_at),
        "items": [
            {"sku": i.sku, "name": i.name, "quantity": i.quantity, "unit_price": dollars(i.unit_price_cents)}
            for i in order.items
        ],
        "total": dollars(order.total_cents),
        "currency": order.currency,
        "payment_method": order.payment_method,
        "carrier": shipment.carrier if shipment else None,
        "tracking_number": shipment.tracking_number if shipment else None,
        "last_event": (
            {
                "at": iso(last_event.occurred_at),
                "location": last_event.location,
                "description": last_event.description,
                "code": last_event.code,
            }
            if last_event
            else None
        ),
        "expected_delivery": iso(order.expected_delivery),
        "delivered_at": iso(order.delivered_at),
        "shipping_address": address_dict(order.shipping_address),
        "refunds": [refund_dict(r) for r in order.refunds],
        "policy": order_policy(
            order.order_number, order.status, order.delivered_at, [r.status for r in order.refunds], now
        ).to_json(),
    }


def turn_dict(turn: CallTurn) -> dict[str, Any]:
    return {
        "seq": turn.seq,
        "at": iso(turn.at),
        "caller_text": turn.caller_text,
        "intent": turn.intent,
        "confidence": turn.confidence,
        "bot_text": turn.bot_text,
        "emotion": turn.emotion,
        "latency_ms": turn.latency_ms,
    }


def call_dict(call: Call, turns: list[CallTurn] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": call.id,
        "caller": call.caller,
        "channel": str(call.channel),
        "started_at": iso(call.started_at),
        "ended_at": iso(call.ended_at),
        "outcome": str(call.outcome) if call.outcome else None,
    }
    if turns is not None:
        result["turns"] = [turn_dict(t) for t in turns]
    return result


def handoff_dict(handoff: Handoff) -> dict[str, Any]:
    return {
        "handoff_id": handoff.id,
        "call_id": handoff.call_id,
        "reason": handoff.reason,
        "intent": handoff.intent,
        "queue": handoff.queue,
        "priority": handoff.priority,
        "routing_rule": handoff.routing_rule,
        "status": handoff.status,
        "order_number": handoff.order_number,
        "collected": handoff.collected,
        "summary": handoff.summary,
        "summary_json": handoff.summary_json,
        "created_at": iso(handoff.created_at),
        "accepted_by": handoff.accepted_by,
        "accepted_at": iso(handoff.accepted_at),
        "closed_at": iso(handoff.closed_at),
    }
