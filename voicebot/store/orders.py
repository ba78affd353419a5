"""Orders: look-ups and the changes the bot and the agents make, each in one transaction.

The rules come from `voicebot.domain.policy`; this module applies them under a row lock
and files the ticket and the call event that record each change. Rule violations are
`NotAllowed` with a stable code, so a refusal reads the same in every caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from voicebot.domain import policy
from voicebot.domain.errors import InvalidInput, NotAllowed, OrderNotFound
from voicebot.domain.phone import digits, last_four_match
from voicebot.domain.records import (
    Address,
    AddressChange,
    Cancellation,
    OrderRow,
    RefundRequest,
    to_json,
)
from voicebot.domain.records import Order as OrderRecord
from voicebot.domain.records import Refund as RefundRecord
from voicebot.domain.types import OrderStatus, RefundStatus, TicketKind, utc_now
from voicebot.store.attempts import AttemptLimiter, AttemptRule
from voicebot.store.calls import CallRepository
from voicebot.store.models import Order, Refund
from voicebot.store.records import order_record, refund_record
from voicebot.store.session import Repository, full_order
from voicebot.store.tickets import new_ticket

_ZIP = re.compile(r"^\d{5}$")
# "221B Baker St, Apt 2, Springfield, IL 62704" -> line, city, state, optional ZIP.
_US_ADDRESS = re.compile(
    r"^(?P<line>.+?)\s*,\s*(?P<city>[^,]+?)\s*,?\s+(?P<state>[A-Za-z]{2})\.?(?:\s+(?P<zip>\d{5})(?:-\d{4})?)?$"
)
_US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split()
)


def identity_matches(order: Order, phone_last4: str | None, postcode: str | None) -> bool:
    """True when at least one check was given and every given check matches."""
    checks = []
    if phone_last4:
        checks.append(last_four_match(phone_last4, order.customer.phone))
    if postcode:
        checks.append(digits(postcode)[:5] == order.shipping_address.postcode)
    return bool(checks) and all(checks)


def _refund_order(order: Order, status: RefundStatus, reason: str, now: datetime) -> Refund:
    """The whole order's amount back to the original payment, expected within the processing time."""
    refund = Refund(
        amount_cents=order.total_cents,
        status=status,
        method="original_payment",
        requested_at=now,
        expected_by=(now + timedelta(days=policy.REFUND_PROCESSING_DAYS)).date(),
        reason=reason,
    )
    order.refunds.append(refund)
    return refund


@dataclass(frozen=True)
class IdentityCheckLimits:
    """Failed identity checks allowed per order (whoever asks) and per call before the checks are locked."""

    per_order: AttemptRule = AttemptRule(5, timedelta(hours=1), timedelta(hours=1), timedelta(hours=24))
    per_call: AttemptRule = AttemptRule(3, timedelta(days=1), timedelta(days=1), timedelta(days=1))


