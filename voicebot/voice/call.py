"""The call's dialogue step: a finished caller turn in, the bot's spoken answer out.

`CallDialogueProcessor` subclasses pipecat's UserTurnProcessor on purpose: the turn-stop
strategy fires while this processor handles the final TranscriptionFrame, so the
transcript is complete when the turn ends. A separate processor after a
UserTurnProcessor would see UserStoppedSpeakingFrame (a system frame) before the
TranscriptionFrame (a queued data frame) that caused it, and answer nothing.

Keypad input, silence and hang-ups become the same DialogueService calls as speech,
so Rasa never needs to know which channel a turn came from. This module assembles
turns and times silence; dtmf.py reads the keypad, hold.py keeps a handed-off caller
company (and books call-backs), bridge.py carries an agent's voice. Every sentence
the bot says here comes from voicebot.prompts.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import (
    BotStoppedSpeakingFrame,
    EndWorkerFrame,
    Frame,
    InputDTMFFrame,
    TranscriptionFrame,
    TTSSpeakFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessorSetup
from pipecat.turns.user_turn_processor import UserTurnProcessor
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from voicebot.dialogue.service import BotTurn
from voicebot.domain.records import QueuedHandoff
from voicebot.prompts import say
from voicebot.voice.bridge import AgentVoice, Bridges
from voicebot.voice.carrier import CallInfo
from voicebot.voice.compat import wait_for_user
from voicebot.voice.dtmf import DTMFCollector
from voicebot.voice.frames import BotTurnSpokenFrame, ExpectedAnswerFrame, SpeechFailedFrame
from voicebot.voice.hold import KEYS_ON_HOLD, Hold, HoldDialogue
from voicebot.voice.smart_turn import TurnCompletionModel
from voicebot.voice.turns import BargeInTurnStartStrategy, PhoneTurnStopStrategy, TurnEndRule, TurnExpectation
from voicebot.voice.whisper import Heard

logger = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# How many digits the number the bot just asked for has (Rasa's requested_slot):
# the turn is held open while fewer have been read out.
DIGITS_BY_SLOT = {"order_number": 6, "identity_answer": 4, "new_address": 5}  # the address ends with its zip code
DEFAULT_EXPECTED_DIGITS = 6
LONG_FIRST_SENTENCE_WORDS = 10
MAX_REPEAT_ASKS = 1  # then the doubted words go to the dialogue after all: its own reprompts and handoff take over
UNHEARD_SPEECH_S = 0.5  # a turn this long with no words Whisper could make out was speech: the caller is asked again
# Speech that starts this soon after the bot took its turn, or this far into its answer (a few words
# heard), goes on with the same thought ("I have a question." … "Where is my order?"): both parts
# become one turn, unless the bot had finished its answer first.
GOES_ON_WITHIN_S = 1.0
GOES_ON_INTO_ANSWER_S = 0.8
VAD_START_S = VADParams().start_secs  # speech the VAD hears before it reports a start


@dataclass(frozen=True)
class Answered:
    """The caller's latest spoken turn the bot answered: when that turn ended, and when its answer went
    to the speech synthesiser (None: held back); monotonic seconds."""

    turn: BotTurn
    ended_at: float
    spoken_at: float | None = None


def turn_expectation(requested_slot: str | None) -> TurnExpectation:
    """What the caller's next turn should hold, from the slot the bot asked for: how many digits, and whether a number ends it."""
    return TurnExpectation(
        DIGITS_BY_SLOT.get(requested_slot or "", DEFAULT_EXPECTED_DIGITS),
        ends_with_number=requested_slot == "new_address", number_asked=requested_slot in DIGITS_BY_SLOT,
    )


