"""`Store`: the repositories over one database, built together so they share the session factory and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from voicebot.domain.types import utc_now
from voicebot.store.attempts import AttemptLimiter
from voicebot.store.calls import CallRepository
from voicebot.store.customers import CustomerRepository
from voicebot.store.handoffs import HandoffRepository
from voicebot.store.orders import IdentityCheckLimits, OrderRepository


@dataclass(frozen=True)
class Store:
    orders: OrderRepository
    calls: CallRepository
    handoffs: HandoffRepository
    customers: CustomerRepository

    @classmethod
    def open(
        cls,
        sessions: sessionmaker[Session],
        *,
        identity_limits: IdentityCheckLimits = IdentityCheckLimits(),
        clock: Callable[[], datetime] = utc_now,
    ) -> Store:
        calls = CallRepository(sessions, clock=clock)
        attempts = AttemptLimiter(sessions, clock=clock)
        return cls(
            orders=OrderRepository(sessions, calls, attempts, identity_limits=identity_limits, clock=clock),
            calls=calls,
            handoffs=HandoffRepository(sessions, clock=clock),
            customers=CustomerRepository(sessions, clock=clock),
        )
