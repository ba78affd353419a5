"""When the recogniser should not be believed: voicebot.voice.whisper's doubt signals, and the prompt's policy."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pipecat.processors.frame_processor import FrameDirection

from voicebot.settings import Settings
from voicebot.voice.frames import ExpectedAnswerFrame
from voicebot.voice.stt import SharedWhisperSTTService
from voicebot.voice.turns import TurnExpectation
from voicebot.voice.whisper import doubt_about, echoes_prompt, is_speech

PROMPT = Settings().whisper_initial_prompt


@dataclass
class Segment:  # the scores of a faster-whisper Segment that doubt_about and is_speech read
    avg_logprob: float = -0.3
    compression_ratio: float = 1.2
    no_speech_prob: float = 0.05


@pytest.mark.parametrize(
    ("no_speech", "logprob", "speech"),
    [
        (0.1, -1.5, True),  # Whisper hears speech: kept even when unsure (the doubt signals judge it)
        (0.61, -0.89, True),  # "It's 1 0 4 2 3 3." on a noisy line: sure of the words
        (0.61, -1.2, False),  # likely silence, unsure words
        (0.9, -0.3, False),  # "Thank you." invented in silence: sure words, surer there was no speech
    ],
)
def test_a_segment_is_silence_when_whisper_thinks_so_and_is_unsure_of_the_words(no_speech, logprob, speech) -> None:
    assert is_speech(Segment(avg_logprob=logprob, no_speech_prob=no_speech)) is speech


@pytest.mark.parametrize(
    "text",
    ["Customer service call about an online order.", "Cancel, refund, delivery, tracking, address.", "Cancel, refund, delivery,"],
)
def test_the_prompt_read_back_is_an_echo(text: str) -> None:
    assert echoes_prompt(text, PROMPT)
    assert doubt_about([Segment()], text, PROMPT) == "prompt echo"


@pytest.mark.parametrize(
    "text",
    ["My order number is 1 0 4 2 3 3.", "It's 1 0 4 2 3 3.", "My zip code 7 8 7 0 4.", "I'm calling about an online order.",
     "I want to cancel my order.", "This is ridiculous.", "Where is my delivery?"],
)
def test_a_caller_using_the_prompts_words_is_not_an_echo(text: str) -> None:
    assert not echoes_prompt(text, PROMPT)
    assert doubt_about([Segment()], text, PROMPT) is None


def test_no_prompt_no_echo() -> None:
    assert not echoes_prompt("Customer service call about an online order.", None)


def test_a_loop_or_a_guess_is_doubted() -> None:
    assert doubt_about([Segment(compression_ratio=2.6)], "delivery delivery delivery delivery", PROMPT) == "repetition"
    assert doubt_about([Segment(avg_logprob=-1.4)], "Let's enter a new address.", PROMPT) == "unsure"


class NoModel:
    """The recogniser's model is not used here: only the prompt choice is."""


@pytest.mark.parametrize(
    ("when", "open_prompt", "number_prompt"),
    [("always", PROMPT, PROMPT), ("number", None, PROMPT), ("never", None, None)],
)
async def test_the_prompt_follows_what_the_bot_asked_for(when: str, open_prompt, number_prompt) -> None:
    stt = SharedWhisperSTTService(whisper_model=NoModel(), model_name="base", initial_prompt=PROMPT, prompt_when=when)
    assert stt.prompt == open_prompt  # the greeting is an open question
    await stt.process_frame(ExpectedAnswerFrame(TurnExpectation(number_asked=True)), FrameDirection.UPSTREAM)
    assert stt.prompt == number_prompt
    await stt.process_frame(ExpectedAnswerFrame(TurnExpectation()), FrameDirection.UPSTREAM)
    assert stt.prompt == open_prompt
