"""Caller emotion from words, and when it counts as sustained anger."""

from __future__ import annotations

import pytest

from knowledge.encoder import SentenceEncoder
from voicebot.emotion import TextEmotion, repeat_contact, sustained_anger


@pytest.fixture(scope="module")
def emotion() -> TextEmotion:
    return TextEmotion(SentenceEncoder())


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("where is my order", "neutral"),
        ("cancel order one oh four two three three", "neutral"),
        ("let me talk to a real person", "neutral"),
        ("", "neutral"),
        ("you lot are completely useless", "angry"),
        ("this is absolutely unacceptable i want a manager now", "angry"),
        ("i have been waiting two weeks for this and still nothing", "frustrated"),
        ("thank you so much that's great", "happy"),
        ("i'm worried my parcel has been stolen", "anxious"),
        ("it was a present for my son and now it's ruined", "sad"),
        # One angry sentence among order details still makes the turn angry.
        ("This is a joke. The parcel for order one oh nine seven one six, the charger, was due on Monday.", "angry"),
        ("Okay. My order number is one oh four two three three. Where is it?", "neutral"),
        # A short sentence a little nearer the frustrated examples does not make a calm turn upset.
        ("Hi, I think I got charged twice for my order, one oh one eight seven four. It's on my card two times.", "neutral"),
        # Calm words, but they have asked before and nobody helped (a transcript writes "3rd").
        ("This is the third time I'm calling about the same order and nobody has helped me.", "frustrated"),
        ("This is the 3rd time I'm calling about the same order, and nobody has helped me.", "frustrated"),
    ],
)
def test_turns_get_the_emotion_their_words_carry(emotion, text, label) -> None:
    assert emotion.label(text) == label


def test_examples_file_must_use_known_labels(tmp_path) -> None:
    bad = tmp_path / "examples.yml"
    bad.write_text("neutral: [hello]\nfurious: [grr]\n")
    with pytest.raises(ValueError, match="labels must be"):
        TextEmotion(SentenceEncoder(), bad)


@pytest.mark.parametrize(
    ("trajectory", "sustained"),
    [
        (["neutral", "angry", "angry"], True),
        (["frustrated", "neutral", "angry", "frustrated"], True),
        (["angry", "neutral", "angry"], False),  # a flash, not sustained
        (["angry"], False),
        (["frustrated", "frustrated", "neutral", "neutral", "frustrated"], False),  # only the last four count
        (["angry", "angry", None], True),  # turns without a label (keypad) are skipped
        ([], False),
    ],
)
def test_sustained_anger(trajectory, sustained) -> None:
    assert sustained_anger(trajectory) is sustained


@pytest.mark.parametrize(
    ("text", "repeated"),
    [
        ("this is the third time i'm calling about it", True),
        ("it's my 2nd time ringing", True),
        ("i've been calling all week and nobody does anything", True),
        ("i keep ringing you", True),
        ("no one has helped me", True),
        ("what time does it arrive", False),
        ("i called yesterday and they said it would come today", False),
        ("where is my order", False),
    ],
)
def test_repeat_contact_is_read_from_the_callers_words(text, repeated) -> None:
    assert repeat_contact(text) is repeated
