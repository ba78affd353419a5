"""Handing a call to a person: gather the call's state, route it, summarise it, queue it.

Every handoff goes through here — those the Rasa actions ask for over the order API
and those the engine makes itself (an internal failure) — so each one gets a queue from
the routing rules and a summary built from the same call state.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from voicebot.domain.errors import CallNotFound, NotFound, OrderNotFound
from voicebot.domain.records import (
    CallbackBooked,
    CallEvent,
    CallRecord,
    Handoff,
    HoldStatus,
    Order,
    QueuedHandoff,
    to_json,
)
from voicebot.domain.types import HandoffStatus
from voicebot.events.bus import Publish
from voicebot.handoff.routing import CallFacts, RoutingRules
from voicebot.handoff.summary import CallState, build_summary
from voicebot.prompts import queue_status, say
from voicebot.store.repositories import Store

logger = logging.getLogger(__name__)


class HandoffService:
    def __init__(
        self,
        store: Store,
        rules: RoutingRules,
        average_handle_s: float = 180.0,
        publish: Publish = lambda _type, _data: None,
    ) -> None:
        self.store = store
        self.rules = rules
        self.average_handle_s = average_handle_s
        self.publish = publish

    def call_state(
        self, call_id: str | None, reason: str, collected: dict[str, Any], order_number: str | None
    ) -> CallState:
        """What the call has shown so far: its turns, what the bot did, its orders and customer."""
        call: CallRecord | None = None
        events: list[CallEvent] = []
        if call_id:
            try:
                call = self.store.calls.get_call(call_id)
            except CallNotFound:
                logger.warning("Handoff for unknown call %s: summarising what the request carries", call_id)
            events = self.store.calls.call_events(call_id)
        numbers: list[str] = []
        for number in [
            *(e.order_number for e in events if e.detail.get("outcome") == "done"),
            order_number,
            collected.get("order_number"),
            # Numbers the caller said that the bot never looked up ("third time I'm calling
            # about 108425", or read out on hold): the agent needs them just the same.
            *(e.value for t in (call.turns if call else ()) for e in t.entities if e.entity == "order_number"),
        ]:
            if number and number not in numbers:
                numbers.append(number)
        orders: list[Order] = []
        for number in numbers:
            try:
                orders.append(self.store.orders.get_order(number))
            except OrderNotFound:
                continue
        first = orders[0].order_number if orders else None
        caller = call.caller if call else None
        return CallState(
            call_id=call_id or "",
            reason=reason,
            caller=caller,
            turns=call.turns if call else (),
            events=tuple(events),
            collected=dict(collected),
            orders=tuple(orders),
            customer=self.store.customers.customer_for(order_number=first, phone=caller),
        )

    def hand_off(
        self,
        call_id: str | None,
        reason: str,
        intent: str | None = None,
        collected: dict[str, Any] | None = None,
        order_number: str | None = None,
        emotion: str | None = None,
    ) -> QueuedHandoff:
        """Queues the call; returns the handoff id, queue, place in the queue, expected wait and summary.

        `emotion` is the caller's in the turn being answered, which is not on record yet;
        without it the last recorded turn's emotion routes the call.
        """
        collected = dict(collected or {})
        state = self.call_state(call_id, reason, collected, order_number)
        customer = state.customer
        emotions = [t.emotion for t in state.turns if t.emotion] + ([emotion] if emotion else [])
        route = self.rules.route(
            CallFacts(
                intent=intent,
                reason=reason,
                tier=customer.tier if customer else None,
                emotion=emotions[-1] if emotions else None,
                language=customer.language if customer else None,
            )
        )
        summary = build_summary(replace(state, queue=route.queue, priority=route.priority))
        handoff_id = self.store.handoffs.record_handoff(
            call_id,
            reason,
            intent=intent,
            collected=collected,
            order_number=order_number or collected.get("order_number"),
            summary=summary["text"],
            queue=route.queue,
            priority=route.priority,
            routing_rule=route.rule,
            summary_json=summary,
        )
        logger.info("Call %s handed off (%s) to %s, rule %r", call_id, reason, route.queue, route.rule)
        queued = self.queued(handoff_id)
        self.publish("handoff.waiting", to_json(queued))
        return queued

    def queued(self, handoff_id: int) -> QueuedHandoff:
        """The handoff as the caller and the bot see it now: queue, place in it, the wait, what to say."""
        handoff = self.store.handoffs.get_handoff(handoff_id)
        position = self.store.handoffs.queue_position(handoff_id)
        wait = self.expected_wait_s(position)
        return QueuedHandoff(
            handoff_id=handoff_id,
            call_id=handoff.call_id,
            reason=handoff.reason,
            intent=handoff.intent,
            queue=handoff.queue,
            priority=handoff.priority,
            position=position,
            expected_wait_s=wait,
            announcement=say("hold_please", status=queue_status(position, wait)),
            collected=handoff.collected,
            summary=handoff.summary_json,
        )

    @staticmethod
    def not_queued(call_id: str | None, reason: str) -> QueuedHandoff:
        """A handoff the queue never heard of (the database is down): the caller still holds for a person."""
        return QueuedHandoff(
            handoff_id=None, call_id=call_id, reason=reason, intent=None, queue=None, priority=None, position=None,
            expected_wait_s=None, announcement=say("hold_shortly"), collected={}, summary=None,
        )

    def refresh_summary(self, handoff_id: int) -> dict[str, Any]:
        """Rebuilds the summary once the handoff turn itself is on record (its words and emotion).

        The bot asks for the handoff while the turn is still being answered, so the
        first summary lacks the caller's last words; the queue chosen then stays.
        """
        handoff = self.store.handoffs.get_handoff(handoff_id)
        state = self.call_state(handoff.call_id, handoff.reason, handoff.collected, handoff.order_number)
        summary = build_summary(replace(state, queue=handoff.queue, priority=handoff.priority))
        self.store.handoffs.set_handoff_summary(handoff_id, summary["text"], summary)
        self.publish("handoff.updated", {"handoff_id": handoff_id, "call_id": handoff.call_id, "queue": handoff.queue, "summary": summary})
        return summary

    def holding(self, call_id: str) -> int | None:
        """The handoff the caller is waiting on, or talking to an agent about: from then on
        their words are for people, not the bot. None when the call was never handed off
        (or its handoff is over: a call-back booked, wrapped up)."""
        try:
            handoff = self.store.handoffs.latest_handoff(call_id)
        except NotFound:
            return None
        return handoff.handoff_id if handoff.status in (HandoffStatus.WAITING, HandoffStatus.ACCEPTED) else None

    def status(self, handoff_id: int) -> HoldStatus:
        """Where a handoff stands now, for the caller on hold."""
        handoff = self.store.handoffs.get_handoff(handoff_id)
        position = self.store.handoffs.queue_position(handoff_id) if handoff.status == "waiting" else 0
        return HoldStatus(status=handoff.status, position=position, expected_wait_s=self.expected_wait_s(position))

    def expected_wait_s(self, position: int) -> int:
        return round(position * self.average_handle_s)

    def caller_left(self, call_id: str) -> None:
        for handoff in self.store.handoffs.abandon_waiting_handoffs(call_id):
            logger.info("Call %s: caller hung up while waiting in %s", call_id, handoff["queue"])
            self.publish("handoff.abandoned", handoff)

    def transfer(self, call_id: str) -> Handoff:
        """The telephony side takes the call (it fetched the transfer TwiML): the desk stops offering it."""
        handoff = self.store.handoffs.mark_transferred(call_id)
        self.publish("handoff.transferred", {"handoff_id": handoff.handoff_id, "call_id": call_id, "queue": handoff.queue})
        return handoff

    def schedule_callback(self, handoff_id: int, when: datetime) -> CallbackBooked:
        """The caller would rather be called back at `when`: a ticket for the queue, off the waiting list."""
        scheduled = self.store.handoffs.schedule_callback(handoff_id, when)
        self.publish("handoff.callback", to_json(scheduled))
        return scheduled
