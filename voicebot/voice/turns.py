"""Turn-taking on the phone: when the caller's turn starts (barge-in) and when it ends.

Two pipecat user-turn strategies, used by `CallDialogueProcessor`:

- `BargeInTurnStartStrategy`: speech starts a turn at once while the bot is silent.
  While the bot talks, only speech that goes on for `min_speech_s` does, so a cough,
  a click or an "uh-huh" does not cut the bot off, and a real interruption still does.
- `PhoneTurnStopStrategy`: pipecat's speech-timeout strategy (the turn ends once the
  caller paused and the transcript is in), except that a transcript ending in an
  unfinished digit string ("my order is 1 0 4 …") holds the turn open for
  `digit_hold_s` more, because callers pause while reading numbers out. It wraps the
  pipecat strategy and listens to its public events, rather than overriding its
  private methods.
"""

from __future__ import annotations

import asyncio
import re

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_start import BaseUserTurnStartStrategy
from pipecat.turns.user_stop import (
    BaseUserTurnStopStrategy,
    SpeechTimeoutUserTurnStopStrategy,
    UserTurnStoppedParams,
)

DIGIT_WORDS = {"zero", "oh", "o", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
REPEATERS = {"double": 2, "triple": 3}
FILLERS = {"um", "uh", "er", "erm", "hmm", "ah"}
UNFINISHED_ENDINGS = {"is", "it's", "its", "number", "the", "and", "a"}  # "my order number is …"


def unfinished_number(text: str, expected_digits: int) -> bool:
    """True when the caller seems to be midway through reading out a number.

    That is: the text ends with fewer than `expected_digits` digits (spoken or
    written, fillers allowed between them), or with a filler or "… is" with
    digits still to come.
    """
    words = re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()
    if not words:
        return False
    if words[-1] in FILLERS or words[-1] in UNFINISHED_ENDINGS:
        return True
    digits = 0
    for word in reversed(words):
        if word.isdigit():
            digits += len(word)
        elif word in DIGIT_WORDS:
            digits += 1
        elif word in REPEATERS:
            digits += REPEATERS[word] - 1  # "double seven": the seven is already counted once
        elif word not in FILLERS:
            break
    return 0 < digits < expected_digits


class BargeInTurnStartStrategy(BaseUserTurnStartStrategy):
    """Speech starts the caller's turn; while the bot talks, only sustained speech does."""

    def __init__(self, *, min_speech_s: float = 0.6, vad_start_s: float = 0.2, **kwargs) -> None:
        """`vad_start_s`: speech the VAD needs before it reports a start (already heard)."""
        super().__init__(**kwargs)
        self._wait_s = max(0.0, min_speech_s - vad_start_s)
        self._bot_speaking = False
        self._caller_speaking = False
        self._pending: asyncio.Task | None = None

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, BotStartedSpeakingFrame):
            self._bot_speaking = True
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_speaking = False
            if self._pending:  # the bot finished while the caller was talking: it is their turn
                await self._cancel_pending()
                await self.trigger_user_turn_started()
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            self._caller_speaking = True
            if not self._bot_speaking:
                await self.trigger_user_turn_started()
                return ProcessFrameResult.STOP
            if not self._pending:
                self._pending = self.task_manager.create_task(self._barge_in_after_wait(), f"{self}::barge_in")
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._caller_speaking = False
            await self._cancel_pending()  # too short to be a barge-in: backchannel or noise
        return ProcessFrameResult.CONTINUE

    async def handle_user_turn_started(self) -> None:
        await self._cancel_pending()

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._cancel_pending()

    async def _barge_in_after_wait(self) -> None:
        try:
            await asyncio.sleep(self._wait_s)
        except asyncio.CancelledError:
            return
        self._pending = None
        if self._caller_speaking:
            await self.trigger_user_turn_started()

    async def _cancel_pending(self) -> None:
        task, self._pending = self._pending, None
        if task:
            await self.task_manager.cancel_task(task)


class PhoneTurnStopStrategy(BaseUserTurnStopStrategy):
    """Ends the turn after a short pause, but waits longer inside a half-read number.

    It wraps pipecat's SpeechTimeoutUserTurnStopStrategy, which decides that the caller
    paused and the transcript is in; when the words so far end in an unfinished number,
    the turn ends only after `digit_hold_s` more without speech. `expected_digits` is how
    long the number the bot just asked for is (6 for an order number, 4 for the last
    digits of a phone); the dialogue sets it per turn.
    """

    def __init__(self, *, user_speech_timeout: float, digit_hold_s: float = 1.0, expected_digits: int = 6, **kwargs) -> None:
        super().__init__(**kwargs)
        self.digit_hold_s = digit_hold_s
        self.expected_digits = expected_digits
        self._pause = SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=user_speech_timeout)
        self._pause.add_event_handler("on_user_turn_stopped", self._on_pause)
        self._heard: list[str] = []
        self._digit_hold: asyncio.Task | None = None
        self._digit_hold_over = False

    async def setup(self, setup: FrameProcessorSetup) -> None:
        await super().setup(setup)
        await self._pause.setup(setup)

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._pause.cleanup()
        await self._cancel_digit_hold()

    async def handle_user_turn_started(self) -> None:
        await self._forget_turn()
        await self._pause.handle_user_turn_started()

    async def handle_user_turn_stopped(self) -> None:
        await self._forget_turn()
        await self._pause.handle_user_turn_stopped()

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, TranscriptionFrame):
            self._heard.append(frame.text.strip())
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            await self._cancel_digit_hold()  # the caller went on speaking
        return await self._pause.process_frame(frame)

    async def _on_pause(self, pause: BaseUserTurnStopStrategy, params: UserTurnStoppedParams) -> None:
        """The caller paused and the transcript is in: the turn ends, unless a number is half read."""
        if not self._digit_hold_over and unfinished_number(" ".join(self._heard), self.expected_digits):
            if not self._digit_hold:
                self._digit_hold = self.task_manager.create_task(self._stop_after_digit_hold(), f"{self}::digit_hold")
            return
        await self.trigger_user_turn_stopped()

    async def _stop_after_digit_hold(self) -> None:
        try:
            await asyncio.sleep(self.digit_hold_s)
        except asyncio.CancelledError:
            return
        self._digit_hold, self._digit_hold_over = None, True
        await self.trigger_user_turn_stopped()

    async def _forget_turn(self) -> None:
        self._heard = []
        await self._cancel_digit_hold()

    async def _cancel_digit_hold(self) -> None:
        self._digit_hold_over = False
        task, self._digit_hold = self._digit_hold, None
        if task:
            await self.task_manager.cancel_task(task)
