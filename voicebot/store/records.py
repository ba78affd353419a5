"""Rows → the domain's typed records (voicebot.domain.records)."""

from __future__ import annotations

from datetime import datetime

from voicebot.domain import records
from voicebot.domain.policy import order_policy
from voicebot.store.models import (
    Call,
    CallEvent,
    CallTurn,
    Customer,
    Handoff,
    Order,
    Refund,
    Shipment,
)


def dollars(cents: int) -> float:
    return round(cents / 100, 2)


def refund_record(refund: Refund) -> records.Refund:
    return records.Refund(
        id=refund.id,
        amount=dollars(refund.amount_cents),
        status=str(refund.status),
        method=refund.method,
        requested_at=refund.requested_at,
        expected_by=refund.expected_by,
        completed_at=refund.completed_at,
        reason=refund.reason,
    )


def order_record(order: Order, now: datetime) -> records.Order:
    """The order with its latest shipment event and what the policy allows at `now`."""
    shipment: Shipment | None = order.shipments[-1] if order.shipments else None
    last_event = shipment.events[-1] if shipment and shipment.events else None
    return records.Order(
        order_number=order.order_number,
        status=str(order.status),
        customer_first_name=order.customer.first_name,
        placed_at=order.placed_at,
        items=tuple(
            records.OrderItem(sku=i.sku, name=i.name, quantity=i.quantity, unit_price=dollars(i.unit_price_cents))
            for i in order.items
        ),
        total=dollars(order.total_cents),
        currency=order.currency,
        payment_method=order.payment_method,
        carrier=shipment.carrier if shipment else None,
        tracking_number=shipment.tracking_number if shipment else None,
        last_event=(
            records.TrackingUpdate(
                at=last_event.occurred_at, location=last_event.location, description=last_event.description, code=last_event.code
            )
            if last_event
            else None
        ),
        expected_delivery=order.expected_delivery,
        delivered_at=order.delivered_at,
        shipping_address=order.shipping_address,
        refunds=tuple(refund_record(r) for r in order.refunds),
        policy=order_policy(order.order_number, order.status, order.delivered_at, [r.status for r in order.refunds], now),
    )


def turn_record(turn: CallTurn) -> records.Turn:
    return records.Turn(
        seq=turn.seq,
        at=turn.at,
        caller_text=turn.caller_text,
        intent=turn.intent,
        confidence=turn.confidence,
        bot_text=turn.bot_text,
        emotion=turn.emotion,
        latency_ms=turn.latency_ms,
        entities=tuple(records.TurnEntity(e["entity"], e["value"]) for e in turn.entities or ()),
        actions=tuple(turn.actions or ()),
    )


def call_record(call: Call, turns: list[CallTurn] | None = None) -> records.CallRecord:
    return records.CallRecord(
        id=call.id,
        caller=call.caller,
        channel=str(call.channel),
        started_at=call.started_at,
        ended_at=call.ended_at,
        outcome=str(call.outcome) if call.outcome else None,
        turns=tuple(turn_record(t) for t in turns or ()),
    )


def event_record(event: CallEvent) -> records.CallEvent:
    return records.CallEvent(at=event.at, kind=event.kind, order_number=event.order_number, detail=dict(event.detail))


def customer_record(customer: Customer) -> records.Customer:
    return records.Customer(
        id=customer.id, name=customer.name, tier=str(customer.tier), language=customer.language, phone=customer.phone
    )


def handoff_record(handoff: Handoff) -> records.Handoff:
    return records.Handoff(
        handoff_id=handoff.id,
        call_id=handoff.call_id,
        reason=handoff.reason,
        intent=handoff.intent,
        queue=handoff.queue,
        priority=handoff.priority,
        routing_rule=handoff.routing_rule,
        status=handoff.status,
        order_number=handoff.order_number,
        collected=dict(handoff.collected or {}),
        summary=handoff.summary,
        summary_json=handoff.summary_json,
        created_at=handoff.created_at,
        accepted_by=handoff.accepted_by,
        accepted_at=handoff.accepted_at,
        closed_at=handoff.closed_at,
    )
