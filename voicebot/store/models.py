"""SQLAlchemy models for customers, orders, shipments, refunds, tickets, handoffs, calls and agents.

Money is stored as integer cents (exact on every backend, no SQLite Decimal warnings);
timestamps are stored and returned as timezone-aware UTC; enums are stored as plain
strings so new values need no database type change.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    composite,
    mapped_column,
    relationship,
)

from voicebot.domain.records import Address
from voicebot.domain.types import (
    AgentRole,
    CallOutcome,
    Channel,
    CustomerTier,
    OrderStatus,
    RefundStatus,
    TicketKind,
    TicketStatus,
    utc_now,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _str_enum(enum_cls: type[enum.StrEnum]) -> Enum:
    """A VARCHAR column holding the enum's values, with no database-side enum type."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    # Named constraints so later migrations can alter them on SQLite (batch mode) and PostgreSQL alike.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON()}


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(16), index=True)
    email: Mapped[str] = mapped_column(String(120))
    tier: Mapped[CustomerTier] = mapped_column(_str_enum(CustomerTier), default=CustomerTier.STANDARD)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    orders: Mapped[list[Order]] = relationship(back_populates="customer")

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(6), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(_str_enum(OrderStatus), index=True)
    placed_at: Mapped[datetime]
    total_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    payment_method: Mapped[str] = mapped_column(String(40))
    shipping_address: Mapped[Address] = composite(
        mapped_column("ship_line", String(200)),
        mapped_column("ship_city", String(80)),
        mapped_column("ship_state", String(2)),
        mapped_column("ship_postcode", String(5)),
    )
    expected_delivery: Mapped[date | None]
    delivered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Shipment.shipped_at"
    )
    refunds: Mapped[list[Refund]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Refund.requested_at"
    )


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="items")


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(20))
    tracking_number: Mapped[str] = mapped_column(String(40), unique=True)
    shipped_at: Mapped[datetime]
    expected_delivery: Mapped[date | None]

    order: Mapped[Order] = relationship(back_populates="shipments")
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="TrackingEvent.occurred_at"
    )


class TrackingEvent(Base):
    __tablename__ = "tracking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(32))

    shipment: Mapped[Shipment] = relationship(back_populates="events")


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    amount_cents: Mapped[int]
    status: Mapped[RefundStatus] = mapped_column(_str_enum(RefundStatus))
    method: Mapped[str] = mapped_column(String(40))
    requested_at: Mapped[datetime]
    expected_by: Mapped[date | None]
    completed_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="refunds")


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TicketKind] = mapped_column(_str_enum(TicketKind))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    # Not a foreign key: tickets may be filed for calls recorded elsewhere (or not at all).
    call_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[TicketStatus] = mapped_column(_str_enum(TicketStatus), default=TicketStatus.OPEN)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str | None] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    intent: Mapped[str | None] = mapped_column(String(80))
    queue: Mapped[str] = mapped_column(String(40), default="general")
    priority: Mapped[int] = mapped_column(default=1)
    routing_rule: Mapped[str | None] = mapped_column(String(120))  # which rule chose the queue
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    collected: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[str | None] = mapped_column(Text)  # the two or three sentences an agent reads first
    summary_json: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # every fact, traceable to the call
    # Plain text, not a foreign key: the caller may have given a number that does not exist.
    order_number: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class CallEvent(Base):
    """Something the bot did or found out on a call (identity checked, cancellation refused...).

    Written by the order service as it acts for a call, so a handoff summary can say what
    already happened without parsing the bot's sentences.
    """

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(36), index=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    kind: Mapped[str] = mapped_column(String(40))
    order_number: Mapped[str | None] = mapped_column(String(12))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Agent(Base):
    """A person who takes handed-off calls in the agent desktop."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[AgentRole] = mapped_column(_str_enum(AgentRole), default=AgentRole.AGENT)
    queues: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"names": [...]}: empty = every queue
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AgentSession(Base):
    """A signed-in browser: only the token's hash is stored, and it expires."""

    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]


class FailedAttempts(Base):
    """Recent wrong guesses at a secret under one key (a username, a client, an order, a call), for throttling.

    In the database, not in memory, so every engine worker sharing it sees the same count.
    """

    __tablename__ = "failed_attempts"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failed_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    caller: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(_str_enum(Channel), default=Channel.TEXT)
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    ended_at: Mapped[datetime | None]
    outcome: Mapped[CallOutcome | None] = mapped_column(_str_enum(CallOutcome))
    # Incremented atomically to number turns, so concurrent writers never reuse a seq.
    turn_count: Mapped[int] = mapped_column(default=0)

    turns: Mapped[list[CallTurn]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallTurn.seq"
    )


class CallTurn(Base):
    __tablename__ = "call_turns"
    __table_args__ = (UniqueConstraint("call_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    seq: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utc_now)
    caller_text: Mapped[str | None] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(80))
    confidence: Mapped[float | None] = mapped_column(Float)
    bot_text: Mapped[str | None] = mapped_column(Text)
    # Spoken turns: milliseconds per stage, from the end of speech to the first bot audio.
    latency_ms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The caller's emotion in this turn (voicebot.emotion labels); None when there were no words.
    emotion: Mapped[str | None] = mapped_column(String(20))
    # This utterance's own entities ({entity, value}, values redacted) and the actions the bot took for it.
    entities: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    actions: Mapped[list[str] | None] = mapped_column(JSON)

    call: Mapped[Call] = relationship(back_populates="turns")
