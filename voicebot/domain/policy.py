"""The order policy, decided here and only here: who may cancel, re-address or ask for a refund, and until when.

The store applies these decisions when it changes an order, and every order the API
returns carries them (`OrderPolicy`), so the Rasa actions phrase the engine's own
answer instead of re-deciding it. All times are UTC: the return window ends exactly
`RETURN_WINDOW` after delivery, whatever the caller's or the server's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from voicebot.domain.errors import NotAllowed
from voicebot.domain.types import OrderStatus, RefundStatus

RETURN_WINDOW_DAYS = 30
RETURN_WINDOW = timedelta(days=RETURN_WINDOW_DAYS)
REFUND_PROCESSING_DAYS = 10  # a refund is expected on the customer's account within this

# Orders that have not left the warehouse: they can still be cancelled or re-addressed.
NOT_SHIPPED = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PACKED})
# Orders with the carrier: too late to cancel, too early to return.
IN_DELIVERY = frozenset(
    {OrderStatus.SHIPPED, OrderStatus.IN_TRANSIT, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELAYED, OrderStatus.EXCEPTION}
)
OPEN_REFUND = frozenset({RefundStatus.REQUESTED, RefundStatus.APPROVED, RefundStatus.PROCESSING})


@dataclass(frozen=True)
class OrderPolicy:
    """What may be done with one order now; the API sends it with the order."""

    can_cancel: bool
    can_change_address: bool
    can_request_refund: bool
    refund_until: datetime | None  # the last moment a refund may be requested; None until delivered
    in_delivery: bool
    return_window_days: int = RETURN_WINDOW_DAYS


def refund_until(delivered_at: datetime | None) -> datetime | None:
    return delivered_at + RETURN_WINDOW if delivered_at is not None else None


def cancellation_refusal(number: str, status: OrderStatus) -> NotAllowed | None:
    """Why the order cannot be cancelled, or None when it can."""
    if status is OrderStatus.CANCELLED:
        return NotAllowed("already_cancelled", f"Order {number} is already cancelled.")
    if status not in NOT_SHIPPED:
        return NotAllowed("already_shipped", f"Order {number} is {status.replace('_', ' ')} and can no longer be cancelled.")
    return None


def cancellation_refunds(status: OrderStatus) -> bool:
    """A cancelled order that was already paid for gets its money back."""
    return status is not OrderStatus.PENDING


def address_change_refusal(number: str, status: OrderStatus) -> NotAllowed | None:
    """Why the delivery address cannot change any more, or None when it can (identity is checked apart)."""
    if status is OrderStatus.CANCELLED:
        return NotAllowed("already_cancelled", f"Order {number} is cancelled.")
    if status not in NOT_SHIPPED:
        return NotAllowed("already_shipped", f"Order {number} has already shipped; the address cannot change.")
    return None


def refund_refusal(
    number: str, status: OrderStatus, delivered_at: datetime | None, refunds: Iterable[RefundStatus], now: datetime
) -> NotAllowed | None:
    """Why no refund may be requested for the order now, or None when one may."""
    if any(refund in OPEN_REFUND for refund in refunds):
        return NotAllowed("refund_already_requested", f"A refund for order {number} is already in progress.")
    if status is OrderStatus.CANCELLED:
        return NotAllowed("already_cancelled", f"Order {number} was cancelled.")
    if status is OrderStatus.REFUNDED:
        return NotAllowed("already_refunded", f"Order {number} has already been refunded.")
    deadline = refund_until(delivered_at)
    if status is not OrderStatus.DELIVERED or deadline is None:
        return NotAllowed("not_delivered", f"Order {number} has not been delivered yet.")
    if now > deadline:
        return NotAllowed("outside_return_window", f"Order {number} was delivered more than {RETURN_WINDOW_DAYS} days ago.")
    return None


def order_policy(
    number: str, status: OrderStatus, delivered_at: datetime | None, refunds: Iterable[RefundStatus], now: datetime
) -> OrderPolicy:
    return OrderPolicy(
        can_cancel=cancellation_refusal(number, status) is None,
        can_change_address=address_change_refusal(number, status) is None,
        can_request_refund=refund_refusal(number, status, delivered_at, list(refunds), now) is None,
        refund_until=refund_until(delivered_at) if status is OrderStatus.DELIVERED else None,
        in_delivery=status in IN_DELIVERY,
    )
