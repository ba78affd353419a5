"""Call records: the call, its turns (redacted on write), stage timings, and what the bot did on it.

Every write of caller or bot words goes through `add_turn`, which redacts card numbers
and security codes first: no other path stores a transcript.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from voicebot.domain.errors import CallNotFound, InvalidInput, NotAllowed, OrderNotFound
from voicebot.domain.records import CallEvent as CallEventRecord
from voicebot.domain.records import TURN_TAKEN_BACK, CallRecord, Turn, TurnEntity
from voicebot.domain.redact import redact
from voicebot.domain.types import CallOutcome, Channel
from voicebot.store.models import Call, CallEvent, CallTurn
from voicebot.store.records import call_record, event_record, turn_record
from voicebot.store.session import Repository


class CallRepository(Repository):
    def start_call(self, call_id: str | None = None, caller: str | None = None, channel: str = "text") -> CallRecord:
        try:
            channel_value = Channel(channel)
        except ValueError:
            raise InvalidInput(f"Unknown channel {channel!r}.") from None
        with self._transaction() as session:
            call_id = call_id or str(uuid.uuid4())
            if session.get(Call, call_id) is not None:
                raise NotAllowed("call_exists", f"Call {call_id} already exists.")
            call = Call(id=call_id, caller=caller, channel=channel_value, started_at=self._clock(), turn_count=0)
            session.add(call)
            session.flush()
            return call_record(call)

    def add_turn(
        self,
        call_id: str,
        caller_text: str | None,
        intent: str | None = None,
        confidence: float | None = None,
        bot_text: str | None = None,
        emotion: str | None = None,
        entities: Sequence[TurnEntity] = (),
        actions: Sequence[str] = (),
    ) -> Turn:
        """Stores one turn, card numbers and security codes redacted from both sides and from the entities."""
        with self._transaction() as session:
            # Allocating the sequence number with one UPDATE keeps it unique under concurrency.
            seq = session.execute(
                update(Call)
                .where(Call.id == call_id, Call.ended_at.is_(None))
                .values(turn_count=Call.turn_count + 1)
                .returning(Call.turn_count)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if seq is None:
                _refuse_closed_call(session, call_id)
            turn = CallTurn(
                call_id=call_id,
                seq=seq,
                at=self._clock(),
                caller_text=redact(caller_text),
                intent=intent,
                confidence=confidence,
                bot_text=redact(bot_text),
                emotion=emotion,
                entities=[{"entity": e.entity, "value": redact(e.value)} for e in entities],
                actions=list(actions),
            )
            session.add(turn)
            session.flush()
            return turn_record(turn)

    def take_back_turn(self, call_id: str, seq: int) -> None:
        """Withdraws the call's latest turn, `seq`, because the caller went on talking and both parts are
        answered as one turn: the turn leaves the transcript, and a `turn_taken_back` event keeps its words."""
        with self._transaction() as session:
            turn = session.scalars(
                select(CallTurn).where(CallTurn.call_id == call_id).order_by(CallTurn.seq.desc()).limit(1)
            ).first()
            if turn is None or turn.seq != seq:
                raise NotAllowed("not_latest_turn", f"Turn {seq} is not the latest turn of call {call_id}.")
            detail = {"seq": seq, "caller_text": turn.caller_text, "intent": turn.intent, "bot_text": turn.bot_text}
            session.delete(turn)
            session.add(CallEvent(call_id=call_id, at=self._clock(), kind=TURN_TAKEN_BACK, order_number=None, detail=detail))

    def set_turn_latency(self, call_id: str, latency_ms: dict[str, float]) -> int | None:
        """Files a spoken turn's stage timings on the call's latest caller turn not yet timed.

        The timings are complete only once the bot's answer starts playing, after the
        turn was recorded (and maybe after the call was closed). Returns the turn's seq.
        """
        with self._transaction() as session:
            turn = session.scalars(
                select(CallTurn)
                .where(CallTurn.call_id == call_id, CallTurn.caller_text.is_not(None))
                .order_by(CallTurn.seq.desc())
                .limit(1)
            ).first()
            if turn is None or turn.latency_ms is not None:
                return None
            turn.latency_ms = latency_ms
            return turn.seq

    def end_call(self, call_id: str, outcome: str) -> CallRecord:
        try:
            outcome_value = CallOutcome(outcome)
        except ValueError:
            raise InvalidInput(f"Unknown call outcome {outcome!r}.") from None
        with self._transaction() as session:
            ended = session.execute(
                update(Call)
                .where(Call.id == call_id, Call.ended_at.is_(None))
                .values(ended_at=self._clock(), outcome=outcome_value)
                .returning(Call.id)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if ended is None:
                _refuse_closed_call(session, call_id)
            call = session.get(Call, call_id, populate_existing=True)
            assert call is not None
            return call_record(call)

    def close_open_calls(self, outcome: str, *, channel: str | None = None, idle_since: datetime | None = None) -> list[str]:
        """Ends every call still open (of `channel`; with no turn since `idle_since`) with `outcome`; their ids.

        At start-up every open call was interrupted by the crash or stop before: it is closed as
        failed. Text conversations have no line that closes: one idle too long is abandoned.
        """
        last_activity = func.coalesce(
            select(func.max(CallTurn.at)).where(CallTurn.call_id == Call.id).scalar_subquery(), Call.started_at
        )
        wanted = [Call.ended_at.is_(None)]
        if channel is not None:
            wanted.append(Call.channel == Channel(channel))
        if idle_since is not None:
            wanted.append(last_activity < idle_since)
        with self._transaction() as session:
            return list(
                session.execute(
                    update(Call).where(*wanted).values(ended_at=self._clock(), outcome=CallOutcome(outcome))
                    .returning(Call.id).execution_options(synchronize_session=False)
                ).scalars()
            )

    def get_call(self, call_id: str) -> CallRecord:
        with self._transaction() as session:
            call = session.get(Call, call_id, options=[selectinload(Call.turns)])
            if call is None:
                raise CallNotFound(call_id)
            return call_record(call, call.turns)

    # -- what the bot did on a call --------------------------------------------------------

    @contextmanager
    def noting(self, call_id: str | None, action: str, number: str | None) -> Iterator[dict[str, Any]]:
        """Records `action` on the call with its outcome (done, refused + code, not_found).

        The event is written in its own transaction after the action's, so a refusal,
        which rolls the action back, is still on record. The block may add details.
        """
        detail: dict[str, Any] = {}
        if not call_id:
            yield detail
            return
        try:
            yield detail
        except NotAllowed as refused:
            self.record_event(call_id, action, number, {**detail, "outcome": "refused", "code": refused.code})
            raise
        except OrderNotFound:
            self.record_event(call_id, action, number, {**detail, "outcome": "not_found"})
            raise
        self.record_event(call_id, action, number, {**detail, "outcome": "done"})

    def record_event(self, call_id: str, kind: str, order_number: str | None = None, detail: dict[str, Any] | None = None) -> None:
        with self._transaction() as session:
            session.add(CallEvent(call_id=call_id, at=self._clock(), kind=kind, order_number=order_number, detail=dict(detail or {})))

    def event_kinds(self, call_id: str) -> list[str]:
        """The kinds of the call's events, in order: what a turn did, without reading their details."""
        with self._transaction() as session:
            return list(session.scalars(select(CallEvent.kind).where(CallEvent.call_id == call_id).order_by(CallEvent.id)))

    def call_events(self, call_id: str) -> list[CallEventRecord]:
        with self._transaction() as session:
            events = session.scalars(select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id))
            return [event_record(e) for e in events]


def _refuse_closed_call(session: Session, call_id: str) -> NoReturn:
    """An update matched no open call: say whether it is unknown or already over."""
    if session.get(Call, call_id) is None:
        raise CallNotFound(call_id)
    raise NotAllowed("call_ended", f"Call {call_id} has already ended.")
