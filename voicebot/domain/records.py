"""The typed results of the service layer: what an order, a call or a handoff looks like to its users.

Frozen dataclasses, built by the store from its rows. `to_json` turns any of them into
the JSON the HTTP API sends and the Rasa actions read: dates and times as ISO 8601,
money as dollars, nested records as objects.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from voicebot.domain.policy import OrderPolicy


def to_json(value: Any) -> Any:
    """A record (or a list of them) as JSON types, fields in their declared order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


@dataclasses.dataclass(frozen=True)
class Address:
    """A US shipping address (also the order row's embedded address)."""

    line: str
    city: str
    state: str
    postcode: str


@dataclasses.dataclass(frozen=True)
class Refund:
    id: int
    amount: float
    status: str
    method: str
    requested_at: datetime
    expected_by: date | None
    completed_at: datetime | None
    reason: str | None


@dataclasses.dataclass(frozen=True)
class OrderItem:
    sku: str
    name: str
    quantity: int
    unit_price: float


@dataclasses.dataclass(frozen=True)
class TrackingUpdate:
    at: datetime
    location: str | None
    description: str
    code: str


@dataclasses.dataclass(frozen=True)
class Order:
    """An order as the bot and the agents see it, with what the policy allows now."""

    order_number: str
    status: str
    customer_first_name: str
    placed_at: datetime
    items: tuple[OrderItem, ...]
    total: float
    currency: str
    payment_method: str
    carrier: str | None
    tracking_number: str | None
    last_event: TrackingUpdate | None
    expected_delivery: date | None
    delivered_at: datetime | None
    shipping_address: Address
    refunds: tuple[Refund, ...]
    policy: OrderPolicy


@dataclasses.dataclass(frozen=True)
class OrderRow:
    """One line of the order list."""

    order_number: str
    status: str
    expected_delivery: date | None
    customer: str


@dataclasses.dataclass(frozen=True)
class Cancellation:
    order: Order
    ticket_id: int
    refund: Refund | None


@dataclasses.dataclass(frozen=True)
class AddressChange:
    order: Order
    ticket_id: int


@dataclasses.dataclass(frozen=True)
class RefundRequest:
    ticket_id: int
    refund: Refund


@dataclasses.dataclass(frozen=True)
class TurnEntity:
    """One entity NLU found in a caller's utterance (an order number, a zip code...)."""

    entity: str
    value: str


@dataclasses.dataclass(frozen=True)
class Turn:
    """One stored turn: the caller's words (None for the greeting) and the bot's answer, redacted.

    `intent`, `confidence` and `entities` are this utterance's own parse; `actions` are
    what the bot ran in answer (its Rasa actions, in order), so QA sees what each turn did.
    """

    seq: int
    at: datetime
    caller_text: str | None
    intent: str | None
    confidence: float | None
    bot_text: str | None
    emotion: str | None
    latency_ms: dict[str, float] | None
    entities: tuple[TurnEntity, ...] = ()
    actions: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class CallRecord:
    id: str
    caller: str | None
    channel: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    turns: tuple[Turn, ...] = ()


TURN_TAKEN_BACK = "turn_taken_back"
SPEECH_FAILED = "speech_failed"  # the TTS could not say a sentence: its text (redacted) is in the detail, as `unspoken`


@dataclasses.dataclass(frozen=True)
class CallEvent:
    """Something the bot did for a call (look-up, identity check, cancellation...) and how it went,
    or a turn taken back (`TURN_TAKEN_BACK`: the caller went on talking and both parts became one turn),
    or a sentence the caller never heard (`SPEECH_FAILED`)."""

    at: datetime
    kind: str
    order_number: str | None
    detail: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Customer:
    id: int
    name: str
    tier: str
    language: str
    phone: str


@dataclasses.dataclass(frozen=True)
class Handoff:
    handoff_id: int
    call_id: str | None
    reason: str
    intent: str | None
    queue: str
    priority: int
    routing_rule: str | None
    status: str
    order_number: str | None
    collected: dict[str, Any]
    summary: str | None
    summary_json: dict[str, Any] | None
    created_at: datetime
    accepted_by: int | None
    accepted_at: datetime | None
    closed_at: datetime | None


@dataclasses.dataclass(frozen=True)
class QueuedHandoff:
    """A call handed to people: where it waits and what the caller is told.

    The one handoff payload: `HandoffService` builds it, the API returns it, the bot
    turn carries it to the voice layer. `handoff_id` is None when not even the queue
    could be reached (the database is down): the caller is told to hold all the same.
    """

    handoff_id: int | None
    call_id: str | None
    reason: str
    intent: str | None
    queue: str | None
    priority: int | None
    position: int | None
    expected_wait_s: int | None
    announcement: str
    collected: dict[str, Any]
    summary: dict[str, Any] | None


@dataclasses.dataclass(frozen=True)
class HoldStatus:
    """Where a handoff stands now, for the caller on hold."""

    status: str
    position: int  # 0 once it is no longer waiting
    expected_wait_s: int


@dataclasses.dataclass(frozen=True)
class CallbackBooked:
    """The caller chose a call-back: the ticket that asks the queue to call them at `at`."""

    ticket_id: int
    handoff_id: int
    call_id: str | None
    queue: str
    at: datetime


@dataclasses.dataclass(frozen=True)
class TicketRow:
    """A back-office ticket as the screen pop lists it."""

    id: int
    kind: str
    status: str
    subject: str
    created_at: datetime
    call_id: str | None


@dataclasses.dataclass(frozen=True)
class PastCall:
    call_id: str
    started_at: datetime
    outcome: str | None
    turns: int
