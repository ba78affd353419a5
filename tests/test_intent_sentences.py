"""The intent classifier reads a turn of several sentences by its surest request.

Run inside the Rasa venv on the real sentence encoder, with a small linear model fitted
on a few phrasings (the logic under test is the choice between the whole turn and its
sentences, not the project's training data).
"""

from __future__ import annotations

import json

import pytest

from tests.rasa_venv import ROOT, requires_rasa_venv, run_in_rasa

pytestmark = requires_rasa_venv

SCRIPT = """
import json, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from components.embedding_intent_classifier import EmbeddingIntentClassifier, sentences

TRAINING = {
    "greet": ["hello", "hi there", "good morning", "hey", "hello is this the shop"],
    "thank_you": ["thanks", "thank you so much", "cheers", "thanks a lot"],
    "cancel_order": ["cancel my order", "i want to cancel an order", "please cancel it", "can you cancel order 104233"],
    "track_order": ["where is my order", "track my parcel", "where's my package", "has my order shipped"],
    "review": ["i found it cheaper somewhere else", "your prices are too high", "i want to leave feedback"],
}
component = EmbeddingIntentClassifier({"C": 30.0}, None, None)
texts = [t for examples in TRAINING.values() for t in examples]
labels = [intent for intent, examples in TRAINING.items() for _ in examples]
model = LogisticRegression(C=30.0, max_iter=2000).fit(component.encoder.encode(texts), labels)
component.classes, component.coef, component.intercept = model.classes_, model.coef_, model.intercept_
result = {}
for text in json.loads(sys.argv[1]):
    whole = component.probabilities([text])[0]
    turn = component.turn_probabilities(text)
    result[text] = {
        "sentences": sentences(text),
        "whole": str(component.classes[int(np.argmax(whole))]),
        "turn": str(component.classes[int(np.argmax(turn))]),
    }
print("RESULT " + json.dumps(result))
"""

TEXTS = [
    "Hello, hi there, good morning, hey, hello. Cancel it.",  # whole: greet
    "Hi there, good morning. Hello, is this the shop? Thanks so much. Cancel it.",  # whole: greet
    "Hello. Thanks.",
    "where is my order",
    "Hi there, good morning, hello, hey. Because I found it cheaper somewhere else.",  # a reason
]


@pytest.fixture(scope="module")
def parsed() -> dict:
    return run_in_rasa(SCRIPT, json.dumps(TEXTS), env={"PYTHONPATH": str(ROOT)})  # the encoder is in knowledge/


def test_a_sure_request_in_one_sentence_decides_the_turn(parsed: dict) -> None:
    for text in TEXTS[:2]:
        assert parsed[text]["whole"] == "greet", text  # embedded whole, the greetings win
        assert parsed[text]["turn"] == "cancel_order", text


def test_small_talk_and_single_sentences_keep_the_whole_turn_s_parse(parsed: dict) -> None:
    for text in TEXTS[2:4]:
        assert parsed[text]["turn"] == parsed[text]["whole"], text
    assert parsed["where is my order"]["sentences"] == []
    assert parsed["Hello. Thanks."]["sentences"] == ["Hello.", "Thanks."]


def test_a_reason_is_never_the_request_that_decides_the_turn(parsed: dict) -> None:
    text = TEXTS[4]
    assert parsed[text]["sentences"][1].startswith("Because")
    assert parsed[text]["turn"] == parsed[text]["whole"] == "greet"


def test_a_trailing_off_ellipsis_reads_as_a_pause() -> None:
    script = (
        "import json, sys\n"
        "from components.embedding_intent_classifier import as_transcribed\n"
        "print('RESULT ' + json.dumps([as_transcribed(t) for t in json.loads(sys.argv[1])]))\n"
    )
    said = ["Hmm, not sure... actually, no.", "one zero eight... four two five", "so…"]
    assert run_in_rasa(script, json.dumps(said), env={"PYTHONPATH": str(ROOT)}) == [
        "Hmm, not sure actually, no.", "108425", "so",
    ]
