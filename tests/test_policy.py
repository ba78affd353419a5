"""The order policy (voicebot/domain/policy.py): the one place that decides, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from voicebot.domain import policy
from voicebot.domain.types import OrderStatus, RefundStatus

S = OrderStatus
DELIVERED_AT = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (DELIVERED_AT + timedelta(days=30), True),  # the very last moment
        (DELIVERED_AT + timedelta(days=30, seconds=1), False),
        (DELIVERED_AT + timedelta(days=29, hours=23), True),
        # 30 days later in UTC is already the next calendar day in Tokyo; the window does not care.
        ((DELIVERED_AT + timedelta(days=30)).astimezone(timezone(timedelta(hours=9))), True),
    ],
)
def test_the_return_window_ends_exactly_thirty_days_after_delivery(now: datetime, allowed: bool) -> None:
    refusal = policy.refund_refusal("106347", S.DELIVERED, DELIVERED_AT, [], now)
    assert (refusal is None) == allowed
    decided = policy.order_policy("106347", S.DELIVERED, DELIVERED_AT, [], now)
    assert decided.can_request_refund == allowed and decided.refund_until == DELIVERED_AT + timedelta(days=30)
    if not allowed:
        assert refusal is not None and refusal.code == "outside_return_window"


def test_only_orders_that_have_not_shipped_can_be_cancelled_or_re_addressed() -> None:
    for status in S:
        cancel, readdress = policy.cancellation_refusal("1", status), policy.address_change_refusal("1", status)
        decided = policy.order_policy("1", status, None, [], DELIVERED_AT)
        assert decided.can_cancel == (status in {S.PENDING, S.PAID, S.PACKED}) == (cancel is None)
        assert decided.can_change_address == decided.can_cancel == (readdress is None)
        if status is S.CANCELLED:
            assert cancel.code == readdress.code == "already_cancelled"
        elif cancel is not None:
            assert cancel.code == readdress.code == "already_shipped"


@pytest.mark.parametrize(
    ("status", "refunds", "code"),
    [
        (S.DELIVERED, [RefundStatus.PROCESSING], "refund_already_requested"),
        (S.CANCELLED, [], "already_cancelled"),
        (S.REFUNDED, [], "already_refunded"),
        (S.IN_TRANSIT, [], "not_delivered"),
    ],
)
def test_refund_refusals_say_why(status: OrderStatus, refunds: list[RefundStatus], code: str) -> None:
    refusal = policy.refund_refusal("1", status, DELIVERED_AT if status is not S.IN_TRANSIT else None, refunds, DELIVERED_AT)
    assert refusal is not None and refusal.code == code
    assert not policy.order_policy("1", status, None, refunds, DELIVERED_AT).can_request_refund


def test_a_rejected_refund_does_not_block_a_new_request() -> None:
    assert policy.refund_refusal("1", S.DELIVERED, DELIVERED_AT, [RefundStatus.REJECTED], DELIVERED_AT) is None
