"""Holding for a person: what a handed-off caller hears until someone takes the call.

`Hold` keeps the caller informed (their place in the queue now and then, the pickup),
lets an agent's browser join the line (bridge.py), and hears what the caller says on
hold: a call-back request makes `CallBackBooking` ask for a time and book it; anything
else is noted for the agent. The call's processor owns the turn lock and the task the
announcements run in.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Protocol

from voicebot.dialogue.service import BotTurn
from voicebot.domain.records import CallbackBooked, HoldStatus, QueuedHandoff
from voicebot.handoff.callback import parse_callback_time, spoken_time
from voicebot.prompts import queue_status, say
from voicebot.voice.bridge import AgentAudioBridge, Bridges
from voicebot.voice.carrier import CallInfo

logger = logging.getLogger(__name__)

KEYS_ON_HOLD = {"1": "call me back"}  # the call-back offer: "press 1 or say call me back"
CALLBACK_WORDS = re.compile(r"\bcall(?:ing)? (?:me )?back\b|\bcallback\b")
CALLBACK_ATTEMPTS = 2

Speak = Callable[[Iterable[str]], Awaitable[None]]
End = Callable[[str], Awaitable[None]]


class HoldDialogue(Protocol):
    """What holding needs from voicebot.dialogue.DialogueService."""

    async def say(self, call_id: str, text: str) -> BotTurn: ...

    async def hold_status(self, handoff_id: int) -> HoldStatus: ...

    async def schedule_callback(self, handoff_id: int, when: datetime) -> CallbackBooked: ...

    async def transfer_requested(self, call_id: str, handoff: QueuedHandoff, transfer: dict[str, str]) -> None: ...


class CallBackBooking:
    """Asks a caller on hold when to call them back, and books it; after two unclear answers they keep holding."""

    def __init__(self, dialogue: HoldDialogue, call_id: str, handoff_id: int, speak: Speak, end: End) -> None:
        self._dialogue = dialogue
        self._call_id = call_id
        self._handoff_id = handoff_id
        self._speak = speak
        self._end = end
        self._attempts: int | None = None  # set while asking for a time

    @property
    def asking(self) -> bool:
        return self._attempts is not None

    async def hear(self, text: str) -> None:
        if self._attempts is None:
            if CALLBACK_WORDS.search(text.lower()):
                self._attempts = 0
                await self._speak([say("callback_ask")])
            else:
                # Anything else said on hold is for the agent: noted in the summary, acknowledged.
                turn = await self._dialogue.say(self._call_id, text)
                await self._speak(turn.bot_texts)
            return
        now = datetime.now().astimezone()
        when = parse_callback_time(text, now)
        if when is None:
            self._attempts += 1
            if self._attempts < CALLBACK_ATTEMPTS:
                await self._speak([say("callback_retry")])
            else:
                self._attempts = None
                await self._speak([say("callback_give_up")])
            return
        try:
            await self._dialogue.schedule_callback(self._handoff_id, when)
        except Exception:  # the agent took the call meanwhile, or the database is down: keep holding
            logger.exception("Call %s: could not book the call-back", self._call_id)
            self._attempts = None
            await self._speak([say("callback_give_up")])
            return
        await self._speak([say("callback_booked", when=spoken_time(when, now))])
        await self._end("handed_off")


class Hold:
    """One handed-off caller on the line for a person: no reprompts, a progress note now and then.

    `handoff` is the bot turn's handoff, queued (its `handoff_id` is set). With `bridges`, an agent
    who accepted the call can talk to the caller from the browser; `agent_voice` speaks
    their audio into the call.
    """

    def __init__(
        self,
        *,
        dialogue: HoldDialogue,
        call: CallInfo,
        handoff: QueuedHandoff,
        speak: Speak,
        end: End,
        announce_every_s: float,
        bridges: Bridges | None,
        agent_voice: Callable[[bytes], Awaitable[None]],
    ) -> None:
        self._dialogue = dialogue
        self._call = call
        self._handoff = handoff
        self._speak = speak
        self._end = end
        self._announce_every_s = announce_every_s
        self._bridges = bridges
        self._agent_voice = agent_voice
        self._bridge: AgentAudioBridge | None = None
        assert handoff.handoff_id is not None, "only a queued handoff can be waited for"
        self._handoff_id = handoff.handoff_id
        self._callback = CallBackBooking(dialogue, call.call_id, self._handoff_id, speak, end)
        self._over = False

    @property
    def _with_agent(self) -> bool:
        return bool(self._bridge and self._bridge.connected)

    async def begin(self) -> None:
        """Opens the line to the agent's browser, tells the carrier it may take the call, offers a call-back."""
        if self._bridges is not None:
            self._bridge = AgentAudioBridge(self._call.call_id, self._agent_voice, lambda: self._end("handed_off"))
            self._bridges.add(self._bridge)
        await self._dialogue.transfer_requested(self._call.call_id, self._handoff, self._call.transfer)
        await self._speak([say("callback_offer")])

    def close(self) -> None:
        """The call ended: no more announcements, and the agent's browser is let go."""
        self._over = True
        if self._bridge and self._bridges is not None:
            self._bridges.remove(self._call.call_id)
            self._bridge.connected = False

    async def hear(self, text: str) -> None:
        """What the caller said (or keyed) on hold; called under the processor's turn lock."""
        if self._with_agent:
            return  # talking to a person now: their words are for the agent
        await self._callback.hear(text)

    async def keep_informed(self) -> None:
        """Runs until the call ends: the caller's place in the queue, then the pickup."""
        picked_up = False
        while not self._over:
            await asyncio.sleep(self._announce_every_s)
            if self._over:
                return
            status = await self._dialogue.hold_status(self._handoff_id)
            if status.status == "waiting":
                if not self._callback.asking:  # not while the caller is giving a call-back time
                    place = queue_status(status.position, status.expected_wait_s)
                    await self._speak([say("still_holding", status=place)])
            elif status.status == "accepted":
                if not picked_up and not self._with_agent:
                    await self._speak([say("agent_picking_up")])
                picked_up = True
            else:  # wrapped up, called back or abandoned: nothing left for this line
                await self._end("handed_off")
