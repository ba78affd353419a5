"""The phone dialogue step without audio or Rasa: pipecat's run_test and a scripted dialogue."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    EndWorkerFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    TranscriptionFrame,
    TTSSpeakFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import SleepFrame, run_test

from voicebot.dialogue.service import BotTurn
from voicebot.domain.records import CallbackBooked, HoldStatus, QueuedHandoff
from voicebot.prompts import say
from voicebot.voice.call import GOES_ON_WITHIN_S, CallDialogueProcessor, sentences
from voicebot.voice.carrier import CallInfo
from voicebot.voice.dtmf import AGENT_REQUEST, DTMFCollector
from voicebot.voice.frames import BotTurnSpokenFrame, ExpectedAnswerFrame, SpeechFailedFrame
from voicebot.voice.tts import SpeechCache, say_dollar_amounts
from voicebot.voice.turns import TurnEndRule, TurnExpectation, unfinished_number
from voicebot.voice.whisper import Heard

CALL_ID = "CAtest"
TRANSFER = {"transfer_to": "the people queue"}  # whatever the carrier needs to move the call


class ScriptedDialogue:
    """Same async methods as DialogueService; answers from a script and records every call."""

    def __init__(
        self, answers: dict[str, BotTurn] | None = None, hold: list[HoldStatus] | None = None,
        stored: bool = False, answer_s: float = 0.0,
    ) -> None:
        """`stored`: turns get a record number, so they can be taken back (as DialogueService's do);
        `answer_s`: how long each answer takes."""
        self.answers = answers or {}
        self.stored = stored
        self.answer_s = answer_s
        self.went_on: list[tuple[str, str]] = []  # (the earlier turn's words, what the caller added)
        self.answered: list[str] = []  # the turns answered (and so stored), in order
        self.hold = list(hold or [])  # successive hold_status answers; the last one repeats
        self.started: list[dict] = []
        self.said: list[tuple[str, str]] = []
        self.ended: list[tuple[str, str]] = []
        self.transfers: list[tuple[str, QueuedHandoff, dict]] = []
        self.callbacks: list[tuple[int, object]] = []
        self.unspoken: list[tuple[str, bool]] = []  # speech_failed: (the text, whether it asked for a handoff)

    async def start_call(self, caller=None, channel="text", call_id=None, metadata=None) -> BotTurn:
        self.started.append({"caller": caller, "channel": channel, "call_id": call_id, "metadata": metadata})
        return BotTurn(call_id=call_id, caller_text=None, bot_texts=["Hello, this is the order line. How can I help?"])

    async def say(self, call_id: str, text: str) -> BotTurn:
        self.said.append((call_id, text))
        await asyncio.sleep(self.answer_s)
        self.answered.append(text)
        turn = self.answers.get(text) or BotTurn(call_id=call_id, caller_text=text, bot_texts=[f"You said {text}."])
        if self.stored and turn.seq is None:
            turn.seq = len(self.said)
        return turn

    async def go_on(self, call_id: str, earlier: BotTurn, text: str) -> BotTurn:
        self.went_on.append((earlier.caller_text, text))
        return await self.say(call_id, f"{earlier.caller_text} {text}")

    async def end_call(self, call_id: str, outcome: str) -> None:
        self.ended.append((call_id, outcome))

    async def hold_status(self, handoff_id: int) -> HoldStatus:
        return self.hold.pop(0) if len(self.hold) > 1 else self.hold[0]

    async def transfer_requested(self, call_id: str, handoff: QueuedHandoff, transfer: dict) -> None:
        self.transfers.append((call_id, handoff, transfer))

    async def speech_failed(self, call_id: str, text: str, hand_off: bool) -> QueuedHandoff | None:
        self.unspoken.append((text, hand_off))
        return queued(9, "internal_error", "general") if hand_off else None

    async def schedule_callback(self, handoff_id: int, when) -> CallbackBooked:
        self.callbacks.append((handoff_id, when))
        return CallbackBooked(ticket_id=1, handoff_id=handoff_id, call_id=CALL_ID, queue="general", at=when)


def queued(handoff_id: int | None, reason: str, queue: str | None) -> QueuedHandoff:
    """A bot turn's handoff as HandoffService builds it; None: it could not be queued."""
    return QueuedHandoff(
        handoff_id=handoff_id, call_id=CALL_ID, reason=reason, intent=None, queue=queue, priority=1 if queue else None,
        position=2 if queue else None, expected_wait_s=360 if queue else None, announcement="Please hold.", collected={}, summary=None,
    )


def processor(dialogue: ScriptedDialogue, **kwargs) -> CallDialogueProcessor:
    return CallDialogueProcessor(
        dialogue=dialogue,
        call=CallInfo(call_id=CALL_ID, caller="+15550100", parameters={"campaign": "spring"}, transfer=TRANSFER),
        **{"turn_rule": TurnEndRule(pause_s=0.1), **kwargs},
    )


def caller_says(text: str) -> list[Frame]:
    transcript = TranscriptionFrame(text, "", "2026-01-01T00:00:00Z")
    transcript.finalized = True
    return [
        VADUserStartedSpeakingFrame(),
        SleepFrame(0.05),
        VADUserStoppedSpeakingFrame(stop_secs=0.2),
        transcript,
        SleepFrame(0.5),
    ]


def keys(digits: str) -> list[Frame]:
    return [InputDTMFFrame(KeypadEntry(d)) for d in digits]


def spoken(frames) -> list[str]:
    return [f.text for f in frames if isinstance(f, TTSSpeakFrame)]


# --- pure helpers -----------------------------------------------------------------


def test_dtmf_digits_submitted_by_pound() -> None:
    collector = DTMFCollector()
    assert [collector.press(k) for k in "104233"] == [None] * 6
    assert collector.pending
    assert collector.press("#") == "104233"
    assert not collector.pending
    assert collector.press("#") is None  # nothing typed: nothing to submit


def test_dtmf_pause_flushes_and_lone_zero_asks_for_agent() -> None:
    collector = DTMFCollector()
    collector.press("7")
    collector.press("7")
    assert collector.flush() == "77"
    collector.press("0")
    assert collector.flush() == AGENT_REQUEST
    collector.press("0")
    assert collector.press("#") == AGENT_REQUEST
    for k in "100":
        collector.press(k)
    assert collector.press("#") == "100"  # only a lone 0 is the operator key


def test_dtmf_star_clears() -> None:
    collector = DTMFCollector()
    for k in "12*34":
        collector.press(k)
    assert collector.press("#") == "34"


def test_sentences_split_each_bot_message() -> None:
    assert sentences(["Order 104233 is in transit. It arrives Monday!", "Anything else?"]) == [
        "Order 104233 is in transit.",
        "It arrives Monday!",
        "Anything else?",
    ]


def test_long_first_sentence_is_cut_at_its_first_comma() -> None:
    long = "Your order 104233 is on its way with UPS, and it should arrive on Tuesday, November 24."
    assert sentences([long, "Anything else?"]) == [
        "Your order 104233 is on its way with UPS,",
        "and it should arrive on Tuesday, November 24.",
        "Anything else?",
    ]
    assert sentences(["Okay, what is the order number?"]) == ["Okay, what is the order number?"]  # short: kept whole


# --- the processor in a pipeline ------------------------------------------------------


async def test_caller_turn_is_spoken_sentence_by_sentence() -> None:
    answer = BotTurn(call_id=CALL_ID, caller_text="where is my order", bot_texts=["Sure. What is the order number?"])
    dialogue = ScriptedDialogue({"where is my order": answer})
    down, _ = await run_test(processor(dialogue), frames_to_send=caller_says("where is my order"))
    assert dialogue.said == [(CALL_ID, "where is my order")]
    assert spoken(down) == ["Sure.", "What is the order number?"]
    marks = [f for f in down if isinstance(f, BotTurnSpokenFrame)]  # the carrier's serializer sends each one
    assert marks and marks[0].message == "bot-turn-1"
    assert not any(isinstance(f, EndWorkerFrame) for f in down)
    assert dialogue.ended == []


async def test_handoff_keeps_the_caller_on_hold_until_the_agent_is_done() -> None:
    handoff = BotTurn(
        call_id=CALL_ID,
        caller_text="agent please",
        bot_texts=["Let me connect you to a colleague. You're number 2 in the queue."],
        handoff=queued(7, "caller_request", "general"),
    )
    dialogue = ScriptedDialogue(
        {"agent please": handoff},
        hold=[
            HoldStatus("waiting", 2, 360),
            HoldStatus("waiting", 1, 180),
            HoldStatus("accepted", 0, 0),
            HoldStatus("accepted", 0, 0),
            HoldStatus("closed", 0, 0),
        ],
    )
    proc = processor(dialogue, hold_announce_s=0.1, silence_timeout_s=0.05)
    down, _ = await run_test(
        proc, frames_to_send=[*caller_says("agent please"), *keys("5#"), SleepFrame(0.6)]
    )
    assert spoken(down) == [
        "Let me connect you to a colleague.",
        "You're number 2 in the queue.",
        "If you'd rather we call you back,",  # a long first sentence is cut at its comma
        "press 1 or say call me back.",
        "Thanks for holding.",
        "You're number 2 in the queue, and the wait is about 6 minutes.",
        "Thanks for holding.",
        "You're next in the queue, and the wait is about 3 minutes.",
        "A colleague is picking up your call now.",
    ]  # no "Are you still there?" while on hold, said once on pickup
    assert dialogue.said == [(CALL_ID, "agent please")]  # keys on hold (but 1, a call-back) do not reach the bot
    assert dialogue.transfers == [(CALL_ID, handoff.handoff, TRANSFER)]
    assert any(isinstance(f, EndWorkerFrame) for f in down) and dialogue.ended == [(CALL_ID, "handed_off")]


async def test_hanging_up_on_hold_is_a_handoff_not_an_abandoned_bot_call() -> None:
    handoff = BotTurn(
        call_id=CALL_ID, caller_text="agent please", bot_texts=["Please hold."],
        handoff=queued(7, "caller_request", "general"),
    )
    dialogue = ScriptedDialogue({"agent please": handoff}, hold=[HoldStatus("waiting", 1, 180)])
    proc = processor(dialogue, hold_announce_s=10)

    async def connect_first() -> None:
        await asyncio.sleep(0.05)
        await proc.greet()

    await asyncio.gather(run_test(proc, frames_to_send=[SleepFrame(0.2), *caller_says("agent please")]), connect_first())
    await proc.hang_up()
    assert dialogue.ended == [(CALL_ID, "handed_off")]


async def test_handoff_that_could_not_be_queued_ends_the_call() -> None:
    failed = BotTurn(
        call_id=CALL_ID, caller_text="agent please", bot_texts=["Sorry, something went wrong."],
        handoff=queued(None, "internal_error", None),
    )
    dialogue = ScriptedDialogue({"agent please": failed})
    down, _ = await run_test(processor(dialogue), frames_to_send=caller_says("agent please"))
    assert any(isinstance(f, EndWorkerFrame) for f in down) and dialogue.ended == [(CALL_ID, "handed_off")]
    assert dialogue.transfers == []


async def test_end_call_turn_is_resolved() -> None:
    bye = BotTurn(call_id=CALL_ID, caller_text="no thanks", bot_texts=["Thanks for calling. Goodbye."], end_call=True)
    dialogue = ScriptedDialogue({"no thanks": bye})
    down, _ = await run_test(processor(dialogue), frames_to_send=caller_says("no thanks"))
    assert any(isinstance(f, EndWorkerFrame) for f in down)
    assert dialogue.ended == [(CALL_ID, "resolved")]


async def test_dtmf_digits_become_one_turn() -> None:
    dialogue = ScriptedDialogue()
    down, _ = await run_test(processor(dialogue), frames_to_send=[*keys("104233#"), SleepFrame(0.3)])
    assert dialogue.said == [(CALL_ID, "104233")]
    assert spoken(down) == ["You said 104233."]


async def test_dtmf_pause_submits_and_lone_zero_asks_for_agent() -> None:
    dialogue = ScriptedDialogue()
    proc = processor(dialogue, dtmf_timeout_s=0.2)
    await run_test(proc, frames_to_send=[*keys("42"), SleepFrame(0.4), *keys("0"), SleepFrame(0.4)])
    assert dialogue.said == [(CALL_ID, "42"), (CALL_ID, AGENT_REQUEST)]


async def test_greeting_opens_a_phone_call() -> None:
    dialogue = ScriptedDialogue()
    proc = processor(dialogue)

    async def connect_later() -> None:
        await asyncio.sleep(0.1)
        await proc.greet()

    (down, _), _ = await asyncio.gather(run_test(proc, frames_to_send=[SleepFrame(0.4)]), connect_later())
    assert dialogue.started == [
        {
            "caller": "+15550100", "channel": "phone", "call_id": CALL_ID,
            "metadata": {"caller": "+15550100", "parameters": {"campaign": "spring"}},
        }
    ]
    assert spoken(down) == ["Hello, this is the order line.", "How can I help?"]


async def test_silence_reprompts_then_abandons() -> None:
    dialogue = ScriptedDialogue()
    proc = processor(dialogue, silence_timeout_s=0.1, max_silences=3)
    # No transport here: each BotStoppedSpeakingFrame stands for "the bot finished talking".
    frames: list[Frame] = []
    for _ in range(3):
        frames += [BotStoppedSpeakingFrame(), SleepFrame(0.3)]
    down, _ = await run_test(proc, frames_to_send=frames)
    assert spoken(down) == [say("still_there"), say("still_there"), *sentences([say("silence_goodbye")])]
    assert any(isinstance(f, EndWorkerFrame) for f in down)
    assert dialogue.ended == [(CALL_ID, "abandoned")]


async def test_hang_up_records_abandoned_once() -> None:
    dialogue = ScriptedDialogue()
    await processor(dialogue).hang_up()
    assert dialogue.ended == []  # never greeted: no call record to close

    proc = processor(dialogue)

    async def connect_later() -> None:
        await asyncio.sleep(0.1)
        await proc.greet()

    await asyncio.gather(run_test(proc, frames_to_send=[SleepFrame(0.3)]), connect_later())
    await proc.hang_up()
    await proc.hang_up()
    assert dialogue.ended == [(CALL_ID, "abandoned")]
    assert proc.outcome == "abandoned"


async def test_a_turn_still_being_answered_when_the_caller_hangs_up_is_kept_before_the_call_closes() -> None:
    dialogue = ScriptedDialogue(answer_s=0.4)
    proc = processor(dialogue)
    closed_after: list[list] = []
    end_call = dialogue.end_call

    async def end_call_noting_turns(call_id: str, outcome: str) -> None:
        closed_after.append(list(dialogue.answered))
        await end_call(call_id, outcome)

    dialogue.end_call = end_call_noting_turns

    async def hang_up_mid_answer() -> None:
        await proc.greet()
        await asyncio.sleep(0.35)  # the turn below ended 0.15 s in; its answer takes 0.4 s
        await proc.hang_up()

    (down, _), _ = await asyncio.gather(
        run_test(proc, frames_to_send=[SleepFrame(0.1), *caller_says("Where is my order?"), SleepFrame(0.5)]), hang_up_mid_answer()
    )
    assert closed_after == [["Where is my order?"]]  # the record held the turn when it was closed
    assert "You said Where is my order?." not in spoken(down)  # nobody left to hear it


# --- turn-taking: barge-in and numbers read out in pieces -----------------------------


def transcript(text: str) -> TranscriptionFrame:
    frame = TranscriptionFrame(text, "", "2026-01-01T00:00:00Z")
    frame.finalized = True
    return frame


@pytest.mark.parametrize(
    ("text", "expected", "unfinished"),
    [
        ("It's 1 0 4", 6, True),
        ("one oh four two", 6, True),
        ("1 0 4 2 3 3", 6, False),
        ("104233", 6, False),
        ("double seven", 6, True),
        ("zero one four seven", 4, False),
        ("zero one", 4, True),
        ("My order number is", 6, True),
        ("um", 6, True),
        ("Where is my order?", 6, False),
        ("I'd like option 2 please", 6, False),
        ("", 6, False),
    ],
)
def test_unfinished_number(text: str, expected: int, unfinished: bool) -> None:
    assert unfinished_number(text, expected) is unfinished


async def test_backchannel_while_bot_speaks_neither_interrupts_nor_becomes_a_turn() -> None:
    dialogue = ScriptedDialogue()
    frames = [
        BotStartedSpeakingFrame(),
        VADUserStartedSpeakingFrame(),
        SleepFrame(0.2),  # "uh-huh": under the 0.6 s a barge-in needs
        VADUserStoppedSpeakingFrame(stop_secs=0.2),
        transcript("Uh-huh."),
        SleepFrame(0.4),
        BotStoppedSpeakingFrame(),
        SleepFrame(0.3),
    ]
    down, _ = await run_test(processor(dialogue), frames_to_send=frames)
    assert not any(isinstance(f, InterruptionFrame) for f in down)
    assert dialogue.said == []


async def test_sustained_speech_while_bot_speaks_interrupts_and_is_answered() -> None:
    dialogue = ScriptedDialogue()
    frames = [
        BotStartedSpeakingFrame(),
        VADUserStartedSpeakingFrame(),
        SleepFrame(0.7),
        VADUserStoppedSpeakingFrame(stop_secs=0.2),
        transcript("No, I meant my other order."),
        SleepFrame(0.5),
    ]
    down, _ = await run_test(processor(dialogue), frames_to_send=frames)
    assert any(isinstance(f, InterruptionFrame) for f in down)
    assert dialogue.said == [(CALL_ID, "No, I meant my other order.")]


# --- a caller who goes on talking after the bot took its turn ---------------------


async def test_a_caller_who_goes_on_before_the_answer_finished_gets_one_answer_for_both_parts() -> None:
    dialogue = ScriptedDialogue(stored=True)
    frames = [*caller_says("I have a question."), BotStartedSpeakingFrame(), *turn_of(transcript("Where is my order?"), speech_s=0.7)]
    down, _ = await run_test(processor(dialogue), frames_to_send=frames)
    assert dialogue.went_on == [("I have a question.", "Where is my order?")]
    assert dialogue.said[-1] == (CALL_ID, "I have a question. Where is my order?") and "You said I have a question." in spoken(down)


async def test_a_reply_after_the_bot_finished_its_answer_is_a_turn_of_its_own() -> None:
    dialogue = ScriptedDialogue(stored=True)
    frames = [
        *caller_says("Where is my order?"), BotStartedSpeakingFrame(), SleepFrame(0.1), BotStoppedSpeakingFrame(), SleepFrame(0.3),
        *caller_says("It's one zero four two three three."),
    ]
    await run_test(processor(dialogue), frames_to_send=frames)
    assert dialogue.went_on == []
    assert [text for _, text in dialogue.said] == ["Where is my order?", "It's one zero four two three three."]


async def test_speech_long_after_the_bot_took_its_turn_is_a_turn_of_its_own() -> None:
    dialogue = ScriptedDialogue(stored=True)
    frames = [*caller_says("Where is my order?"), SleepFrame(GOES_ON_WITHIN_S + 0.2), *caller_says("It's one zero four two three three.")]
    await run_test(processor(dialogue), frames_to_send=frames)
    assert dialogue.went_on == []


async def test_speech_a_few_words_into_a_slow_answer_still_goes_on() -> None:
    dialogue = ScriptedDialogue(stored=True, answer_s=GOES_ON_WITHIN_S)  # the answer took long…
    frames = [
        *caller_says("I have a question."), SleepFrame(GOES_ON_WITHIN_S),
        BotStartedSpeakingFrame(), SleepFrame(0.1), *turn_of(transcript("Where is my order?"), speech_s=0.7),  # …and was cut off
    ]
    await run_test(processor(dialogue), frames_to_send=frames)
    assert dialogue.went_on == [("I have a question.", "Where is my order?")]


async def test_a_turn_that_changed_something_is_never_taken_back() -> None:
    cancelled = BotTurn(call_id=CALL_ID, caller_text="Yes.", bot_texts=["Done, it's cancelled."], changed_something=True)
    dialogue = ScriptedDialogue({"Yes.": cancelled}, stored=True)
    await run_test(processor(dialogue), frames_to_send=[*caller_says("Yes."), *caller_says("Thanks.")])
    assert dialogue.went_on == [] and [text for _, text in dialogue.said] == ["Yes.", "Thanks."]


async def test_the_answer_waits_while_the_caller_is_already_talking_again() -> None:
    dialogue = ScriptedDialogue(stored=True, answer_s=0.3)
    first = transcript("I have a question about my order.")
    frames = [
        VADUserStartedSpeakingFrame(), SleepFrame(0.05), VADUserStoppedSpeakingFrame(stop_secs=0.2), first,
        SleepFrame(0.2),  # the turn ended; the dialogue is still answering when the caller goes on
        *turn_of(transcript("Where is it?"), speech_s=0.5),  # still talking when the answer is ready
        SleepFrame(0.5),
    ]
    down, _ = await run_test(processor(dialogue), frames_to_send=frames)
    assert dialogue.went_on == [("I have a question about my order.", "Where is it?")]
    # The first answer was never spoken: only the one to both parts.
    assert spoken(down) == sentences(["You said I have a question about my order. Where is it?."])  # as the fake words it


async def test_pause_inside_an_order_number_keeps_the_turn_open() -> None:
    def read_out_in_two_parts() -> list[Frame]:
        return [
            VADUserStartedSpeakingFrame(), SleepFrame(0.05), VADUserStoppedSpeakingFrame(stop_secs=0.2),
            transcript("It's 1 0 4"), SleepFrame(0.4),
            VADUserStartedSpeakingFrame(), SleepFrame(0.05), VADUserStoppedSpeakingFrame(stop_secs=0.2),
            transcript("2 3 3."), SleepFrame(0.6),
        ]

    held = ScriptedDialogue()
    await run_test(processor(held, turn_rule=TurnEndRule(pause_s=0.1, digit_hold_s=1.0)), frames_to_send=read_out_in_two_parts())
    assert held.said == [(CALL_ID, "It's 1 0 4 2 3 3.")]

    hasty = ScriptedDialogue()  # without the hold the pause ends the turn: the number is cut in two
    await run_test(processor(hasty, turn_rule=TurnEndRule(pause_s=0.1, digit_hold_s=0.0)), frames_to_send=read_out_in_two_parts())
    assert hasty.said == [(CALL_ID, "It's 1 0 4"), (CALL_ID, "2 3 3.")]


class FixedVerdict:
    """The Smart Turn model's interface (TurnCompletionModel.judge) with a set answer; counts the audio it hears."""

    def __init__(self, probability: float) -> None:
        self.answer = probability
        self.heard_samples: list[int] = []

    async def judge(self, audio) -> float:
        self.heard_samples.append(len(audio))
        return self.answer


def said_with_a_pause(first: str, then: str, pause_s: float) -> list[Frame]:
    """A caller who pauses `pause_s` after `first` (with 0.3 s of their audio before the pause), then says `then`."""
    audio = [InputAudioRawFrame(b"\x10\x00" * 320, 16000, 1) for _ in range(15)]  # 15 x 20 ms
    return [
        VADUserStartedSpeakingFrame(), *audio, VADUserStoppedSpeakingFrame(stop_secs=0.2),
        transcript(first), SleepFrame(pause_s),
        VADUserStartedSpeakingFrame(), SleepFrame(0.05), VADUserStoppedSpeakingFrame(stop_secs=0.2),
        transcript(then), SleepFrame(1.8),
    ]


@pytest.mark.parametrize(
    ("verdict", "turns"),
    [(0.1, ["I ordered a coffee maker two weeks ago it still hasn't come."]),  # sounds unfinished: the turn waits
     (0.8, ["I ordered a coffee maker two weeks ago", "it still hasn't come."])],  # sounds finished: the pause ends it
)
async def test_smart_turns_verdict_keeps_a_paused_caller_s_turn_open_or_ends_it(verdict: float, turns: list[str]) -> None:
    model, dialogue = FixedVerdict(verdict), ScriptedDialogue()
    rule = TurnEndRule(pause_s=0.1, complete_threshold=0.5, incomplete_hold_s=1.0)
    await run_test(
        processor(dialogue, turn_rule=rule, turn_model=model),
        frames_to_send=said_with_a_pause("I ordered a coffee maker two weeks ago", "it still hasn't come.", 0.5),
    )
    assert [text for _, text in dialogue.said] == turns
    assert model.heard_samples and model.heard_samples[0] >= 15 * 320  # it judged the caller's own audio


class SlowVerdict(FixedVerdict):
    """A verdict that comes long after the transcript, as on cores busy with other calls."""

    async def judge(self, audio) -> float:
        await asyncio.sleep(1.0)
        return await super().judge(audio)


async def test_a_late_verdict_does_not_hold_the_turn_up() -> None:
    dialogue = ScriptedDialogue()
    rule = TurnEndRule(pause_s=0.1, complete_threshold=0.5, incomplete_hold_s=1.0)
    await run_test(
        processor(dialogue, turn_rule=rule, turn_model=SlowVerdict(0.1)),
        frames_to_send=said_with_a_pause("I ordered a coffee maker two weeks ago", "it still hasn't come.", 0.5),
    )
    assert [text for _, text in dialogue.said] == ["I ordered a coffee maker two weeks ago", "it still hasn't come."]


def doubted(text: str) -> TranscriptionFrame:
    frame = transcript(text)
    frame.result = Heard(text, avg_logprob=-1.4, doubt="unsure")
    return frame


def turn_of(frame: TranscriptionFrame, speech_s: float = 0.05) -> list[Frame]:
    return [VADUserStartedSpeakingFrame(), SleepFrame(speech_s), VADUserStoppedSpeakingFrame(stop_secs=0.2), frame, SleepFrame(0.5)]


async def test_words_whisper_doubts_are_not_acted_on_the_caller_is_asked_to_repeat() -> None:
    dialogue = ScriptedDialogue()
    down, _ = await run_test(
        processor(dialogue),
        frames_to_send=[*turn_of(doubted("Let's enter a new address.")), *turn_of(transcript("I want to speak to a person."))],
    )
    assert "Sorry, could you repeat that?" in spoken(down)
    assert dialogue.said == [(CALL_ID, "I want to speak to a person.")]  # the guess never reached the dialogue


async def test_doubted_words_a_second_time_in_a_row_go_to_the_dialogue_after_all() -> None:
    dialogue = ScriptedDialogue()
    down, _ = await run_test(
        processor(dialogue), frames_to_send=[*turn_of(doubted("where's my odor")), *turn_of(doubted("where's my odor"))],
    )
    assert spoken(down).count("Sorry, could you repeat that?") == 1
    assert dialogue.said == [(CALL_ID, "where's my odor")]  # the dialogue's own reprompts take over from here


def spoke_without_words(speech_s: float) -> list[Frame]:
    """Speech the VAD heard for `speech_s` in which Whisper made out no words (an empty transcript)."""
    return [VADUserStartedSpeakingFrame(), SleepFrame(speech_s), VADUserStoppedSpeakingFrame(stop_secs=0.2), transcript(""), SleepFrame(0.5)]


async def test_speech_whisper_heard_no_words_in_gets_asked_again_not_silence() -> None:
    dialogue = ScriptedDialogue()
    down, _ = await run_test(
        processor(dialogue), frames_to_send=[*spoke_without_words(1.2), *turn_of(transcript("It's one zero four two three three."))],
    )
    assert spoken(down).count("Sorry, could you repeat that?") == 1
    assert dialogue.said == [(CALL_ID, "It's one zero four two three three.")]  # the next turn is its own, answered


async def test_a_blip_with_no_words_is_not_answered() -> None:
    dialogue = ScriptedDialogue()
    down, _ = await run_test(processor(dialogue), frames_to_send=spoke_without_words(0.1))
    assert "Sorry, could you repeat that?" not in spoken(down) and dialogue.said == []


async def test_after_each_bot_turn_the_recogniser_is_told_whether_a_number_is_asked_for() -> None:
    asks_order = BotTurn(call_id=CALL_ID, caller_text="where is my parcel", bot_texts=["What's your order number?"], requested_slot="order_number")
    dialogue = ScriptedDialogue({"where is my parcel": asks_order})
    _, up = await run_test(processor(dialogue), frames_to_send=caller_says("where is my parcel"))
    told = [f.expected for f in up if isinstance(f, ExpectedAnswerFrame)]
    assert told and told[-1].number_asked and told[-1].digits == 6


async def test_expected_digits_follow_the_question() -> None:
    asks_last_four = BotTurn(
        call_id=CALL_ID, caller_text="change my address", bot_texts=["What are the last four digits of your phone?"],
        requested_slot="identity_answer",
    )
    dialogue = ScriptedDialogue({"change my address": asks_last_four})
    proc = processor(dialogue)
    await run_test(proc, frames_to_send=caller_says("change my address"))
    assert proc.turn_stop.expected == TurnExpectation(digits=4, number_asked=True)


def test_speech_cache_keeps_recent_sentences_within_its_size() -> None:
    cache = SpeechCache(max_bytes=10)
    cache.put("What is the order number?", b"12345")
    cache.put("Anything else?", b"6789")
    assert cache.get("What is the order number?") == b"12345"  # now the most recently used
    cache.put("Goodbye.", b"abcd")  # 13 bytes: the least recently used goes
    assert cache.get("Anything else?") is None
    assert cache.get("What is the order number?") == b"12345" and cache.get("Goodbye.") == b"abcd"
    assert (cache.hits, cache.misses) == (3, 1)


def test_leading_silence_is_trimmed_from_piper_audio() -> None:
    import io
    import wave

    import numpy as np

    from voicebot.voice.tts import trim_leading_silence

    rate = 22050
    speech = (np.sin(np.arange(rate // 2) / 5) * 8000).astype("<i2")
    samples = np.concatenate([np.zeros(rate // 4, dtype="<i2"), speech])  # 250 ms of silence first
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    with wave.open(io.BytesIO(trim_leading_silence(buffer.getvalue()))) as r:
        assert r.getframerate() == rate
        trimmed = r.getnframes()
    assert abs(trimmed - (len(speech) + int(0.02 * rate))) <= 2  # 20 ms of lead-in kept
    assert trim_leading_silence(b"not a wav") == b"not a wav"


async def test_dollar_amounts_are_rewritten_the_way_piper_says_them_right() -> None:
    assert await say_dollar_amounts("Standard is $4.99, free over $50.", "sentence") == "Standard is 4.99 dollars, free over 50 dollars."
    assert await say_dollar_amounts("$1,200 in total; 5 dollars; no $ sign", "sentence") == "1,200 dollars in total; 5 dollars; no $ sign"


def on_hold(**hold) -> tuple[ScriptedDialogue, BotTurn]:
    handoff = BotTurn(
        call_id=CALL_ID, caller_text="agent please", bot_texts=["Please hold."],
        handoff=queued(7, "caller_request", "general"),
    )
    return ScriptedDialogue({"agent please": handoff}, hold=[HoldStatus("waiting", 1, 180)]), handoff


async def test_a_caller_on_hold_books_a_call_back_by_voice() -> None:
    dialogue, _ = on_hold()
    down, _ = await run_test(
        processor(dialogue, hold_announce_s=30),
        frames_to_send=[*caller_says("agent please"), *caller_says("can you call me back instead"), *caller_says("tomorrow at 10 am")],
    )
    said = spoken(down)
    assert said[said.index("Sure.") + 1] == "When should we call you?"
    [(handoff_id, when)] = dialogue.callbacks
    assert handoff_id == 7 and (when.hour, when.minute) == (10, 0)
    assert (when.date() - datetime.now().astimezone().date()).days == 1
    assert said[-3:] == ["Thanks.", "We'll call you back tomorrow at 10 am on the number you're calling from.", "Goodbye."]
    assert any(isinstance(f, EndWorkerFrame) for f in down) and dialogue.ended == [(CALL_ID, "handed_off")]


async def test_words_on_hold_go_to_the_dialogue_and_its_note_is_spoken() -> None:
    dialogue, _ = on_hold()
    dialogue.answers["it's order one oh one eight seven four"] = BotTurn(
        call_id=CALL_ID, caller_text="it's order one oh one eight seven four", bot_texts=["Noted for your colleague."]
    )
    down, _ = await run_test(
        processor(dialogue, hold_announce_s=30),
        frames_to_send=[*caller_says("agent please"), *caller_says("it's order one oh one eight seven four")],
    )
    assert dialogue.said == [(CALL_ID, "agent please"), (CALL_ID, "it's order one oh one eight seven four")]
    assert spoken(down)[-1] == "Noted for your colleague." and dialogue.ended == []


async def test_call_back_by_keypad_and_an_unclear_time_twice_keeps_the_caller_holding() -> None:
    dialogue, _ = on_hold()
    down, _ = await run_test(
        processor(dialogue, hold_announce_s=30),
        frames_to_send=[*caller_says("agent please"), *keys("1"), SleepFrame(0.3), *caller_says("whenever suits you"), *caller_says("sunday at noon")],
    )
    said = spoken(down)
    assert "When should we call you?" in said
    assert "Sorry, I need a time between 8 am and 8 pm, Monday to Saturday, within the next week." in said  # "whenever"
    assert said[-1] == "No problem, you're still in the queue."  # Sunday is closed: second miss
    assert dialogue.callbacks == [] and not any(isinstance(f, EndWorkerFrame) for f in down)


async def test_caller_audio_tap_feeds_a_connected_agent_and_passes_audio_on() -> None:
    from pipecat.frames.frames import InputAudioRawFrame

    from voicebot.voice.bridge import AgentAudioBridge, Bridges, CallerAudioTap

    async def nothing(*_args) -> None:
        return None

    bridges = Bridges()
    bridge = AgentAudioBridge(CALL_ID, nothing, nothing)
    bridges.add(bridge)

    def frame() -> InputAudioRawFrame:
        return InputAudioRawFrame(audio=b"\x01\x00" * 320, sample_rate=16000, num_channels=1)

    down, _ = await run_test(CallerAudioTap(bridges, CALL_ID), frames_to_send=[frame()])
    assert bridge.to_agent.empty()  # nobody listening yet: nothing kept
    bridge.connect()
    down, _ = await run_test(CallerAudioTap(bridges, CALL_ID), frames_to_send=[frame(), frame()])
    assert sum(isinstance(f, InputAudioRawFrame) for f in down) == 2  # VAD and STT still get the audio
    assert bridge.to_agent.qsize() == 2 and bridge.to_agent.get_nowait() == b"\x01\x00" * 320


async def test_speech_that_failed_hands_the_call_off_once() -> None:
    """The TTS reports sentences it could not say (the caller heard the apology instead)."""
    dialogue = ScriptedDialogue(hold=[HoldStatus("waiting", 1, 180)])
    proc = processor(dialogue, hold_announce_s=30)
    failures = [SpeechFailedFrame("Your order is on its way."), SleepFrame(0.2), SpeechFailedFrame("It arrives on Friday."), SleepFrame(0.2)]
    down, up = await run_test(proc, frames_to_send=failures, frames_to_send_direction=FrameDirection.UPSTREAM)
    assert dialogue.unspoken == [("Your order is on its way.", True), ("It arrives on Friday.", False)]  # one handoff
    assert proc.hold is not None  # the caller holds for a person
    assert "press 1 or say call me back." in spoken(down)
    assert not any(isinstance(f, SpeechFailedFrame) for f in up)  # the report stops at the dialogue processor
