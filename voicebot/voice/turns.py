"""Turn-taking on the phone: when the caller's turn starts (barge-in) and when it ends.

Two pipecat user-turn strategies, used by `CallDialogueProcessor`:

- `BargeInTurnStartStrategy`: speech starts a turn at once while the bot is silent.
  While the bot talks, only speech that goes on for `min_speech_s` does, so a cough,
  a click or an "uh-huh" does not cut the bot off, and a real interruption still does.
- `PhoneTurnStopStrategy`: when the caller paused and the transcript is in (pipecat's
  speech-timeout strategy, wrapped through its public events), `turn_end_wait` decides
  whether the turn ends now or after a hold: inside a half-read number ("my order is
  1 0 4 …"), after words no finished sentence ends with ("I want to …"), or when Smart
  Turn v3.2 hears an unfinished thought in the audio, the bot waits a little longer
  for more speech. `voicebot-eval turns` measured the choice against the plain pause.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    InputAudioRawFrame,
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
# Words a finished sentence does not end with: "I want to …", "my parcel and …", "so …".
CONNECTIVES = {
    "and", "but", "so", "or", "because", "cause", "like", "if", "when", "then", "than", "that", "which", "who",
    "to", "for", "with", "of", "at", "in", "on", "from", "about", "my", "your", "our", "the", "a", "an", "this",
    "is", "was", "are", "were", "i", "i'm", "it's", "we", "can", "could", "would", "will", "just", "also",
} | FILLERS
LEAD_INS = ("i mean", "you know", "basically", "actually", "let me think")  # said before the point, not as it
# The caller is looking something up ("let me find the email"): the wait is as long as inside a number.
LOOKING_UP = ("let me see", "let me check", "let me find", "let me look", "hang on", "hold on", "one sec", "one second",
              "one moment", "just a moment", "just a sec", "bear with me")
GREETINGS = {"hi", "hello", "hey", "hiya", "morning", "afternoon", "evening"}
LEAD_IN_WORDS = GREETINGS | FILLERS | {"there", "good", "oh", "yeah", "yes", "okay", "ok", "so", "well"}
TURN_AUDIO_PRE_ROLL_S = 0.7  # Smart Turn hears the turn from 0.5 s before the VAD's 0.2 s start delay

if TYPE_CHECKING:
    from voicebot.settings import Settings
    from voicebot.voice.smart_turn import TurnCompletionModel

logger = logging.getLogger(__name__)


def words_in(text: str) -> list[str]:
    """Lower-case words, punctuation dropped ("It's 1 0 4." → ["it's", "1", "0", "4"])."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def unfinished_number(text: str, expected_digits: int) -> bool:
    """True when the caller seems to be midway through reading out a number.

    That is: the text ends with fewer than `expected_digits` digits (spoken or
    written, fillers allowed between them), or with a filler or "… is" with
    digits still to come.
    """
    words = words_in(text)
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


def unfinished_sentence(text: str) -> bool:
    """True when the words so far stop on a connective, a filler or a lead-in ("… and", "I want to", "so um", "I mean")."""
    words = words_in(text)
    return bool(words) and (words[-1] in CONNECTIVES or ends_with(words, LEAD_INS))


def looking_up(text: str) -> bool:
    """True when the caller stopped to look something up ("Hang on, let me find it"): in their last six words."""
    tail = " " + " ".join(words_in(text)[-6:]) + " "
    return any(f" {phrase} " in tail for phrase in LOOKING_UP)


def ends_with(words: list[str], phrases: tuple[str, ...]) -> bool:
    return any(words[-len(p.split()) :] == p.split() for p in phrases)


def greeting_only(text: str) -> bool:
    """True when the words so far are only a greeting ("Hi.", "Um, hello.", "Good afternoon."): what comes next is the reason for the call."""
    words = words_in(text)
    return bool(words) and all(w in LEAD_IN_WORDS for w in words) and any(w in GREETINGS for w in words)


def trailing_digits(text: str) -> int:
    """How many digits the words end with ("… apartment 6, 5 3 7 0 3" → 5)."""
    digits = 0
    for word in reversed(words_in(text)):
        if word.isdigit():
            digits += len(word)
        elif word in DIGIT_WORDS:
            digits += 1
        else:
            break
    return digits


