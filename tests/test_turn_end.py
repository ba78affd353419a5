"""When a caller's pause ends their turn: the pure rules of voicebot.voice.turns."""

from __future__ import annotations

import numpy as np
import pytest

from voicebot.voice.call import turn_expectation
from voicebot.voice.turns import (
    TurnAudio,
    TurnEndRule,
    TurnExpectation,
    greeting_only,
    trailing_digits,
    turn_end_wait,
    unfinished_sentence,
)

RULE = TurnEndRule(pause_s=0.2, complete_threshold=0.5, incomplete_hold_s=1.0, digit_hold_s=1.3)
OPEN = TurnExpectation()


@pytest.mark.parametrize(
    ("text", "unfinished"),
    [("I want to", True), ("My parcel and", True), ("So, um...", True), ("Is it possible to?", True),
     ("I want to cancel my order.", False), ("Whenever suits you.", False), ("", False)],
)
def test_a_sentence_is_unfinished_when_it_stops_on_a_connective_or_filler(text: str, unfinished: bool) -> None:
    assert unfinished_sentence(text) is unfinished


@pytest.mark.parametrize(
    ("text", "greeting"),
    [("Hi.", True), ("Um, hello.", True), ("Good afternoon.", True), ("Yeah hi there.", True),
     ("Yes.", False), ("Okay.", False), ("Hi, where is my order?", False), ("", False)],
)
def test_a_bare_greeting_is_told_from_a_short_answer(text: str, greeting: bool) -> None:
    assert greeting_only(text) is greeting


def test_trailing_digits_count_written_and_spoken_digits_at_the_end_only() -> None:
    assert trailing_digits("Apartment six, Madison, 5 3 7 0 3.") == 5
    assert trailing_digits("it's nine oh two 1") == 4
    assert trailing_digits("221 Cedar Drive") == 0


def test_a_finished_sounding_turn_ends_after_the_speech_timeout() -> None:
    assert turn_end_wait("Where is my order?", 0.95, OPEN, RULE) == pytest.approx(0.2)
    assert turn_end_wait("Where is my order?", None, OPEN, RULE) == pytest.approx(0.2)  # no model: the pause


def test_an_unfinished_thought_waits_the_incomplete_hold() -> None:
    assert turn_end_wait("I ordered a coffee maker two weeks ago", 0.2, OPEN, RULE) == pytest.approx(1.2)
    assert turn_end_wait("I want to", 0.99, OPEN, RULE) == pytest.approx(1.2)  # the words say wait whatever the model says
    assert turn_end_wait("Hello.", 0.99, OPEN, RULE) == pytest.approx(1.2)  # the reason for the call is still to come


def test_a_half_read_number_waits_the_digit_hold_even_when_it_sounds_finished() -> None:
    order = turn_expectation("order_number")
    assert turn_end_wait("It's 1 0 4.", 0.99, order, RULE) == pytest.approx(1.5)
    assert turn_end_wait("It's 1 0 4 2 3 3.", 0.99, order, RULE) == pytest.approx(0.2)
    last_four = turn_expectation("identity_answer")
    assert turn_end_wait("4 1 9 7", 0.99, last_four, RULE) == pytest.approx(0.2)


def test_an_address_is_not_over_before_its_zip_code() -> None:
    address = turn_expectation("new_address")
    assert address == TurnExpectation(digits=5, ends_with_number=True, number_asked=True)
    assert turn_end_wait("221 Cedar Drive, apartment 6.", 0.99, address, RULE) == pytest.approx(1.5)
    assert turn_end_wait("221 Cedar Drive, apartment 6, Madison, 5 3 7 0 3.", 0.99, address, RULE) == pytest.approx(0.2)


def test_the_pause_detector_ignores_the_model_and_the_words() -> None:
    from voicebot.settings import Settings

    pause = TurnEndRule.from_settings(Settings(turn_detector="pause"))
    assert turn_end_wait("I ordered a coffee maker but", 0.01, OPEN, pause) == pytest.approx(pause.pause_s)
    assert turn_end_wait("Hello.", 0.99, OPEN, pause) == pytest.approx(pause.pause_s)
    assert turn_end_wait("It's 1 0 4", 0.99, turn_expectation("order_number"), pause) == pytest.approx(pause.pause_s + pause.digit_hold_s)


def test_turn_audio_keeps_a_short_pre_roll_before_speech_and_the_last_seconds_of_it() -> None:
    audio = TurnAudio(sample_rate=1000, pre_roll_s=0.5, max_s=2.0)
    audio.add(np.full(3000, 1000, dtype=np.int16).tobytes())  # 3 s of noise before the caller speaks
    assert audio.samples().size == 500
    audio.speech_started()
    audio.add(np.full(4000, 2000, dtype=np.int16).tobytes())
    samples = audio.samples()
    assert samples.size == 2000 and np.allclose(samples, 2000 / 32768)  # the cap keeps the newest audio
    audio.clear()
    assert audio.samples().size == 0


@pytest.mark.parametrize("text", ["Hang on, let me find it.", "Let me see.", "One second, it's on the email", "Hold on"])
def test_a_caller_looking_something_up_gets_the_long_wait(text: str) -> None:
    assert turn_end_wait(text, 0.99, OPEN, RULE) == pytest.approx(1.5)


@pytest.mark.parametrize("text", ["I mean", "So basically", "It's, you know"])
def test_a_lead_in_is_not_the_point(text: str) -> None:
    assert unfinished_sentence(text)
    assert turn_end_wait(text, 0.99, OPEN, RULE) == pytest.approx(1.2)


def test_looking_up_is_heard_only_at_the_end() -> None:
    assert turn_end_wait("Let me see, it's order 1 0 4 2 3 3. Where is it?", 0.99, OPEN, RULE) == pytest.approx(0.2)
