"""The agent's work on handed-off calls: the queues, taking a call, its context, the wrap-up.

Plain Python over the database, like the store's repositories; the routes in routes.py only check
who is asking. Taking a call is one conditional UPDATE, so two agents clicking "accept"
at once cannot both get it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from voicebot.desk.agents import SignedIn
from voicebot.domain.errors import Forbidden, InvalidInput, NotAllowed, NotFound
from voicebot.domain.phone import masked
from voicebot.domain.records import to_json
from voicebot.domain.types import HandoffStatus, TicketKind, TicketStatus, utc_now
from voicebot.events.bus import Publish
from voicebot.store.handoffs import load_handoff
from voicebot.store.models import Call, Handoff
from voicebot.store.records import handoff_record
from voicebot.store.repositories import Store
from voicebot.store.session import transaction
from voicebot.store.tickets import handoff_ticket

DISPOSITIONS = {
    "resolved": "Resolved on the call",
    "follow_up": "Follow-up needed (back office)",
    "refund_issued": "Refund or compensation issued",
    "escalated": "Escalated to a specialist team",
    "callback": "Call-back arranged",
    "no_action": "No action needed",
}


ADDRESS_SLOTS = ("new_address", "address_so_far")  # the dialogue's slots that hold a caller's address


def masked_slots(collected: dict[str, Any] | None) -> dict[str, Any] | None:
    """The dialogue's slots without the address a caller gave (shown once someone takes the call)."""
    if not collected or not any(collected.get(slot) for slot in ADDRESS_SLOTS):
        return collected
    return {**collected, **{slot: "(given)" for slot in ADDRESS_SLOTS if collected.get(slot)}}


