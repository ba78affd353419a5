"""Order service: the business rules the bot and the agent desk act through.

Plain Python over a SQLAlchemy sessionmaker, no HTTP. Every method runs in its own
transaction: it commits completely or rolls back completely, so a failure never takes
earlier committed work with it. Rule violations are exceptions with a stable ``code``
that the dialogue and the HTTP layer map to what the caller hears or receives.

Results are plain dicts of JSON types (dates and times as ISO 8601 strings, money as
numbers in dollars) so they can go straight into an HTTP response or a Rasa slot.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from voicebot.db.models import (
    NOT_SHIPPED,
    OPEN_REFUND,
    Address,
    Call,
    CallEvent,
    CallOutcome,
    CallTurn,
    Channel,
    Customer,
    Handoff,
    HandoffStatus,
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
    Shipment,
    Ticket,
    TicketKind,
    TicketStatus,
    utc_now,
)
from voicebot.db.session import DatabaseUnavailable, transaction

__all__ = [
    "CallNotFound",
    "DatabaseUnavailable",
    "Forbidden",
    "InvalidInput",
    "NotAllowed",
    "NotFound",
    "OrderNotFound",
    "OrderService",
    "OrderServiceError",
]

RETURN_WINDOW_DAYS = 30
REFUND_PROCESSING_DAYS = 10

_ZIP = re.compile(r"^\d{5}$")
# "221B Baker St, Apt 2, Springfield, IL 62704" -> line, city, state, optional ZIP.
_US_ADDRESS = re.compile(
    r"^(?P<line>.+?)\s*,\s*(?P<city>[^,]+?)\s*,?\s+(?P<state>[A-Za-z]{2})\.?(?:\s+(?P<zip>\d{5})(?:-\d{4})?)?$"
)
_US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split()
)


class OrderServiceError(Exception):
    """Base for the service's expected failures; ``code`` is stable, ``message`` is for humans."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(OrderServiceError):
    code = "not_found"


class OrderNotFound(NotFound):
    code = "order_not_found"

    def __init__(self, number: str) -> None:
        super().__init__(f"No order with number {number}.")
        self.number = number


class CallNotFound(NotFound):
    code = "call_not_found"

    def __init__(self, call_id: str) -> None:
        super().__init__(f"No call with id {call_id}.")
        self.call_id = call_id


