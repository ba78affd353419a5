"""Customers: who is behind an order or a calling number, their orders, tickets and past calls."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicebot.domain.phone import phone_key
from voicebot.domain.records import Customer as CustomerRecord
from voicebot.domain.records import Order as OrderRecord
from voicebot.domain.records import PastCall, TicketRow
from voicebot.store.models import Call, Customer, Order, Ticket
from voicebot.store.records import customer_record, order_record
from voicebot.store.session import Repository, full_order


def customer_by_phone(session: Session, phone: str | None) -> Customer | None:
    """Matched on `phone_key`, so +1 (555) 010-4233 and 5550104233 are the same caller."""
    wanted = phone_key(phone)
    if wanted is None:
        return None
    candidates = session.scalars(select(Customer).where(Customer.phone.like(f"%{wanted[-4:]}")))
    return next((c for c in candidates if phone_key(c.phone) == wanted), None)


class CustomerRepository(Repository):
    def customer_for(self, order_number: str | None = None, phone: str | None = None) -> CustomerRecord | None:
        """The customer behind an order, else behind the calling number, else None."""
        with self._transaction() as session:
            customer = None
            if order_number:
                order = session.scalars(select(Order).where(Order.order_number == order_number)).one_or_none()
                customer = order.customer if order else None
            if customer is None:
                customer = customer_by_phone(session, phone)
            return customer_record(customer) if customer else None

    def customer_orders(self, customer_id: int, limit: int = 10) -> list[OrderRecord]:
        """The customer's latest orders, newest first, with shipments and refunds."""
        with self._transaction() as session:
            orders = session.scalars(
                full_order().where(Order.customer_id == customer_id).order_by(Order.placed_at.desc()).limit(limit)
            )
            now = self._clock()
            return [order_record(o, now) for o in orders]

    def tickets(self, customer_id: int, limit: int = 20) -> list[TicketRow]:
        with self._transaction() as session:
            rows = session.scalars(
                select(Ticket).where(Ticket.customer_id == customer_id).order_by(Ticket.created_at.desc()).limit(limit)
            )
            return [
                TicketRow(id=t.id, kind=str(t.kind), status=str(t.status), subject=t.subject, created_at=t.created_at, call_id=t.call_id)
                for t in rows
            ]

    def past_calls(self, phone: str | None, excluding: str | None = None, limit: int = 10) -> list[PastCall]:
        """Earlier calls from the same number (matched like `customer_by_phone`), newest first."""
        wanted = phone_key(phone)
        if wanted is None:
            return []
        with self._transaction() as session:
            rows = session.scalars(
                select(Call)
                .where(Call.caller.like(f"%{wanted[-4:]}"), Call.id != (excluding or ""))
                .order_by(Call.started_at.desc())
            )
            calls = [c for c in rows if phone_key(c.caller) == wanted][:limit]
            return [
                PastCall(call_id=c.id, started_at=c.started_at, outcome=str(c.outcome) if c.outcome else None, turns=c.turn_count)
                for c in calls
            ]