def masked_summary(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    """A handoff summary as every agent of the queue sees it: the caller's number masked (•••0147),
    any address they gave left out."""
    if not summary:
        return summary
    caller = summary.get("caller") or {}
    shown = {**summary, "collected": masked_slots(summary.get("collected"))} if "collected" in summary else dict(summary)
    if caller.get("phone"):
        shown["caller"] = {**caller, "phone": masked(caller["phone"])}
    return shown


def queue_entry(handoff: dict[str, Any]) -> dict[str, Any]:
    """A waiting handoff as the queue list shows it."""
    return {**handoff, "collected": masked_slots(handoff.get("collected")), "summary_json": masked_summary(handoff.get("summary_json"))}


def queue_event(message: dict[str, Any]) -> dict[str, Any]:
    """An event-stream message as agents get it: handoff summaries and slots masked as in the queue list."""
    data = message.get("data") or {}
    if message.get("type") not in ("handoff.waiting", "handoff.updated"):
        return message
    shown = {**data, "summary": masked_summary(data["summary"])} if isinstance(data.get("summary"), dict) else dict(data)
    if isinstance(data.get("collected"), dict):
        shown["collected"] = masked_slots(data["collected"])
    return {**message, "data": shown}


class AgentDesk:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: Store,
        publish: Publish = lambda _type, _data: None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self.store = store
        self.publish = publish
        self._clock = clock

    def _transaction(self) -> AbstractContextManager[Session]:
        return transaction(self._sessions)

    def waiting(self, agent: SignedIn) -> list[dict[str, Any]]:
        """Calls waiting in the agent's queues, the one to take next first (caller numbers masked:
        every agent of the queue sees the list; the one who accepts a call gets it whole)."""
        now = self._clock()
        with self._transaction() as session:
            rows = session.scalars(
                select(Handoff)
                .where(Handoff.status == HandoffStatus.WAITING)
                .order_by(Handoff.priority.desc(), Handoff.created_at)
            )
            return [
                {**queue_entry(to_json(handoff_record(h))), "waiting_s": round((now - h.created_at).total_seconds())}
                for h in rows
                if agent.is_supervisor or agent.serves(h.queue)
            ]

    def accept(self, handoff_id: int, agent: SignedIn) -> dict[str, Any]:
        with self._transaction() as session:
            handoff = load_handoff(session, handoff_id)
            if not (agent.is_supervisor or agent.serves(handoff.queue)):
                raise Forbidden(f"Queue {handoff.queue} is not one of yours.")
            taken = session.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.WAITING)
                .values(status=HandoffStatus.ACCEPTED, accepted_by=agent.agent_id, accepted_at=self._clock())
                .returning(Handoff.id)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if taken is None:
                raise NotAllowed("not_waiting", f"Handoff {handoff_id} is {handoff.status}: someone else has it, or it ended.")
            session.refresh(handoff)
            result = handoff_record(handoff)
        self.publish("handoff.accepted", {"handoff_id": handoff_id, "call_id": result.call_id, "queue": result.queue, "agent": agent.as_dict()})
        return to_json(result)

    def _check_owner(self, handoff: Handoff, agent: SignedIn) -> None:
        if handoff.accepted_by != agent.agent_id and not agent.is_supervisor:
            raise Forbidden("Only the agent who took this call can do that.")

    def context(self, handoff_id: int, agent: SignedIn) -> dict[str, Any]:
        """The screen pop: summary, customer, their orders and shipments, refunds, past calls and tickets, transcript."""
        with self._transaction() as session:
            handoff = load_handoff(session, handoff_id)
            if not (agent.is_supervisor or agent.serves(handoff.queue)):
                raise Forbidden(f"Queue {handoff.queue} is not one of yours.")
            result = handoff_record(handoff)
        summary = result.summary_json or {}
        numbers = [o["order_number"] for o in summary.get("orders", [])]
        customers = self.store.customers
        customer = customers.customer_for(order_number=numbers[0] if numbers else None, phone=(summary.get("caller") or {}).get("phone"))
        orders = customers.customer_orders(customer.id) if customer else []
        tickets = customers.tickets(customer.id) if customer else []
        past_calls = customers.past_calls(customer.phone, excluding=result.call_id) if customer else []
        transcript = ()
        if result.call_id:
            try:
                transcript = self.store.calls.get_call(result.call_id).turns
            except NotFound:
                transcript = ()
        return {
            "handoff": to_json(result),
            "customer": to_json(customer),
            "orders": to_json(orders),
            "tickets": to_json(tickets),
            "past_calls": to_json(past_calls),
            "transcript": to_json(transcript),
            "wrap_up_draft": wrap_up_draft(summary),
            "dispositions": DISPOSITIONS,
        }

    def wrap_up(self, handoff_id: int, agent: SignedIn, notes: str, disposition: str) -> dict[str, Any]:
        """Files the agent's notes as a wrap-up ticket and closes the handoff."""
        notes = notes.strip()
        if not notes:
            raise InvalidInput("Wrap-up notes cannot be empty.")
        if disposition not in DISPOSITIONS:
            raise InvalidInput(f"Unknown disposition {disposition!r}: use one of {', '.join(DISPOSITIONS)}.")
        with self._transaction() as session:
            handoff = load_handoff(session, handoff_id)
            self._check_owner(handoff, agent)
            if handoff.status != HandoffStatus.ACCEPTED:
                raise NotAllowed("not_accepted", f"Handoff {handoff_id} is {handoff.status}, not in progress.")
            now = self._clock()
            ticket = handoff_ticket(
                session,
                handoff,
                TicketKind.WRAP_UP,
                f"Call wrap-up: {DISPOSITIONS[disposition]}",
                {"notes": notes, "disposition": disposition, "agent": agent.username, "handoff_id": handoff_id},
                now,
                status=TicketStatus.CLOSED if disposition in ("resolved", "no_action") else TicketStatus.OPEN,
            )
            handoff.status, handoff.closed_at = HandoffStatus.CLOSED, now
            session.flush()
            result = {"ticket_id": ticket.id, "handoff_id": handoff_id, "disposition": disposition, "status": str(ticket.status)}
        if handoff.call_id:
            try:  # a conversation still open (a text chat) ends with the agent's wrap-up
                self.store.calls.end_call(handoff.call_id, "handed_off")
            except (NotAllowed, NotFound):
                pass  # already ended (the phone caller hung up), or no call record
        self.publish("handoff.closed", {**result, "call_id": handoff.call_id, "queue": handoff.queue})
        return result

    def overview(self) -> dict[str, Any]:
        """For supervisors: each queue's waiting calls and longest wait, and today's calls by outcome."""
        now = self._clock()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        with self._transaction() as session:
            waiting = session.scalars(select(Handoff).where(Handoff.status == HandoffStatus.WAITING)).all()
            queues: dict[str, dict[str, Any]] = {}
            for h in waiting:
                q = queues.setdefault(h.queue, {"queue": h.queue, "waiting": 0, "longest_wait_s": 0})
                q["waiting"] += 1
                q["longest_wait_s"] = max(q["longest_wait_s"], round((now - h.created_at).total_seconds()))
            calls = session.scalars(
                select(Call).where(Call.started_at >= midnight).order_by(Call.started_at.desc()).limit(200)
            ).all()
            outcomes = dict(
                session.execute(
                    select(Call.outcome, func.count(Call.id)).where(Call.started_at >= midnight).group_by(Call.outcome)
                ).all()
            )
            handed = {h.call_id: h for h in session.scalars(select(Handoff).where(Handoff.created_at >= midnight))}
            return {
                "queues": sorted(queues.values(), key=lambda q: -q["waiting"]),
                "today": {
                    "bot_resolved": outcomes.get("resolved", 0),
                    "handed_off": outcomes.get("handed_off", 0),
                    "abandoned": outcomes.get("abandoned", 0),
                    "failed": outcomes.get("failed", 0),
                    "in_progress": outcomes.get(None, 0),
                },
                "calls": [
                    {
                        "call_id": c.id,
                        "started_at": to_json(c.started_at),
                        "caller": c.caller,
                        "channel": str(c.channel),
                        "outcome": str(c.outcome) if c.outcome else "in progress",
                        "queue": handed[c.id].queue if c.id in handed else None,
                        "handoff_status": handed[c.id].status if c.id in handed else None,
                    }
                    for c in calls
                ],
            }


def wrap_up_draft(summary: dict[str, Any]) -> str:
    """Notes pre-filled from the summary; the agent edits them rather than starting blank."""
    if not summary:
        return ""
    caller = summary.get("caller") or {}
    lines = [
        f"Caller: {caller.get('name') or 'unknown'} ({caller.get('phone') or 'number unknown'}), identity {caller.get('identity', 'not checked')}.",
        f"Reason for transfer: {summary.get('reason_text', summary.get('reason', ''))}.",
    ]
    if summary.get("orders"):
        lines.append("Orders: " + ", ".join(f"{o['order_number']} ({o['status'].replace('_', ' ')})" for o in summary["orders"]) + ".")
    done = [a["text"] for a in summary.get("bot_actions", [])]
    if done:
        lines.append("Bot: " + "; ".join(done) + ".")
    lines.append("Agent action: ")
    return "\n".join(lines)

