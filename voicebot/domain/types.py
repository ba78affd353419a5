"""The domain's vocabulary: the states orders, refunds, calls, handoffs and tickets can be in.

Plain string enums, stored as their values; the store layer maps them to columns.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    PACKED = "packed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    EXCEPTION = "exception"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    REFUNDED = "refunded"


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PROCESSING = "processing"
    COMPLETED = "completed"
    REJECTED = "rejected"


class CustomerTier(enum.StrEnum):
    STANDARD = "standard"
    VIP = "vip"


class TicketKind(enum.StrEnum):
    REFUND_REQUEST = "refund_request"
    ADDRESS_CHANGE = "address_change"
    CALLBACK = "callback"
    WRAP_UP = "wrap_up"
    CANCELLATION = "cancellation"


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Channel(enum.StrEnum):
    TEXT = "text"
    PHONE = "phone"


class CallOutcome(enum.StrEnum):
    RESOLVED = "resolved"
    HANDED_OFF = "handed_off"
    ABANDONED = "abandoned"
    FAILED = "failed"


class HandoffStatus(enum.StrEnum):
    WAITING = "waiting"  # in its queue, no agent yet
    ACCEPTED = "accepted"  # an agent took the call
    TRANSFERRED = "transferred"  # the telephony side fetched the transfer TwiML and took the call to its own queue
    CALLBACK = "callback"  # the caller chose a call-back instead of waiting (a ticket holds the time)
    ABANDONED = "abandoned"  # the caller hung up while waiting
    CLOSED = "closed"  # the agent finished and wrapped up


class AgentRole(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


def utc_now() -> datetime:
    return datetime.now(UTC)
