"""Tickets for the back office, filed inside the transaction of the change they record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicebot.domain.types import TicketKind, TicketStatus
from voicebot.store.customers import customer_by_phone
from voicebot.store.models import Call, Handoff, Order, Ticket


def new_ticket(
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
    """File a ticket in the caller's transaction; against the order when there is one."""
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
    customer = None if order else customer_by_phone(session, caller_of(session, handoff))
    return new_ticket(
        session, kind, order, handoff.call_id, subject, body, now, customer_id=customer.id if customer else None, status=status
    )