@dataclass(frozen=True)
class TurnExpectation:
    """What the bot's last question asked for, as far as the end of the answer goes."""

    digits: int = 6  # the length of the number a half-read one is measured against
    ends_with_number: bool = False  # an address: not over before its zip code
    number_asked: bool = False  # the bot asked for a number (order, phone digits, zip code, address)


@dataclass(frozen=True)
class TurnEndRule:
    """How long a pause must last before the caller's turn is over (`voicebot-eval turns` chose these)."""

    pause_s: float = 0.2  # the speech timeout: silence past the VAD's stop when nothing says wait or go
    complete_threshold: float = 0.5  # P(finished) below it: the thought is not finished…
    incomplete_hold_s: float = 1.0  # …so wait this much longer than the pause for more speech
    digit_hold_s: float = 1.3  # the longer wait: inside a half-read number, before an address's zip code, while looking up
    word_rules: bool = True  # also wait on a trailing connective or filler, and after a bare greeting

    @classmethod
    def from_settings(cls, settings: "Settings") -> "TurnEndRule":
        smart = settings.turn_detector == "smart-turn"
        return cls(
            pause_s=settings.user_speech_timeout_s,
            complete_threshold=settings.turn_complete_threshold if smart else 0.0,
            incomplete_hold_s=settings.turn_incomplete_hold_s,
            digit_hold_s=settings.turn_digit_hold_s,
            word_rules=smart,
        )


def turn_end_wait(text: str, complete_probability: float | None, expected: TurnExpectation, rule: TurnEndRule) -> float:
    """Seconds of silence after the VAD's stop before this turn ends (it also waits for the transcript).

    `complete_probability` is Smart Turn's verdict on the turn's audio (None without the
    model). A half-read number waits the digit hold whatever the model says: digit
    groups sound finished.
    """
    if unfinished_number(text, expected.digits) or (expected.ends_with_number and trailing_digits(text) < expected.digits):
        return rule.pause_s + rule.digit_hold_s
    if rule.word_rules and looking_up(text):
        return rule.pause_s + rule.digit_hold_s
    if rule.word_rules and (unfinished_sentence(text) or greeting_only(text)):
        return rule.pause_s + rule.incomplete_hold_s
    if complete_probability is not None and complete_probability < rule.complete_threshold:
        return rule.pause_s + rule.incomplete_hold_s
    return rule.pause_s


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


class TurnAudio:
    """The caller's audio of the turn so far (16-bit PCM), for Smart Turn: a short pre-roll, then up to 8 s."""

    def __init__(self, sample_rate: int = 16000, pre_roll_s: float = TURN_AUDIO_PRE_ROLL_S, max_s: float = 8.0) -> None:
        self.sample_rate = sample_rate
        self._pre_roll = int(pre_roll_s * sample_rate) * 2
        self._max = int(max_s * sample_rate) * 2
        self._slack = sample_rate * 2  # one second of audio
        self._pcm = bytearray()
        self._speech = False

    def add(self, audio: bytes) -> None:
        """Called for every 20 ms frame: trims in steps of `_slack`, not on every frame."""
        self._pcm += audio
        keep = self._keep()
        if len(self._pcm) > keep + self._slack:
            del self._pcm[: len(self._pcm) - keep]

    def speech_started(self) -> None:
        self._speech = True

    def clear(self) -> None:
        self._pcm.clear()
        self._speech = False

    def samples(self) -> np.ndarray:
        return np.frombuffer(bytes(self._pcm[max(0, len(self._pcm) - self._keep()) :]), dtype=np.int16).astype(np.float32) / 32768.0

    def _keep(self) -> int:
        return self._max if self._speech else self._pre_roll