class OrderRepository(Repository):
    """Order look-ups and changes; `calls` records what was done for which call."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        calls: CallRepository,
        attempts: AttemptLimiter,
        *,
        identity_limits: IdentityCheckLimits = IdentityCheckLimits(),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(sessions, clock=clock)
        self._calls = calls
        self._attempts = attempts
        self._identity_limits = identity_limits

    def _identity_keys(self, number: str, call_id: str | None) -> list[tuple[str, AttemptRule]]:
        keys = [(f"verify-order:{number}", self._identity_limits.per_order)]
        return keys + ([(f"verify-call:{call_id}", self._identity_limits.per_call)] if call_id else [])

    @contextmanager
    def _limited_identity_check(self, number: str, call_id: str | None) -> Iterator[dict[str, bool]]:
        """Around one identity check: refused (`TooManyAttempts`) while the order or the call is locked;
        a failure (the block sets `outcome["failed"]`, or raises identity_check_failed) is counted."""
        keys = self._identity_keys(number, call_id)
        self._attempts.check(*(key for key, _ in keys))
        outcome = {"failed": False}
        try:
            yield outcome
        except NotAllowed as refused:
            outcome["failed"] = refused.code == "identity_check_failed"
            raise
        finally:
            if outcome["failed"]:
                for key, rule in keys:
                    self._attempts.failed(key, rule)

    def _load(self, session: Session, number: str) -> Order:
        order = session.scalars(full_order().where(Order.order_number == number)).one_or_none()
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

    def get_order(self, number: str, call_id: str | None = None) -> OrderRecord:
        with self._calls.noting(call_id, "order_lookup", number) as note, self._transaction() as session:
            order = order_record(self._load(session, number), self._clock())
            note["status"] = order.status
            return order

    def list_orders(self) -> list[OrderRow]:
        with self._transaction() as session:
            orders = session.scalars(
                select(Order).options(selectinload(Order.customer)).order_by(Order.order_number)
            ).all()
            return [
                OrderRow(order_number=o.order_number, status=str(o.status), expected_delivery=o.expected_delivery, customer=o.customer.name)
                for o in orders
            ]

    def cancel_order(self, number: str, call_id: str | None = None) -> Cancellation:
        """Cancel an order that has not shipped; a paid one gets a refund in processing."""
        with self._calls.noting(call_id, "cancel", number), self._transaction() as session:
            order = self._lock(session, number)
            refusal = policy.cancellation_refusal(number, order.status)
            if refusal:
                raise refusal
            was = order.status
            now = self._clock()
            order.status = OrderStatus.CANCELLED
            order.expected_delivery = None
            refund = _refund_order(order, RefundStatus.PROCESSING, "Order cancelled", now) if policy.cancellation_refunds(was) else None
            ticket = new_ticket(
                session,
                TicketKind.CANCELLATION,
                order,
                call_id,
                f"Order {number} cancelled",
                {"previous_status": str(was), "refund": refund is not None},
                now,
            )
            session.flush()
            return Cancellation(
                order=order_record(order, now), ticket_id=ticket.id, refund=refund_record(refund) if refund else None
            )

    def verify_identity(
        self, number: str, phone_last4: str | None = None, postcode: str | None = None, call_id: str | None = None
    ) -> bool:
        with self._limited_identity_check(number, call_id) as outcome:
            with self._calls.noting(call_id, "identity_check", number) as note, self._transaction() as session:
                verified = identity_matches(self._load(session, number), phone_last4, postcode)
                note["verified"] = verified
            outcome["failed"] = not verified
            return verified

    def change_address(
        self,
        number: str,
        address: str,
        postcode: str | None = None,
        phone_last4: str | None = None,
        postcode_check: str | None = None,
        call_id: str | None = None,
    ) -> AddressChange:
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
        new_postcode = digits(postcode) if postcode else (parsed["zip"] if parsed and parsed["zip"] else None)
        if new_postcode is not None and not _ZIP.match(new_postcode):
            raise InvalidInput("A US ZIP code has five digits.")
        with (
            self._limited_identity_check(number, call_id),
            self._calls.noting(call_id, "address_change", number),
            self._transaction() as session,
        ):
            order = self._lock(session, number)
            if not identity_matches(order, phone_last4, postcode_check):
                raise NotAllowed("identity_check_failed", "The details given do not match this order.")
            refusal = policy.address_change_refusal(number, order.status)
            if refusal:
                raise refusal
            old = order.shipping_address
            order.shipping_address = Address(
                line=parsed["line"] if parsed else address,
                city=parsed["city"] if parsed else old.city,
                state=parsed["state"].upper() if parsed else old.state,
                postcode=new_postcode or old.postcode,
            )
            now = self._clock()
            ticket = new_ticket(
                session,
                TicketKind.ADDRESS_CHANGE,
                order,
                call_id,
                f"Shipping address changed on order {number}",
                {"old": to_json(old), "new": to_json(order.shipping_address), "as_said": address},
                now,
            )
            session.flush()
            return AddressChange(order=order_record(order, now), ticket_id=ticket.id)

    def refund_status(self, number: str) -> list[RefundRecord]:
        with self._transaction() as session:
            return [refund_record(r) for r in self._load(session, number).refunds]

    def request_refund(self, number: str, reason: str, call_id: str | None = None) -> RefundRequest:
        """Open a refund request for a delivered order inside the return window."""
        reason = reason.strip()
        if not reason:
            raise InvalidInput("A refund request needs a reason.")
        with self._calls.noting(call_id, "refund_request", number), self._transaction() as session:
            order = self._lock(session, number)
            now = self._clock()
            refusal = policy.refund_refusal(number, order.status, order.delivered_at, [r.status for r in order.refunds], now)
            if refusal:
                raise refusal
            refund = _refund_order(order, RefundStatus.REQUESTED, reason, now)
            ticket = new_ticket(
                session,
                TicketKind.REFUND_REQUEST,
                order,
                call_id,
                f"Refund requested for order {number}",
                {"reason": reason},
                now,
            )
            session.flush()
            return RefundRequest(ticket_id=ticket.id, refund=refund_record(refund))