class Dialogue(HoldDialogue, Protocol):
    """What the processor needs from voicebot.dialogue.DialogueService."""

    async def start_call(
        self, caller: str | None = None, channel: str = "text", call_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> BotTurn: ...

    async def say(self, call_id: str, text: str) -> BotTurn: ...

    async def go_on(self, call_id: str, earlier: BotTurn, text: str) -> BotTurn: ...

    async def end_call(self, call_id: str, outcome: str) -> None: ...

    async def speech_failed(self, call_id: str, text: str, hand_off: bool) -> QueuedHandoff | None: ...


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
        turn_rule: TurnEndRule | None = None,
        turn_model: TurnCompletionModel | None = None,
        hold_announce_s: float = 45.0,
        bridges: Bridges | None = None,
        **kwargs: Any,
    ) -> None:
        self.turn_stop = PhoneTurnStopStrategy(rule=turn_rule, turn_model=turn_model)
        # pipecat's idle controller times silence only while the bot is idle:
        # it starts when the bot stops speaking and stops when anyone speaks.
        super().__init__(
            user_idle_timeout=silence_timeout_s,
            user_turn_strategies=UserTurnStrategies(
                start=[BargeInTurnStartStrategy(min_speech_s=barge_in_min_speech_s)], stop=[self.turn_stop]
            ),
            **kwargs,
        )
        self._dialogue = dialogue
        self.call = call
        self._dtmf_timeout_s = dtmf_timeout_s
        self._max_silences = max_silences
        self._hold_announce_s = hold_announce_s
        self._bridges = bridges
        self._keypad = DTMFCollector()
        self._keypad_pause: asyncio.Task | None = None
        self._heard: list[str] = []  # the words of the caller's turn so far
        self._doubted: list[bool] = []  # …and whether Whisper doubted each piece (voicebot.voice.whisper.Heard.doubt)
        self._repeat_asks = 0  # "could you repeat that?" in a row
        self._speech_s = 0.0  # how long the caller spoke in this turn (the VAD's speech)
        self._speaking_since: float | None = None
        self._turn_began_at = 0.0  # when the caller's speech of this turn began (monotonic)
        self._answered: Answered | None = None  # the turn the caller may be going on with
        self._unspoken: BotTurn | None = None  # an answer held back: the caller was already talking again
        self._bot_done_at = 0.0  # when the bot last stopped speaking
        self._turn_lock = asyncio.Lock()  # one dialogue turn (or reprompt) at a time, in order
        self._silences = 0
        self._spoken_turns = 0
        self._greeted = False
        self._in_turn = False
        self._agent_voice = AgentVoice(self.push_frame)
        self.hold: Hold | None = None  # once the caller was handed off and waits for a person
        self._speech_lost = False  # the TTS failed on this call (SpeechFailedFrame): it is being handed off
        self._hold_task: asyncio.Task | None = None
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
            if self._greeted or self.outcome:
                return
            self._greeted = True
            turn = await self._dialogue.start_call(
                caller=self.call.caller, channel="phone", call_id=self.call_id,
                metadata={"caller": self.call.caller, "parameters": self.call.parameters},
            )
            await self._speak_turn(turn)

    async def hang_up(self) -> None:
        """The caller's side closed: abandoned, unless they were already handed to a person.

        A caller on hold whose stream closes was either transferred by the carrier (its
        call control moved the call, see CallInfo.transfer) or gave up waiting; either way
        the bot's part ended in a handoff (the handoff's own status tells which).
        """
        await self._cancel_keypad_pause()
        if self.hold:
            self.hold.close()
        if self._greeted and self.outcome is None:
            self.outcome = "handed_off" if self.hold else "abandoned"
            async with self._turn_lock:  # a turn still in the dialogue is stored before the call record closes
                await self._dialogue.end_call(self.call_id, self.outcome)

    async def cleanup(self) -> None:
        if self._hold_task:
            await self.cancel_task(self._hold_task)
            self._hold_task = None
        await super().cleanup()

    # --- frames ----------------------------------------------------------------------

    async def setup(self, setup: FrameProcessorSetup) -> None:
        await super().setup(setup)
        self._agent_voice.sample_rate = setup.audio_out_sample_rate or self._agent_voice.sample_rate

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, VADUserStartedSpeakingFrame):
            self._speaking_since = time.monotonic()
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_done_at = time.monotonic()
        elif isinstance(frame, VADUserStoppedSpeakingFrame) and self._speaking_since is not None:
            self._speech_s += time.monotonic() - self._speaking_since
            self._speaking_since = None
        if isinstance(frame, SpeechFailedFrame):
            await self._speech_failed(frame.text)
            return  # the TTS's report to this processor: nobody upstream needs it
        if isinstance(frame, TranscriptionFrame) and frame.text.strip():
            if self._in_turn:
                self._heard.append(frame.text.strip())
                self._doubted.append(isinstance(frame.result, Heard) and frame.result.doubt is not None)
            else:  # speech too short to interrupt the bot: "uh-huh", "okay", a cough
                logger.info("Call %s: ignored %r said over the bot", self.call_id, frame.text.strip())
        await super().process_frame(frame, direction)  # forwards it and runs the turn strategies
        if isinstance(frame, InputDTMFFrame):
            await self._on_key(frame.button.value)

    async def _on_turn_started(self, processor: UserTurnProcessor, strategy: Any) -> None:
        self._silences = 0
        self._in_turn = True
        self._speech_s = 0.0  # the speech so far counts from its start (see process_frame), not from here
        self._turn_began_at = (self._speaking_since or time.monotonic()) - VAD_START_S

    async def _on_turn_stopped(self, processor: UserTurnProcessor, strategy: Any) -> None:
        self._in_turn = False
        text, self._heard = " ".join(self._heard), []
        doubted, self._doubted = bool(self._doubted) and all(self._doubted), []
        if text and doubted and self._repeat_asks < MAX_REPEAT_ASKS:
            # Words Whisper itself doubts (the prompt echoed, a loop, a guess) are not acted on.
            logger.info("Call %s: asked to repeat %r", self.call_id, text)
            self._repeat_asks += 1
            await self._ask_to_repeat()
        elif text:
            self._repeat_asks = 0
            await self._answer(text, began_at=self._turn_began_at)
        elif self._unspoken:
            await self._speak_held_answer()
        elif self._speech_s >= UNHEARD_SPEECH_S:
            # The caller spoke but Whisper made out no words (a bad line, a voice it does not
            # know): silence now would leave them waiting for an answer that never comes.
            logger.info("Call %s: asked to repeat %.1f s of speech with no words heard", self.call_id, self._speech_s)
            await self._ask_to_repeat()
        else:
            # Noise started a turn but nobody spoke: keep timing the silence.
            await wait_for_user(self)

    def _gone_on_from(self, began_at: float) -> BotTurn | None:
        """The turn that one whose speech began at `began_at` goes on with: the caller started again within
        `GOES_ON_WITHIN_S` of the bot taking the turn or `GOES_ON_INTO_ANSWER_S` into its answer."""
        answered = self._answered
        if answered is None:
            return None
        if self._unspoken is not None:
            return answered.turn  # its answer was held back for what they were adding
        if answered.ended_at < self._bot_done_at < began_at:
            return None  # the caller heard the whole answer: this is their reply to it
        soon = began_at - answered.ended_at <= GOES_ON_WITHIN_S
        early_in_answer = answered.spoken_at is not None and began_at - answered.spoken_at <= GOES_ON_INTO_ANSWER_S
        return answered.turn if soon or early_in_answer else None

    async def _speak_held_answer(self) -> None:
        async with self._turn_lock:
            turn, self._unspoken = self._unspoken, None
            if turn and self.outcome is None:
                await self._speak_turn(turn)

    async def _ask_to_repeat(self) -> None:
        async with self._turn_lock:
            if self.outcome is None:
                await self._speak([say("repeat_please")])

    async def _on_key(self, key: str) -> None:
        if self.hold:
            text = KEYS_ON_HOLD.get(key)
            if text:
                self.create_task(self._answer(text), name="hold-key")
            return
        self._silences = 0
        await self._cancel_keypad_pause()
        text = self._keypad.press(key)
        if text:
            # Off the frame path: a dialogue turn must not hold up system frames.
            self.create_task(self._answer(text), name="dtmf-turn")
        elif self._keypad.pending:
            self._keypad_pause = self.create_task(self._submit_after_pause(), name="dtmf-pause")
        await wait_for_user(self)  # typing is not silence

    async def _submit_after_pause(self) -> None:
        await asyncio.sleep(self._dtmf_timeout_s)
        self._keypad_pause = None
        text = self._keypad.flush()
        if text:
            await self._answer(text)

    async def _cancel_keypad_pause(self) -> None:
        if self._keypad_pause:
            await self.cancel_task(self._keypad_pause)
            self._keypad_pause = None

    async def _on_silence(self, processor: UserTurnProcessor) -> None:
        if self._turn_lock.locked() or self._keypad.pending or self.hold:
            return  # the bot is busy answering, the caller is typing, or on hold (silence is expected)
        async with self._turn_lock:
            if self.outcome:
                return
            self._silences += 1
            if self._silences < self._max_silences:
                await self._speak([say("still_there")])
            else:
                await self._speak([say("silence_goodbye")])
                await self._end("abandoned")

    # --- dialogue --------------------------------------------------------------------

    async def _answer(self, text: str, began_at: float | None = None) -> None:
        """One caller turn through the dialogue, spoken back; `began_at`: when its speech began (None: keyed in)."""
        ended_at = time.monotonic()
        async with self._turn_lock:
            if self.outcome:
                return
            if self.hold:
                await self.hold.hear(text)
                return
            self._silences = 0
            earlier = self._gone_on_from(began_at) if began_at is not None else None
            self._unspoken = None
            if earlier is not None:
                turn = await self._dialogue.go_on(self.call_id, earlier, text)
            else:
                turn = await self._dialogue.say(self.call_id, text)
            may_go_on = began_at is not None and turn.can_take_back
            if self.outcome is not None:  # the caller may have hung up meanwhile
                return
            if self._in_turn and may_go_on:
                self._answered, self._unspoken = Answered(turn, ended_at), turn  # already talking again: the answer waits
                return
            self._answered = Answered(turn, ended_at, spoken_at=time.monotonic()) if may_go_on else None
            await self._speak_turn(turn)

    async def _speak_turn(self, turn: BotTurn) -> None:
        self.turn_stop.expected = turn_expectation(turn.requested_slot)
        await self.push_frame(ExpectedAnswerFrame(self.turn_stop.expected), FrameDirection.UPSTREAM)  # the recogniser's prompt
        await self._speak(turn.bot_texts)
        if turn.end_call:
            await self._end("resolved")
        elif turn.handoff and turn.handoff.handoff_id is not None:
            await self._hold_for_person(turn.handoff)
        elif turn.handoff:
            await self._end("handed_off")  # the handoff could not even be queued: nothing to wait for

    async def _speech_failed(self, text: str) -> None:
        """The caller did not hear `text` (they heard the apology instead): on record, and, unless the call
        is already with people or over, handed to a person, as when the dialogue fails."""
        hand_off = self.hold is None and self.outcome is None and not self._speech_lost
        self._speech_lost = True  # set before awaiting: the next sentence's failure must not hand off again
        handoff = await self._dialogue.speech_failed(self.call_id, text, hand_off)
        if not hand_off or handoff is None:
            return
        if handoff.handoff_id is not None:
            await self._hold_for_person(handoff)
        else:
            await self._end("handed_off")

    async def _hold_for_person(self, handoff: QueuedHandoff) -> None:
        self.hold = Hold(
            dialogue=self._dialogue, call=self.call, handoff=handoff, speak=self._speak, end=self._end,
            announce_every_s=self._hold_announce_s, bridges=self._bridges, agent_voice=self._agent_voice.say,
        )
        await self.hold.begin()
        self._hold_task = self.create_task(self.hold.keep_informed(), name="hold")

    async def _speak(self, texts: Iterable[str]) -> None:
        for sentence in sentences(texts):
            await self.push_frame(TTSSpeakFrame(sentence))
        # Queued behind that speech's audio: the carrier learns when it was played.
        self._spoken_turns += 1
        await self.push_frame(BotTurnSpokenFrame(self._spoken_turns))

    async def _end(self, outcome: str) -> None:
        """Ends the call after the queued speech has played, and records why."""
        if self.outcome:
            return
        self.outcome = outcome
        if self.hold:
            self.hold.close()
        await self._cancel_keypad_pause()
        await self.push_frame(EndWorkerFrame(reason=outcome))  # not interruptible: survives a barge-in
        await self._dialogue.end_call(self.call_id, outcome)
        logger.info("Call %s ended: %s", self.call_id, outcome)