class PhoneTurnStopStrategy(BaseUserTurnStopStrategy):
    """Ends the turn soon after the caller sounds finished; waits longer when they do not.

    It wraps pipecat's SpeechTimeoutUserTurnStopStrategy with no timeout of its own,
    which reports that the caller paused and the transcript is in. Then `turn_end_wait`
    decides, from the words and Smart Turn's verdict on the turn's audio (if it is in: computed at
    the VAD stop, while Whisper transcribes), how long the silence since the VAD stop
    must be: the speech timeout, or longer: the digit hold
    inside a half-read number, the incomplete hold after "I want to …". `expected`
    says what the bot just asked for; the dialogue sets it per turn. Without
    `turn_model` only the word and digit rules apply.
    """

    def __init__(
        self, *, rule: TurnEndRule | None = None, turn_model: "TurnCompletionModel | None" = None,
        expected: TurnExpectation | None = None, **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.rule = rule or TurnEndRule()
        self.expected = expected or TurnExpectation()
        self._model = turn_model
        self._pause = SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=0.0)
        self._pause.add_event_handler("on_user_turn_stopped", self._on_pause)
        self._heard: list[str] = []
        self._audio = TurnAudio()
        self._stopped_at: float | None = None  # loop time of the last VAD stop
        self._verdict: asyncio.Task | None = None  # Smart Turn on the audio up to the last VAD stop
        self._hold: asyncio.Task | None = None

    async def setup(self, setup: FrameProcessorSetup) -> None:
        await super().setup(setup)
        await self._pause.setup(setup)
        self._audio = TurnAudio(setup.audio_in_sample_rate or 16000)

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._pause.cleanup()
        await self._cancel_hold()
        await self._cancel_verdict()

    async def handle_user_turn_started(self) -> None:
        await self._cancel_hold()
        self._heard = []
        await self._pause.handle_user_turn_started()

    async def handle_user_turn_stopped(self) -> None:
        await self._cancel_hold()
        await self._cancel_verdict()
        self._heard = []
        self._audio.clear()
        await self._pause.handle_user_turn_stopped()

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, InputAudioRawFrame):
            self._audio.add(frame.audio)
        elif isinstance(frame, TranscriptionFrame):
            if frame.text.strip():
                self._heard.append(frame.text.strip())
            elif not self._heard and self._stopped_at is not None:
                # Whisper found no words in this speech: pipecat's strategy waits for words
                # forever, so the turn ends after the pause here (the dialogue decides what then).
                await self._end_after_pause()
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            self._audio.speech_started()
            self._stopped_at = None
            await self._cancel_hold()  # the caller went on speaking
            await self._cancel_verdict()
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._stopped_at = asyncio.get_running_loop().time()
            await self._cancel_verdict()
            if self._model is not None:
                samples = self._audio.samples()
                self._verdict = self.task_manager.create_task(self._model.judge(samples), f"{self}::smart_turn")
        return await self._pause.process_frame(frame)

    async def _on_pause(self, pause: BaseUserTurnStopStrategy, params: UserTurnStoppedParams) -> None:
        """The caller paused and the transcript is in: the turn ends once the silence is long enough."""
        await self._end_after_pause()

    async def _end_after_pause(self) -> None:
        wait = turn_end_wait(" ".join(self._heard), await self._probability(), self.expected, self.rule)
        now = asyncio.get_running_loop().time()
        left = wait - (now - (self._stopped_at if self._stopped_at is not None else now))
        await self._cancel_hold()
        if left <= 0:
            await self.trigger_user_turn_stopped()
        else:
            self._hold = self.task_manager.create_task(self._stop_after(left), f"{self}::hold")

    async def _probability(self) -> float | None:
        """Smart Turn's verdict if it is in; on busy cores it may not be yet, and the turn does not wait for it."""
        verdict = self._verdict
        if verdict is None or verdict.cancelled():
            return None
        if not verdict.done():
            logger.debug("Smart Turn's verdict came after the transcript: the word and digit rules decide")
            return None
        if verdict.exception() is not None:  # without a verdict the word and digit rules still apply
            logger.warning("Smart Turn failed: %s", verdict.exception())
            return None
        return verdict.result()

    async def _stop_after(self, seconds: float) -> None:
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            return
        self._hold = None
        await self.trigger_user_turn_stopped()

    async def _cancel_hold(self) -> None:
        task, self._hold = self._hold, None
        if task:
            await self.task_manager.cancel_task(task)

    async def _cancel_verdict(self) -> None:
        task, self._verdict = self._verdict, None
        if task and not task.done():
            await self.task_manager.cancel_task(task)
