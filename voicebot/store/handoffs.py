"""Handoffs: the queue of calls waiting for a person, and what becomes of each (accepted, call-back, transfer...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from voicebot.domain.errors import NotAllowed, NotFound
from voicebot.domain.records import CallbackBooked
from voicebot.domain.records import Handoff as HandoffRecord
from voicebot.domain.types import HandoffStatus, TicketKind
from voicebot.store.models import Handoff
from voicebot.store.records import handoff_record
from voicebot.store.session import Repository
from voicebot.store.tickets import caller_of, handoff_ticket


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


class HandoffRepository(Repository):
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

    def schedule_callback(self, handoff_id: int, when: datetime) -> CallbackBooked:
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
            return CallbackBooked(ticket_id=ticket.id, handoff_id=handoff.id, call_id=handoff.call_id, queue=handoff.queue, at=when)

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

    def mark_transferred(self, call_id: str) -> HandoffRecord:
        """The telephony side is taking the call to its own queue: the latest waiting handoff moves with it."""
        with self._transaction() as session:
            handoff = latest_handoff_of(session, call_id)
            if handoff.status == HandoffStatus.WAITING:
                handoff.status = HandoffStatus.TRANSFERRED
            return handoff_record(handoff)

    def get_handoff(self, handoff_id: int) -> HandoffRecord:
        with self._transaction() as session:
            return handoff_record(load_handoff(session, handoff_id))

    def set_handoff_summary(self, handoff_id: int, text: str, summary: dict[str, Any]) -> None:
        with self._transaction() as session:
            handoff = load_handoff(session, handoff_id)
            handoff.summary, handoff.summary_json = text, summary

    def latest_handoff(self, call_id: str) -> HandoffRecord:
        with self._transaction() as session:
            return handoff_record(latest_handoff_of(session, call_id))
