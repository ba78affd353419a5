"""The call's dialogue step: a finished caller turn in, the bot's spoken answer out.

`CallDialogueProcessor` subclasses pipecat's UserTurnProcessor on purpose: the turn-stop
strategy fires while this processor handles the final TranscriptionFrame, so the
transcript is complete when the turn ends. A separate processor after a
UserTurnProcessor would see UserStoppedSpeakingFrame (a system frame) before the
TranscriptionFrame (a queued data frame) that caused it, and answer nothing.

Keypad input, silence and hang-ups become the same DialogueService calls as speech,
so Rasa never needs to know which channel a turn came from.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pipecat.audio.utils import create_stream_resampler
from pipecat.frames.frames import (
    EndWorkerFrame,
    Frame,
    InputDTMFFrame,
    OutputAudioRawFrame,
    OutputTransportMessageFrame,
    TranscriptionFrame,
    TTSSpeakFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessorSetup
from pipecat.turns.user_turn_processor import UserTurnProcessor
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from voicebot.dialogue.service import BotTurn
from voicebot.handoff.callback import parse_callback_time, spoken_time
from voicebot.voice.bridge import SAMPLE_RATE as BRIDGE_RATE
from voicebot.voice.bridge import AgentAudioBridge, Bridges
from voicebot.voice.turns import BargeInTurnStartStrategy, PhoneTurnStopStrategy

logger = logging.getLogger(__name__)

AGENT_REQUEST = "I want to speak to an agent"
CONNECTING = "A colleague is picking up your call now."
CALLBACK_OFFER = "If you'd rather we call you back, press 1 or say call me back."
CALLBACK_ASK = "Sure. When should we call you? For example, tomorrow at 10 am."
CALLBACK_RETRY = "Sorry, I need a time between 8 am and 8 pm, Monday to Saturday, within the next week. When should we call you?"
CALLBACK_GIVE_UP = "No problem, you're still in the queue."
CALLBACK_WORDS = re.compile(r"\bcall(?:ing)? (?:me )?back\b|\bcallback\b")
CALLBACK_ATTEMPTS = 2
REPROMPT = "Are you still there?"
SILENCE_GOODBYE = "I haven't heard from you, so I'll end the call now. Goodbye."
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# How many digits the number the bot just asked for has (Rasa's requested_slot):
# the turn is held open while fewer have been read out.
DIGITS_BY_SLOT = {"order_number": 6, "identity_answer": 4}
DEFAULT_EXPECTED_DIGITS = 6
LONG_FIRST_SENTENCE_WORDS = 10


@dataclass
class CallInfo:
    """Who is calling, as the telephony bridge learnt it when the call's stream started."""

    call_id: str
    stream_id: str
    caller: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)  # e.g. Twilio's <Stream> custom parameters

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())