class NotAllowed(OrderServiceError):
    """The request is understood but the order's state or the caller's identity forbids it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Forbidden(OrderServiceError):
    """The signed-in person may not do this (not their queue, someone else's call)."""

    code = "forbidden"


class InvalidInput(OrderServiceError):
    code = "invalid_input"


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _dollars(cents: int) -> float:
    return round(cents / 100, 2)


def _digits(value: str | None) -> str:
    return re.sub(r"[^0-9]", "", value or "")


def _refund_dict(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "amount": _dollars(refund.amount_cents),
        "status": str(refund.status),
        "method": refund.method,
        "requested_at": iso(refund.requested_at),
        "expected_by": iso(refund.expected_by),
        "completed_at": iso(refund.completed_at),
        "reason": refund.reason,
    }


def _order_dict(order: Order) -> dict[str, Any]:
    shipment: Shipment | None = order.shipments[-1] if order.shipments else None
    last_event = shipment.events[-1] if shipment and shipment.events else None
    address = order.shipping_address
    return {
        "order_number": order.order_number,
        "status": str(order.status),
        "customer_first_name": order.customer.first_name,
        "placed_at": iso(order.placed_at),
        "items": [
            {"sku": i.sku, "name": i.name, "quantity": i.quantity, "unit_price": _dollars(i.unit_price_cents)}
            for i in order.items
        ],
        "total": _dollars(order.total_cents),
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
        "shipping_address": _address_dict(address),
        "refunds": [_refund_dict(r) for r in order.refunds],
    }


def _address_dict(address: Address) -> dict[str, str]:
    return {"line": address.line, "city": address.city, "state": address.state, "postcode": address.postcode}


def _call_dict(call: Call, turns: list[CallTurn] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": call.id,
        "caller": call.caller,
        "channel": str(call.channel),
        "started_at": iso(call.started_at),
        "ended_at": iso(call.ended_at),
        "outcome": str(call.outcome) if call.outcome else None,
    }
    if turns is not None:
        result["turns"] = [_turn_dict(t) for t in turns]
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


def _turn_dict(turn: CallTurn) -> dict[str, Any]:
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


def _full_order() -> Any:
    return select(Order).options(
        selectinload(Order.customer),
        selectinload(Order.items),
        selectinload(Order.shipments).selectinload(Shipment.events),
        selectinload(Order.refunds),
    )


class OrderService:
    """Order look-ups and changes, each in one transaction."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        return_window_days: int = RETURN_WINDOW_DAYS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self.return_window = timedelta(days=return_window_days)
        self._clock = clock

    def _transaction(self) -> AbstractContextManager[Session]:
        return transaction(self._sessions)

    # -- orders ---------------------------------------------------------------------------

    def _load(self, session: Session, number: str) -> Order:
        order = session.scalars(_full_order().where(Order.order_number == number)).one_or_none()
        if order is None:
            raise OrderNotFound(number)
        return order

    def _lock(self, session: Session, number: str) -> Order:
        """Load an order for change, first claiming its row.

        The UPDATE takes the row lock on PostgreSQL and the write lock on SQLite before
        anything is read, so two concurrent changes to one order run one after the other
        and the second sees the first's result (no double cancellations or refunds).
        """
        touched = session.execute(
            update(Order)
            .where(Order.order_number == number)
            .values(updated_at=self._clock())
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if touched is None:
            raise OrderNotFound(number)
        return self._load(session, number)

    def get_order(self, number: str, call_id: str | None = None) -> dict[str, Any]:
        with self._noting(call_id, "order_lookup", number) as note, self._transaction() as session:
            order = _order_dict(self._load(session, number))
            note["status"] = order["status"]
            return order

    def list_orders(self) -> list[dict[str, Any]]:
        with self._transaction() as session:
            orders = session.scalars(
                select(Order).options(selectinload(Order.customer)).order_by(Order.order_number)
            ).all()
            return [
                {
                    "order_number": o.order_number,
                    "status": str(o.status),
                    "expected_delivery": iso(o.expected_delivery),
                    "customer": o.customer.name,
                }
                for o in orders
            ]

    def cancel_order(self, number: str, call_id: str | None = None) -> dict[str, Any]:
        """Cancel an order that has not shipped; a paid one gets a refund in processing."""
        with self._noting(call_id, "cancel", number), self._transaction() as session:
            order = self._lock(session, number)
            if order.status is OrderStatus.CANCELLED:
                raise NotAllowed("already_cancelled", f"Order {number} is already cancelled.")
            if order.status not in NOT_SHIPPED:
                raise NotAllowed(
                    "already_shipped",
                    f"Order {number} is {order.status.replace('_', ' ')} and can no longer be cancelled.",
                )
            was = order.status
            now = self._clock()
            order.status = OrderStatus.CANCELLED
            order.expected_delivery = None
            refund = None
            if was is not OrderStatus.PENDING:
                refund = Refund(
                    amount_cents=order.total_cents,
                    status=RefundStatus.PROCESSING,
                    method="original_payment",
                    requested_at=now,
                    expected_by=(now + timedelta(days=REFUND_PROCESSING_DAYS)).date(),
                    reason="Order cancelled",
                )
                order.refunds.append(refund)
            ticket = _new_ticket(
                session,
                TicketKind.CANCELLATION,
                order,
                call_id,
                f"Order {number} cancelled",
                {"previous_status": str(was), "refund": refund is not None},
                now,
            )
            session.flush()
            return {
                "order": _order_dict(order),
                "ticket_id": ticket.id,
                "refund": _refund_dict(refund) if refund else None,
            }

    # -- identity and address -------------------------------------------------------------

    @staticmethod
    def _identity_matches(order: Order, phone_last4: str | None, postcode: str | None) -> bool:
        """True when at least one check was given and every given check matches."""
        checks = []
        if phone_last4:
            given = _digits(phone_last4)
            checks.append(len(given) >= 4 and given[-4:] == _digits(order.customer.phone)[-4:])
        if postcode:
            checks.append(_digits(postcode)[:5] == order.shipping_address.postcode)
        return bool(checks) and all(checks)

    def verify_identity(
        self, number: str, phone_last4: str | None = None, postcode: str | None = None, call_id: str | None = None
    ) -> bool:
        with self._noting(call_id, "identity_check", number) as note, self._transaction() as session:
            verified = self._identity_matches(self._load(session, number), phone_last4, postcode)
            note["verified"] = verified
            return verified

    def change_address(
        self,
        number: str,
        address: str,
        postcode: str | None = None,
        phone_last4: str | None = None,
        postcode_check: str | None = None,
        call_id: str | None = None,
    ) -> dict[str, Any]:
        """Re-address an order that has not shipped, after checking the caller's identity.

        ``address`` is a free-form line as the caller said it; "line, city, ST 12345" is
        split into its parts, anything else replaces the street line only and keeps the
        city and state. ``postcode_check`` is the ZIP currently on the order, for identity.
        """
        address = " ".join(address.split())
        if len(address) < 5:
            raise InvalidInput("The new address is too short.")
        parsed = _US_ADDRESS.match(address)
        if parsed and parsed["state"].upper() not in _US_STATES:
            parsed = None
        new_postcode = _digits(postcode) if postcode else (parsed["zip"] if parsed and parsed["zip"] else None)
        if new_postcode is not None and not _ZIP.match(new_postcode):
            raise InvalidInput("A US ZIP code has five digits.")
        with self._noting(call_id, "address_change", number), self._transaction() as session:
            order = self._lock(session, number)
            if not self._identity_matches(order, phone_last4, postcode_check):
                raise NotAllowed("identity_check_failed", "The details given do not match this order.")
            if order.status is OrderStatus.CANCELLED:
                raise NotAllowed("already_cancelled", f"Order {number} is cancelled.")
            if order.status not in NOT_SHIPPED:
                raise NotAllowed("already_shipped", f"Order {number} has already shipped; the address cannot change.")
            old = order.shipping_address
            order.shipping_address = Address(
                line=parsed["line"] if parsed else address,
                city=parsed["city"] if parsed else old.city,
                state=parsed["state"].upper() if parsed else old.state,
                postcode=new_postcode or old.postcode,
            )
            ticket = _new_ticket(
                session,
                TicketKind.ADDRESS_CHANGE,
                order,
                call_id,
                f"Shipping address changed on order {number}",
                {"old": _address_dict(old), "new": _address_dict(order.shipping_address), "as_said": address},
                self._clock(),
            )
            session.flush()
            return {"order": _order_dict(order), "ticket_id": ticket.id}

    # -- refunds --------------------------------------------------------------------------

    def refund_status(self, number: str) -> list[dict[str, Any]]:
        with self._transaction() as session:
            return [_refund_dict(r) for r in self._load(session, number).refunds]

    def request_refund(self, number: str, reason: str, call_id: str | None = None) -> dict[str, Any]:
        """Open a refund request for a delivered order inside the return window."""
        reason = reason.strip()
        if not reason:
            raise InvalidInput("A refund request needs a reason.")
        with self._noting(call_id, "refund_request", number), self._transaction() as session:
            order = self._lock(session, number)
            if any(r.status in OPEN_REFUND for r in order.refunds):
                raise NotAllowed("refund_already_requested", f"A refund for order {number} is already in progress.")
            if order.status is OrderStatus.CANCELLED:
                raise NotAllowed("already_cancelled", f"Order {number} was cancelled.")
            if order.status is OrderStatus.REFUNDED:
                raise NotAllowed("already_refunded", f"Order {number} has already been refunded.")
            if order.status is not OrderStatus.DELIVERED or order.delivered_at is None:
                raise NotAllowed("not_delivered", f"Order {number} has not been delivered yet.")
            now = self._clock()
            if now - order.delivered_at > self.return_window:
                raise NotAllowed(
                    "outside_return_window",
                    f"Order {number} was delivered more than {self.return_window.days} days ago.",
                )
            refund = Refund(
                amount_cents=order.total_cents,
                status=RefundStatus.REQUESTED,
                method="original_payment",
                requested_at=now,
                expected_by=(now + timedelta(days=REFUND_PROCESSING_DAYS)).date(),
                reason=reason,
            )
            order.refunds.append(refund)
            ticket = _new_ticket(
                session,
                TicketKind.REFUND_REQUEST,
                order,
                call_id,
                f"Refund requested for order {number}",
                {"reason": reason},
                now,
            )
            session.flush()
            return {"ticket_id": ticket.id, "refund": _refund_dict(refund)}

    # -- what the bot did on a call --------------------------------------------------------

    @contextmanager
    def _noting(self, call_id: str | None, action: str, number: str | None) -> Iterator[dict[str, Any]]:
        """Records `action` on the call with its outcome (done, refused + code, not_found).

        The event is written in its own transaction after the action's, so a refusal,
        which rolls the action back, is still on record. The block may add details.
        """
        detail: dict[str, Any] = {}
        if not call_id:
            yield detail
            return
        try:
            yield detail
        except NotAllowed as refused:
            self.record_event(call_id, action, number, {**detail, "outcome": "refused", "code": refused.code})
            raise
        except OrderNotFound:
            self.record_event(call_id, action, number, {**detail, "outcome": "not_found"})
            raise
        self.record_event(call_id, action, number, {**detail, "outcome": "done"})

    def record_event(self, call_id: str, kind: str, order_number: str | None = None, detail: dict[str, Any] | None = None) -> None:
        with self._transaction() as session:
            session.add(CallEvent(call_id=call_id, at=self._clock(), kind=kind, order_number=order_number, detail=dict(detail or {})))

    def call_events(self, call_id: str) -> list[dict[str, Any]]:
        with self._transaction() as session:
            events = session.scalars(select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id))
            return [
                {"at": iso(e.at), "kind": e.kind, "order_number": e.order_number, "detail": e.detail} for e in events
            ]

    # -- handoffs -------------------------------------------------------------------------

    def record_handoff(
        self,
        call_id: str | None,
        reason: str,
        intent: str | None = None,
        collected: dict[str, Any] | None = None,
        order_number: str | None = None,
        summary: str | None = None,
        queue: str = "general",
        *,
        priority: int = 1,
        routing_rule: str | None = None,
        summary_json: dict[str, Any] | None = None,
    ) -> int:
        """Queue the caller for a human agent with what the bot already knows."""
        with self._transaction() as session:
            handoff = Handoff(
                call_id=call_id,
                reason=reason,
                intent=intent,
                queue=queue,
                priority=priority,
                routing_rule=routing_rule,
                status=HandoffStatus.WAITING,
                collected=dict(collected or {}),
                summary=summary,
                summary_json=summary_json,
                order_number=order_number,
                created_at=self._clock(),
            )
            session.add(handoff)
            session.flush()
            return handoff.id

    def queue_position(self, handoff_id: int) -> int:
        """1 = next to be answered in its queue: waiting calls of higher priority, or equal and older, go first."""
        with self._transaction() as session:
            mine = load_handoff(session, handoff_id)
            ahead = session.scalar(
                select(func.count(Handoff.id)).where(
                    Handoff.queue == mine.queue,
                    Handoff.status == HandoffStatus.WAITING,
                    Handoff.id != mine.id,
                    (Handoff.priority > mine.priority)
                    | ((Handoff.priority == mine.priority) & (Handoff.created_at <= mine.created_at)),
                )
            )
            return int(ahead or 0) + 1

    def schedule_callback(self, handoff_id: int, when: datetime) -> dict[str, Any]:
        """The caller chose a call-back instead of holding: a CALLBACK ticket, the handoff leaves the queue."""
        with self._transaction() as session:
            handoff = load_handoff(session, handoff_id)
            if handoff.status != HandoffStatus.WAITING:
                raise NotAllowed("not_waiting", f"Handoff {handoff_id} is {handoff.status}.")
            phone = caller_of(session, handoff)
            ticket = handoff_ticket(
                session,
                handoff,
                TicketKind.CALLBACK,
                f"Call back {phone or 'the caller'} at {when.isoformat(timespec='minutes')}",
                {"at": when.isoformat(), "phone": phone, "queue": handoff.queue, "handoff_id": handoff.id, "summary": handoff.summary},
                self._clock(),
            )
            handoff.status, handoff.closed_at = HandoffStatus.CALLBACK, self._clock()
            session.flush()
            return {"ticket_id": ticket.id, "handoff_id": handoff.id, "call_id": handoff.call_id, "queue": handoff.queue, "at": when.isoformat()}

    def abandon_waiting_handoffs(self, call_id: str) -> list[dict[str, Any]]:
        """The caller hung up: their handoffs still waiting for an agent are abandoned."""
        with self._transaction() as session:
            rows = session.execute(
                update(Handoff)
                .where(Handoff.call_id == call_id, Handoff.status == HandoffStatus.WAITING)
                .values(status=HandoffStatus.ABANDONED, closed_at=self._clock())
                .returning(Handoff.id, Handoff.queue)
                .execution_options(synchronize_session=False)
            ).all()
            return [{"handoff_id": row.id, "call_id": call_id, "queue": row.queue} for row in rows]

    def mark_transferred(self, call_id: str) -> dict[str, Any]:
        """The telephony side is taking the call to its own queue: the latest waiting handoff moves with it."""
        with self._transaction() as session:
            handoff = latest_handoff_of(session, call_id)
            if handoff.status == HandoffStatus.WAITING:
                handoff.status = HandoffStatus.TRANSFERRED
            return handoff_dict(handoff)

    def get_handoff(self, handoff_id: int) -> dict[str, Any]:
        with self._transaction() as session:
            return handoff_dict(load_handoff(session, handoff_id))

    def set_handoff_summary(self, handoff_id: int, text: str, summary: dict[str, Any]) -> None:
        with self._transaction() as session:
            handoff = load_handoff(session, handoff_id)
            handoff.summary, handoff.summary_json = text, summary

    def latest_handoff(self, call_id: str) -> dict[str, Any]:
        with self._transaction() as session:
            return handoff_dict(latest_handoff_of(session, call_id))

    def customer_for(self, order_number: str | None = None, phone: str | None = None) -> dict[str, Any] | None:
        """The customer behind an order, else behind the calling number (last 10 digits), else None."""
        with self._transaction() as session:
            customer = None
            if order_number:
                order = session.scalars(select(Order).where(Order.order_number == order_number)).one_or_none()
                customer = order.customer if order else None
            if customer is None:
                customer = _customer_by_phone(session, phone)
            if customer is None:
                return None
            return {"id": customer.id, "name": customer.name, "tier": str(customer.tier), "language": customer.language, "phone": customer.phone}

    def customer_orders(self, customer_id: int, limit: int = 10) -> list[dict[str, Any]]:
        """The customer's latest orders, newest first, with shipments and refunds."""
        with self._transaction() as session:
            orders = session.scalars(
                _full_order().where(Order.customer_id == customer_id).order_by(Order.placed_at.desc()).limit(limit)
            )
            return [_order_dict(o) for o in orders]

    # -- calls ----------------------------------------------------------------------------

    def start_call(
        self, call_id: str | None = None, caller: str | None = None, channel: str = "text"
    ) -> dict[str, Any]:
        try:
            channel_value = Channel(channel)
        except ValueError:
            raise InvalidInput(f"Unknown channel {channel!r}.") from None
        with self._transaction() as session:
            call_id = call_id or str(uuid.uuid4())
            if session.get(Call, call_id) is not None:
                raise NotAllowed("call_exists", f"Call {call_id} already exists.")
            call = Call(id=call_id, caller=caller, channel=channel_value, started_at=self._clock(), turn_count=0)
            session.add(call)
            session.flush()
            return _call_dict(call)

    def add_turn(
        self,
        call_id: str,
        caller_text: str | None,
        intent: str | None = None,
        confidence: float | None = None,
        bot_text: str | None = None,
        emotion: str | None = None,
    ) -> dict[str, Any]:
        with self._transaction() as session:
            # Allocating the sequence number with one UPDATE keeps it unique under concurrency.
            seq = session.execute(
                update(Call)
                .where(Call.id == call_id, Call.ended_at.is_(None))
                .values(turn_count=Call.turn_count + 1)
                .returning(Call.turn_count)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if seq is None:
                _refuse_closed_call(session, call_id)
            turn = CallTurn(
                call_id=call_id,
                seq=seq,
                at=self._clock(),
                caller_text=caller_text,
                intent=intent,
                confidence=confidence,
                bot_text=bot_text,
                emotion=emotion,
            )
            session.add(turn)
            session.flush()
            return _turn_dict(turn)

    def set_turn_latency(self, call_id: str, latency_ms: dict[str, float]) -> int | None:
        """Files a spoken turn's stage timings on the call's latest caller turn not yet timed.

        The timings are complete only once the bot's answer starts playing, after the
        turn was recorded (and maybe after the call was closed). Returns the turn's seq.
        """
        with self._transaction() as session:
            turn = session.scalars(
                select(CallTurn)
                .where(CallTurn.call_id == call_id, CallTurn.caller_text.is_not(None))
                .order_by(CallTurn.seq.desc())
                .limit(1)
            ).first()
            if turn is None or turn.latency_ms is not None:
                return None
            turn.latency_ms = latency_ms
            return turn.seq

    def end_call(self, call_id: str, outcome: str) -> dict[str, Any]:
        try:
            outcome_value = CallOutcome(outcome)
        except ValueError:
            raise InvalidInput(f"Unknown call outcome {outcome!r}.") from None
        with self._transaction() as session:
            ended = session.execute(
                update(Call)
                .where(Call.id == call_id, Call.ended_at.is_(None))
                .values(ended_at=self._clock(), outcome=outcome_value)
                .returning(Call.id)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if ended is None:
                _refuse_closed_call(session, call_id)
            call = session.get(Call, call_id, populate_existing=True)
            assert call is not None
            return _call_dict(call)

    def get_call(self, call_id: str) -> dict[str, Any]:
        with self._transaction() as session:
            call = session.get(Call, call_id, options=[selectinload(Call.turns)])
            if call is None:
                raise CallNotFound(call_id)
            return _call_dict(call, call.turns)


def load_handoff(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound(f"No handoff {handoff_id}.")
    return handoff


def latest_handoff_of(session: Session, call_id: str) -> Handoff:
    handoff = session.scalars(
        select(Handoff).where(Handoff.call_id == call_id).order_by(Handoff.id.desc()).limit(1)
    ).one_or_none()
    if handoff is None:
        raise NotFound(f"Call {call_id} has no handoff.")
    return handoff


def _refuse_closed_call(session: Session, call_id: str) -> NoReturn:
    """An update matched no open call: say whether it is unknown or already over."""
    if session.get(Call, call_id) is None:
        raise CallNotFound(call_id)
    raise NotAllowed("call_ended", f"Call {call_id} has already ended.")


def _new_ticket(
    session: Session,
    kind: TicketKind,
    order: Order | None,
    call_id: str | None,
    subject: str,
    body: dict[str, Any],
    now: datetime,
    customer_id: int | None = None,
    status: TicketStatus = TicketStatus.OPEN,
) -> Ticket:
    """File a ticket for the back office, in the caller's transaction; against the order when there is one."""
    ticket = Ticket(
        kind=kind,
        order_id=order.id if order else None,
        customer_id=order.customer_id if order else customer_id,
        call_id=call_id,
        status=status,
        subject=subject,
        body=body,
        created_at=now,
    )
    session.add(ticket)
    return ticket


def caller_of(session: Session, handoff: Handoff) -> str | None:
    """The number the handed-off call came from, if known."""
    call = session.get(Call, handoff.call_id) if handoff.call_id else None
    return call.caller if call else None


def handoff_ticket(
    session: Session,
    handoff: Handoff,
    kind: TicketKind,
    subject: str,
    body: dict[str, Any],
    now: datetime,
    status: TicketStatus = TicketStatus.OPEN,
) -> Ticket:
    """A ticket about a handed-off call, filed against its order, else against the customer who called."""
    order = (
        session.scalars(select(Order).where(Order.order_number == handoff.order_number)).first()
        if handoff.order_number
        else None
    )
    customer = None if order else _customer_by_phone(session, caller_of(session, handoff))
    return _new_ticket(
        session, kind, order, handoff.call_id, subject, body, now, customer_id=customer.id if customer else None, status=status
    )


def _customer_by_phone(session: Session, phone: str | None) -> Customer | None:
    """Matched on the last 10 digits, so +1 (555) 010-4233 and 5550104233 are the same caller."""
    if not phone or len(_digits(phone)) < 7:
        return None
    wanted = _digits(phone)[-10:]
    candidates = session.scalars(select(Customer).where(Customer.phone.like(f"%{wanted[-4:]}")))
    return next((c for c in candidates if _digits(c.phone)[-10:] == wanted), None)
