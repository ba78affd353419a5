"""The dialogue bridge: one caller turn in, the bot's turn out, through the Rasa server.

Rasa keeps the conversation state per call (sender id = call id); this service adds
what a phone line needs around it: call records, the recognised intent for each turn,
and a guarantee that the caller always hears something. If Rasa or the action server
fails, the turn becomes an apology and a handoff instead of silence.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from voicebot.dialogue.nlu import NluParse, TrackerTurn
from voicebot.domain.errors import ServiceError
from voicebot.domain.records import SPEECH_FAILED, CallbackBooked, HoldStatus, QueuedHandoff, TurnEntity, to_json
from voicebot.domain.redact import redact, redact_entity
from voicebot.emotion import TextEmotion, repeat_contact, sustained_anger
from voicebot.events.bus import Publish
from voicebot.handoff.service import HandoffService
from voicebot.prompts import say
from voicebot.store.calls import CallRepository
from voicebot.store.session import DatabaseUnavailable

RECORD_ERRORS = (ServiceError, DatabaseUnavailable)

logger = logging.getLogger(__name__)

GREETING_TRIGGER = "/greet"
# Sent to Rasa instead of the caller's words once they have been upset for several turns:
# the rules answer it with a handoff (reason angry_caller).
UPSET_TRIGGER = "/caller_upset"


@dataclass
class BotTurn:
    call_id: str
    caller_text: str | None
    bot_texts: list[str]
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # the Rasa actions run for this turn
    handoff: QueuedHandoff | None = None  # the call was handed to people
    end_call: bool = False
    failed: bool = False
    requested_slot: str | None = None  # what the bot just asked for, e.g. "order_number"
    latency_ms: float = 0.0
    seq: int | None = None  # the turn's number in the call record, once stored
    changed_something: bool = False  # an action changed data (cancelled, checked identity...), or the call was handed off or ended

    @property
    def can_take_back(self) -> bool:
        """Only talk happened: Rasa can forget the turn and the record can withdraw it (`DialogueService.go_on`)."""
        return self.caller_text is not None and self.seq is not None and not self.changed_something

    @property
    def bot_text(self) -> str:
        return " ".join(self.bot_texts)

    def to_dict(self) -> dict[str, Any]:
        """The turn as the text API answers it: redacted like the call record (a card number said is not echoed)."""
        shown = {**to_json(self), "caller_text": redact(self.caller_text), "bot_texts": [redact(t) for t in self.bot_texts]}
        shown["entities"] = [redact_entity(self.caller_text, e) for e in self.entities]
        return {**shown, "bot_text": redact(self.bot_text)}


class DialogueService:
    """Talks to Rasa's REST channel for every call and keeps the call records."""

    def __init__(
        self,
        rasa_url: str,
        calls: CallRepository,
        handoffs: HandoffService,
        timeout_s: float = 10.0,
        emotion: TextEmotion | None = None,
        publish: Publish = lambda _type, _data: None,
        rasa_token: str = "",
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.calls = calls
        self.handoffs = handoffs
        self.emotion = emotion
        self.publish = publish  # the event stream: live transcripts for agents
        # Rasa's API wants its token as ?token=; the engine's channel (nlu/channels.py) as a bearer header.
        self.client = httpx.AsyncClient(
            timeout=timeout_s, params={"token": rasa_token}, headers={"Authorization": f"Bearer {rasa_token}"}
        )

    def _conversation_url(self, call_id: str) -> str:
        """Rasa's URL of a conversation; the id is quoted, so no call id can name another path."""
        return f"{self.rasa_url}/conversations/{quote(call_id, safe='')}"

    async def close(self) -> None:
        await self.client.aclose()

    async def start_call(
        self, caller: str | None = None, channel: str = "text", call_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> BotTurn:
        """Opens a call record and returns the bot's greeting.

        `metadata` (caller number, telephony custom parameters) goes to Rasa with the
        first message; Rasa keeps it in the `session_started_metadata` slot for actions.
        """
        call_id = call_id or str(uuid.uuid4())
        await self._record(lambda: self.calls.start_call(call_id=call_id, caller=caller, channel=channel))
        return await self._exchange(call_id, GREETING_TRIGGER, caller_text=None, metadata={"channel": channel, **(metadata or {})})

    async def say(self, call_id: str, text: str) -> BotTurn:
        """One caller turn; a caller upset for several turns, or upset and saying they have
        asked before ("I've been calling all week"), is handed to a person. Once the call
        is handed off, the caller's words are noted for the agent instead (`on_hold`)."""
        emotion = await asyncio.to_thread(self.emotion.label, text) if self.emotion else None
        held = await self._record(lambda: self.handoffs.holding(call_id))
        if held is not None:
            return await self._on_hold(call_id, held, text, emotion)
        message = text
        if emotion in ("angry", "frustrated") and await asyncio.to_thread(self._escalate, call_id, text, emotion):
            logger.info("Call %s: caller upset (for several turns, or asking again), handing off", call_id)
            message = UPSET_TRIGGER + await self._order_numbers_in(text)
        # The actions read the turn's emotion from the message metadata: a handoff routes by it.
        return await self._exchange(call_id, message, caller_text=text, metadata={"emotion": emotion}, emotion=emotion)

    async def go_on(self, call_id: str, earlier: BotTurn, text: str) -> BotTurn:
        """The caller went on talking just after the bot took its turn ("Hello." … "I'd like to know where my
        order is."): if the answer to the first part changed nothing, Rasa forgets that turn, the record
        withdraws it, and both parts are answered as one turn; otherwise `text` is a turn of its own."""
        if earlier.can_take_back and await self._take_back(call_id, earlier):
            return await self.say(call_id, f"{earlier.caller_text} {text}")
        return await self.say(call_id, text)

    async def _take_back(self, call_id: str, earlier: BotTurn) -> bool:
        try:
            # "rewind" undoes the latest user message and all after it; the listen puts Rasa back to waiting for one.
            response = await self.client.post(
                f"{self._conversation_url(call_id)}/tracker/events",
                json=[{"event": "rewind"}, {"event": "action", "name": "action_listen"}],
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            logger.warning("Call %s: could not take back turn %s, answering the rest on its own: %s", call_id, earlier.seq, error)
            return False
        seq = earlier.seq
        assert seq is not None  # can_take_back
        await self._record(lambda: self.calls.take_back_turn(call_id, seq))
        logger.info("Call %s: caller went on after turn %s; answering both parts as one", call_id, seq)
        return True

    async def _on_hold(self, call_id: str, handoff_id: int, text: str, emotion: str | None) -> BotTurn:
        """Words from a caller waiting for a person ("it's one zero one eight seven four"): on
        record with their parse, in the agent's summary, and acknowledged; never acted on
        (a "don't cancel it" on hold must not cancel anything)."""
        started = time.perf_counter()
        try:
            parse = await self._parse(text)
            turn = BotTurn(call_id, text, [say("noted_on_hold")], parse.intent, parse.confidence, parse.entities)
        except (httpx.HTTPError, ValueError) as error:
            logger.warning("Call %s: could not parse words said on hold: %s", call_id, error)
            turn = BotTurn(call_id, text, [say("noted_on_hold")])
        turn.latency_ms = (time.perf_counter() - started) * 1000
        await self._keep(turn, emotion)
        await self._record(lambda: self.handoffs.refresh_summary(handoff_id))
        return turn

    async def _parse(self, text: str) -> NluParse:
        """What NLU makes of the words, without touching the conversation (Rasa's /model/parse)."""
        response = await self.client.post(f"{self.rasa_url}/model/parse", json={"text": text})
        response.raise_for_status()
        return NluParse.from_rasa(response.json(), text=text)

    async def _order_numbers_in(self, text: str) -> str:
        """The order number in the words as a trigger's entities (`{"order_number": "108425"}`),
        so the handoff an upset caller gets still knows which order they called about."""
        try:
            entities = (await self._parse(text)).entities
        except (httpx.HTTPError, ValueError) as error:
            logger.warning("Could not parse an upset caller's words: %s", error)
            return ""
        numbers = [e["value"] for e in entities if e.get("entity") == "order_number"]
        return json.dumps({"order_number": numbers[-1]}) if numbers else ""

    def _escalate(self, call_id: str, text: str, emotion: str) -> bool:
        """An upset caller who says they asked before, or sustained anger over the recorded
        turns plus this one; not when the call was already escalated for it."""
        try:
            turns = self.calls.get_call(call_id).turns
        except RECORD_ERRORS:
            return repeat_contact(text)
        if any(t.intent == UPSET_TRIGGER.lstrip("/") for t in turns):
            return False
        return repeat_contact(text) or sustained_anger([t.emotion for t in turns] + [emotion])

    async def end_call(self, call_id: str, outcome: str) -> None:
        await self._record(lambda: self.calls.end_call(call_id, outcome))
        await self._record(lambda: self.handoffs.caller_left(call_id))
        self.publish("call.ended", {"call_id": call_id, "outcome": outcome})

    async def close_calls(self, outcome: str, *, channel: str | None = None, idle_since: datetime | None = None) -> list[str]:
        """Ends the open calls `CallRepository.close_open_calls` picks, as `end_call` would: their
        handoffs leave the queues and the event stream hears of each."""
        closed = await self._record(lambda: self.calls.close_open_calls(outcome, channel=channel, idle_since=idle_since)) or []
        for call_id in closed:
            await self._record(lambda call_id=call_id: self.handoffs.caller_left(call_id))
            self.publish("call.ended", {"call_id": call_id, "outcome": outcome})
        return closed

    async def hold_status(self, handoff_id: int) -> HoldStatus:
        """For a caller on hold: is the handoff still waiting, and where in the queue."""
        return await asyncio.to_thread(self.handoffs.status, handoff_id)

    async def schedule_callback(self, handoff_id: int, when: datetime) -> CallbackBooked:
        return await asyncio.to_thread(self.handoffs.schedule_callback, handoff_id, when)

    async def transfer_requested(self, call_id: str, handoff: QueuedHandoff, transfer: dict[str, str]) -> None:
        """Tells the telephony side (event stream) it may take the call.

        `transfer` is what the call's carrier needs to move it (its CallInfo.transfer,
        e.g. the path of its transfer instructions), published as it is.
        """
        self.publish(
            "call.transfer",
            {"call_id": call_id, "handoff_id": handoff.handoff_id, "queue": handoff.queue, **transfer},
        )

    async def speech_failed(self, call_id: str, text: str, hand_off: bool) -> QueuedHandoff | None:
        """The caller could not be told `text` (the TTS failed, even on a retry): the call record says so,
        and with `hand_off` the call goes to a person, as after a dialogue failure."""
        await self._record(lambda: self.calls.record_event(call_id, SPEECH_FAILED, None, {"unspoken": redact(text)}))
        if not hand_off:
            return None
        return await asyncio.to_thread(self._internal_error_handoff, call_id)  # its summary lists the speech failure

    def _internal_error_handoff(self, call_id: str) -> QueuedHandoff:
        """The call queued for a person after a failure of ours; not queued if even that cannot be recorded."""
        try:
            return self.handoffs.hand_off(call_id, "internal_error")
        except RECORD_ERRORS as error:
            logger.error("Could not record the handoff for call %s: %s", call_id, error)
            return self.handoffs.not_queued(call_id, "internal_error")

    async def record_latency(self, call_id: str, latency_ms: dict[str, float]) -> None:
        """Stage timings of the call's latest spoken turn (see voicebot.voice.latency)."""
        await self._record(lambda: self.calls.set_turn_latency(call_id, latency_ms))

    async def _exchange(
        self,
        call_id: str,
        message: str,
        caller_text: str | None,
        metadata: dict[str, Any] | None = None,
        emotion: str | None = None,
    ) -> BotTurn:
        started = time.perf_counter()
        kinds_before = await self._record(lambda: self.calls.event_kinds(call_id))
        try:
            turn = await self._ask_rasa(call_id, message, caller_text, metadata)
        except (httpx.HTTPError, ValueError) as error:
            logger.error("Dialogue failed for call %s: %s", call_id, error)
            turn = await asyncio.to_thread(self._failure, call_id, caller_text)
        turn.latency_ms = (time.perf_counter() - started) * 1000
        kinds = await self._record(lambda: self.calls.event_kinds(call_id))
        turn.changed_something = (
            turn.handoff is not None or turn.end_call or turn.failed or kinds_before is None or kinds is None
            or any(kind != "order_lookup" for kind in kinds[len(kinds_before):])
        )
        await self._keep(turn, emotion)
        if turn.handoff and turn.handoff.handoff_id is not None:
            handoff_id = turn.handoff.handoff_id
            await self._record(lambda: self.handoffs.refresh_summary(handoff_id))
        return turn

    async def _keep(self, turn: BotTurn, emotion: str | None) -> None:
        """Stores the turn in the call record and shows it to agents (the live transcript)."""
        stored = await self._record(
            lambda: self.calls.add_turn(
                turn.call_id, turn.caller_text, turn.intent, turn.confidence, turn.bot_text, emotion=emotion,
                entities=[
                    TurnEntity(str(e["entity"]), str(redact_entity(turn.caller_text, e).get("value")))
                    for e in turn.entities if e.get("entity")
                ],
                actions=turn.actions,
            )
        )
        turn.seq = stored.seq if stored else None
        # What agents see is what was stored: redacted (or redacted here when the store is down).
        caller_said, bot_said = (stored.caller_text, stored.bot_text) if stored else (redact(turn.caller_text), redact(turn.bot_text))
        self.publish(
            "call.turn",
            {"call_id": turn.call_id, "caller_text": caller_said, "bot_text": bot_said, "intent": turn.intent, "emotion": emotion},
        )

    async def _ask_rasa(
        self, call_id: str, message: str, caller_text: str | None, metadata: dict[str, Any] | None
    ) -> BotTurn:
        payload: dict[str, Any] = {"sender": call_id, "message": message}
        if metadata:
            payload["metadata"] = metadata
        response = await self.client.post(f"{self.rasa_url}/webhooks/engine/webhook", json=payload)
        response.raise_for_status()
        turn = BotTurn(call_id=call_id, caller_text=caller_text, bot_texts=[])
        handoff_notice: dict[str, Any] | None = None
        for item in response.json():
            if item.get("text"):
                turn.bot_texts.append(item["text"])
            custom = item.get("custom") or {}
            handoff_notice = custom.get("handoff", handoff_notice)
            turn.end_call = turn.end_call or "end_call" in custom
        if not turn.bot_texts:
            # Rasa answers with nothing when a custom action crashed or timed out.
            raise ValueError("Rasa returned no bot message (action server down?)")
        # All events, not just the latest message: a fallback reverts the utterance, and the
        # record must keep what was said and parsed, and what the bot did about it.
        tracker = await self.client.get(
            f"{self._conversation_url(call_id)}/tracker", params={"include_events": "ALL"}
        )
        tracker.raise_for_status()
        state = tracker.json()
        turn.requested_slot = (state.get("slots") or {}).get("requested_slot")
        said = TrackerTurn.from_events(state.get("events") or [])
        if said is not None:
            turn.intent, turn.confidence, turn.entities = said.parse.intent, said.parse.confidence, said.parse.entities
            turn.actions = said.actions
        if handoff_notice is not None:
            turn.handoff = await asyncio.to_thread(self._queued, call_id, handoff_notice)
        return turn

    def _queued(self, call_id: str, notice: dict[str, Any]) -> QueuedHandoff:
        """An action's `handoff` message names the handoff it queued (`handoff_id`, None if it could not): look it up."""
        reason = str(notice.get("reason") or "caller_request")
        handoff_id = notice.get("handoff_id")
        if isinstance(handoff_id, int):
            try:
                return self.handoffs.queued(handoff_id)
            except RECORD_ERRORS as error:
                logger.error("Could not read handoff %s of call %s: %s", handoff_id, call_id, error)
        return self.handoffs.not_queued(call_id, reason)

    def _failure(self, call_id: str, caller_text: str | None) -> BotTurn:
        handoff = self._internal_error_handoff(call_id)
        return BotTurn(call_id=call_id, caller_text=caller_text, bot_texts=[say("apology_handoff")], handoff=handoff, failed=True)

    async def _record(self, write: Callable[[], Any]) -> Any:
        """Call records must never break the conversation: log and go on (off the event loop); None on failure."""
        try:
            return await asyncio.to_thread(write)
        except RECORD_ERRORS as error:
            logger.error("Could not write the call record: %s", error)
            return None