class Dialogue(Protocol):
    """What the processor needs from voicebot.dialogue.DialogueService."""

    async def start_call(
        self, caller: str | None = None, channel: str = "text", call_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> BotTurn: ...

    async def say(self, call_id: str, text: str) -> BotTurn: ...

    async def end_call(self, call_id: str, outcome: str) -> None: ...

    async def hold_status(self, handoff_id: int) -> dict[str, Any]: ...

    async def schedule_callback(self, handoff_id: int, when: datetime) -> dict[str, Any]: ...

    async def transfer_requested(self, call_id: str, handoff: dict[str, Any]) -> None: ...


def still_waiting(position: int, expected_wait_s: float) -> str:
    """The announcement a caller on hold hears now and then."""
    minutes = max(1, round(expected_wait_s / 60))
    wait = "about a minute" if minutes == 1 else f"about {minutes} minutes"
    place = "You're next in the queue" if position <= 1 else f"You're number {position} in the queue"
    return f"Thanks for holding. {place}, and the wait is {wait}."


def sentences(texts: Iterable[str]) -> list[str]:
    """Bot messages → sentences; each becomes one TTS request, so the first plays while the next synthesises.

    A long first sentence is cut at its first comma: the caller hears the bot start
    as soon as the short head is synthesised, instead of after the whole sentence.
    """
    parts = [s.strip() for text in texts for s in _SENTENCE_END.split(text) if s.strip()]
    if parts and len(parts[0].split()) > LONG_FIRST_SENTENCE_WORDS:
        head, comma, tail = parts[0].partition(", ")
        if comma and len(head.split()) >= 3 and tail:
            parts[0:1] = [head + ",", tail]
    return parts


class DTMFCollector:
    """Keypad presses → one caller turn (pure logic; the pause timer lives in the processor).

    Digits accumulate until `#` (or a pause, via `flush`). A lone `0` is the usual
    "operator" key and becomes a request for an agent. `*` clears what was typed.
    """

    def __init__(self) -> None:
        self._digits: list[str] = []

    @property
    def pending(self) -> bool:
        return bool(self._digits)

    def press(self, key: str) -> str | None:
        """Returns the caller text when this key completes a turn."""
        if key == "#":
            return self.flush()
        if key == "*":
            self._digits.clear()
        else:
            self._digits.append(key)
        return None

    def flush(self) -> str | None:
        """Submits what was typed (on `#` or a pause); None when nothing was."""
        digits, self._digits = "".join(self._digits), []
        if not digits:
            return None
        return AGENT_REQUEST if digits == "0" else digits


class CallDialogueProcessor(UserTurnProcessor):
    """Turns each finished caller turn into a DialogueService turn and speaks the answer.

    Place it after STT and before TTS. Call `greet()` once the caller is connected and
    `hang_up()` when the websocket closes; `outcome` is set once the call has ended.
    """

    def __init__(
        self,
        *,
        dialogue: Dialogue,
        call: CallInfo,
        dtmf_timeout_s: float = 3.0,
        silence_timeout_s: float = 8.0,
        max_silences: int = 3,
        barge_in_min_speech_s: float = 0.6,
        user_speech_timeout_s: float = 0.2,
        digit_hold_s: float = 1.0,
        hold_announce_s: float = 45.0,
        bridges: Bridges | None = None,
        **kwargs: Any,
    ) -> None:
        self._turn_stop = PhoneTurnStopStrategy(user_speech_timeout=user_speech_timeout_s, digit_hold_s=digit_hold_s)
        # pipecat's idle controller times silence only while the bot is idle:
        # it starts when the bot stops speaking and stops when anyone speaks.
        super().__init__(
            user_idle_timeout=silence_timeout_s,
            user_turn_strategies=UserTurnStrategies(
                start=[BargeInTurnStartStrategy(min_speech_s=barge_in_min_speech_s)], stop=[self._turn_stop]
            ),
            **kwargs,
        )
        self._dialogue = dialogue
        self.call = call
        self._dtmf_timeout_s = dtmf_timeout_s
        self._max_silences = max_silences
        self._dtmf = DTMFCollector()
        self._dtmf_timer: asyncio.Task | None = None
        self._transcript: list[str] = []
        self._turn_lock = asyncio.Lock()  # one dialogue turn (or reprompt) at a time, in order
        self._silences = 0
        self._spoken_turns = 0
        self._started = False
        self._in_turn = False
        self._hold_announce_s = hold_announce_s
        self.holding: dict[str, Any] | None = None  # the handoff the caller waits on, once handed off
        self._bridges = bridges
        self.bridge: AgentAudioBridge | None = None  # an agent's browser audio, while on hold
        self._hold_task: asyncio.Task | None = None
        self._callback_attempts: int | None = None  # set while asking a held caller for a call-back time
        self._agent_resampler = create_stream_resampler()
        self._out_rate = 8000
        self.outcome: str | None = None

        self.add_event_handler("on_user_turn_started", self._on_turn_started)
        self.add_event_handler("on_user_turn_stopped", self._on_turn_stopped)
        self.add_event_handler("on_user_turn_idle", self._on_silence)

    @property
    def call_id(self) -> str:
        return self.call.call_id

    # --- lifecycle -------------------------------------------------------------------

    async def greet(self) -> None:
        """Opens the call record and speaks the bot's greeting."""
        async with self._turn_lock:
            if self._started or self.outcome:
                return
            self._started = True
            turn = await self._dialogue.start_call(
                caller=self.call.caller, channel="phone", call_id=self.call_id,
                metadata={"caller": self.call.caller, "parameters": self.call.parameters},
            )
            await self._speak_turn(turn)

    async def hang_up(self) -> None:
        """The caller's side closed: abandoned, unless they were already handed to a person.

        A caller on hold whose stream closes was either transferred by the telephony side
        (Twilio redirected the call to the transfer TwiML) or gave up waiting; either way
        the bot's part ended in a handoff (the handoff's own status tells which).
        """
        await self._cancel_dtmf_timer()
        self._drop_bridge()
        if self._started and self.outcome is None:
            self.outcome = "handed_off" if self.holding else "abandoned"
            await self._dialogue.end_call(self.call_id, self.outcome)

    async def cleanup(self) -> None:
        if self._hold_task:
            await self.cancel_task(self._hold_task)
            self._hold_task = None
        await super().cleanup()

    def _drop_bridge(self) -> None:
        if self.bridge and self._bridges is not None:
            self._bridges.remove(self.call_id)
        if self.bridge:
            self.bridge.connected = False

    # --- frames ----------------------------------------------------------------------

    async def setup(self, setup: FrameProcessorSetup) -> None:
        await super().setup(setup)
        self._out_rate = setup.audio_out_sample_rate or self._out_rate

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, TranscriptionFrame) and frame.text.strip():
            if self._in_turn:
                self._transcript.append(frame.text.strip())
            else:  # speech too short to interrupt the bot: "uh-huh", "okay", a cough
                logger.info("Call %s: ignored %r said over the bot", self.call_id, frame.text.strip())
        await super().process_frame(frame, direction)  # forwards it and runs the turn strategies
        if isinstance(frame, InputDTMFFrame):
            await self._on_key(frame.button.value)

    async def _on_turn_started(self, processor: UserTurnProcessor, strategy: Any) -> None:
        self._silences = 0
        self._in_turn = True

    async def _on_turn_stopped(self, processor: UserTurnProcessor, strategy: Any) -> None:
        self._in_turn = False
        text, self._transcript = " ".join(self._transcript), []
        if text:
            await self._answer(text)
        else:
            # Noise started a turn but nobody spoke: keep timing the silence.
            await self._user_idle_controller.wait_for_user()

    async def _on_key(self, key: str) -> None:
        if self.holding:
            if key == "1":  # the call-back offer
                self.create_task(self._on_hold_words("call me back"), name="callback-key")
            return
        self._silences = 0
        await self._cancel_dtmf_timer()
        text = self._dtmf.press(key)
        if text:
            # Off the frame path: a dialogue turn must not hold up system frames.
            self.create_task(self._answer(text), name="dtmf-turn")
        elif self._dtmf.pending:
            self._dtmf_timer = self.create_task(self._submit_after_pause(), name="dtmf-pause")
        await self._user_idle_controller.wait_for_user()  # typing is not silence

    async def _submit_after_pause(self) -> None:
        await asyncio.sleep(self._dtmf_timeout_s)
        self._dtmf_timer = None
        text = self._dtmf.flush()
        if text:
            await self._answer(text)

    async def _cancel_dtmf_timer(self) -> None:
        if self._dtmf_timer:
            await self.cancel_task(self._dtmf_timer)
            self._dtmf_timer = None

    async def _on_silence(self, processor: UserTurnProcessor) -> None:
        if self._turn_lock.locked() or self._dtmf.pending or self.holding:
            return  # the bot is busy answering, the caller is typing, or on hold (silence is expected)
        async with self._turn_lock:
            if self.outcome:
                return
            self._silences += 1
            if self._silences < self._max_silences:
                await self._speak([REPROMPT])
            else:
                await self._speak([SILENCE_GOODBYE])
                await self._end("abandoned")

    # --- dialogue --------------------------------------------------------------------

    async def _answer(self, text: str) -> None:
        async with self._turn_lock:
            if self.outcome:
                return
            if self.holding:
                await self._on_hold_words(text, locked=True)
                return
            self._silences = 0
            turn = await self._dialogue.say(self.call_id, text)
            if self.outcome is None:  # the caller may have hung up meanwhile
                await self._speak_turn(turn)

    async def _speak_turn(self, turn: BotTurn) -> None:
        self._turn_stop.expected_digits = DIGITS_BY_SLOT.get(turn.requested_slot or "", DEFAULT_EXPECTED_DIGITS)
        await self._speak(turn.bot_texts)
        if turn.end_call:
            await self._end("resolved")
        elif turn.handoff and turn.handoff.get("handoff_id") is not None:
            await self._hold(turn.handoff)
        elif turn.handoff:
            await self._end("handed_off")  # the handoff could not even be queued: nothing to wait for

    # --- on hold for a person ------------------------------------------------------------

    async def _hold(self, handoff: dict[str, Any]) -> None:
        """Keeps the caller on the line for a person: no reprompts, a progress note now and then."""
        self.holding = handoff
        if self._bridges is not None:
            self.bridge = AgentAudioBridge(self.call_id, self._say_agent_audio, lambda: self._end("handed_off"))
            self._bridges.add(self.bridge)
        await self._dialogue.transfer_requested(self.call_id, handoff)
        await self._speak([CALLBACK_OFFER])
        self._hold_task = self.create_task(self._hold_loop(handoff["handoff_id"]), name="hold")

    async def _on_hold_words(self, text: str, locked: bool = False) -> None:
        """On hold the caller can only ask for, and then give, a call-back time."""
        if not locked:
            async with self._turn_lock:
                return await self._on_hold_words(text, locked=True)
        if self.outcome or (self.bridge and self.bridge.connected):
            return  # talking to a person now: their words are for the agent
        if self._callback_attempts is None:
            if CALLBACK_WORDS.search(text.lower()):
                self._callback_attempts = 0
                await self._speak([CALLBACK_ASK])
            else:
                logger.info("Call %s: on hold, not answering %r", self.call_id, text)
            return
        now = datetime.now().astimezone()
        when = parse_callback_time(text, now)
        if when is None:
            self._callback_attempts += 1
            if self._callback_attempts < CALLBACK_ATTEMPTS:
                await self._speak([CALLBACK_RETRY])
            else:
                self._callback_attempts = None
                await self._speak([CALLBACK_GIVE_UP])
            return
        try:
            await self._dialogue.schedule_callback(self.holding["handoff_id"], when)
        except Exception:  # the agent took the call meanwhile, or the database is down: keep holding
            logger.exception("Call %s: could not book the call-back", self.call_id)
            self._callback_attempts = None
            await self._speak([CALLBACK_GIVE_UP])
            return
        await self._speak([f"Thanks. We'll call you back {spoken_time(when, now)} on the number you're calling from. Goodbye."])
        await self._end("handed_off")

    async def _say_agent_audio(self, pcm: bytes) -> None:
        """The agent's voice into the call, at the line's rate, in place of the bot."""
        audio = await self._agent_resampler.resample(pcm, BRIDGE_RATE, self._out_rate)
        await self.push_frame(OutputAudioRawFrame(audio=audio, sample_rate=self._out_rate, num_channels=1))

    async def _hold_loop(self, handoff_id: int) -> None:
        connected = False
        while self.outcome is None:
            await asyncio.sleep(self._hold_announce_s)
            if self.outcome:
                return
            status = await self._dialogue.hold_status(handoff_id)
            if status["status"] == "waiting":
                if self._callback_attempts is None:  # not while the caller is giving a call-back time
                    await self._speak([still_waiting(status["position"], status["expected_wait_s"])])
            elif status["status"] == "accepted":
                if not connected and not (self.bridge and self.bridge.connected):
                    await self._speak([CONNECTING])
                connected = True
            else:  # wrapped up, called back or abandoned: nothing left for this line
                await self._end("handed_off")

    async def _speak(self, texts: Iterable[str]) -> None:
        for sentence in sentences(texts):
            await self.push_frame(TTSSpeakFrame(sentence))
        # Queued behind that speech's audio, so Twilio echoes the mark once it was played.
        self._spoken_turns += 1
        mark = {"event": "mark", "streamSid": self.call.stream_id, "mark": {"name": f"bot-turn-{self._spoken_turns}"}}
        await self.push_frame(OutputTransportMessageFrame(message=mark))

    async def _end(self, outcome: str) -> None:
        """Ends the call after the queued speech has played, and records why."""
        if self.outcome:
            return
        self.outcome = outcome
        self._drop_bridge()
        await self._cancel_dtmf_timer()
        await self.push_frame(EndWorkerFrame(reason=outcome))  # not interruptible: survives a barge-in
        await self._dialogue.end_call(self.call_id, outcome)
        logger.info("Call %s ended: %s", self.call_id, outcome)
