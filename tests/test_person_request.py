"""The Rasa component that puts a caller's outright request for a person first.

Run inside the Rasa venv (Python 3.10, rasa 3.6) through a subprocess, on real
`Message`s, as the pipeline runs it (nlu/ as the working directory).
"""

from __future__ import annotations

import json

import pytest

from tests.rasa_venv import requires_rasa_venv, run_in_rasa

pytestmark = requires_rasa_venv

SCRIPT = """
import json, sys
from rasa.shared.nlu.training_data.message import Message
from components.person_request import PersonRequestClassifier

component = PersonRequestClassifier.create({}, None, None, None)
messages = []
for text in json.loads(sys.argv[1]):
    ranking = [{"name": "track_order", "confidence": 0.68}, {"name": "contact_human_agent", "confidence": 0.2}, {"name": "complaint", "confidence": 0.12}]
    messages.append(Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking}))
component.process(messages)
print("RESULT " + json.dumps([[m.get("intent"), [r["name"] for r in m.get("intent_ranking")], [r["confidence"] for r in m.get("intent_ranking")]] for m in messages]))
"""

ASKS = [
    "This is ridiculous. My package is late again, order one oh eight four two five, and I want to talk to a manager right now.",
    "No, I don't want another update, I want a real person. Now.",
    "could you put me through to someone",
    "connect me with a live agent please",
]
DOES_NOT_ASK = [
    "where is my order",
    "I don't need to talk to anyone, just tell me where it is",
    "can I change the address without speaking to an agent?",
    "the delivery person left it on the porch",
    "Wait, are you a real person? You sound pretty real.",
    "am I talking to a human being?",
]


@pytest.fixture(scope="module")
def parsed() -> list:
    return run_in_rasa(SCRIPT, json.dumps(ASKS + DOES_NOT_ASK))


def test_an_outright_request_for_a_person_comes_first(parsed: list) -> None:
    for text, (intent, ranking, confidences) in zip(ASKS, parsed[: len(ASKS)]):
        assert intent == {"name": "contact_human_agent", "confidence": 0.95}, text
        assert ranking == ["contact_human_agent", "track_order", "complaint"], text
        # The others share what is left: a sure runner-up is no tie for the fallback's ambiguity check.
        assert abs(sum(confidences) - 1.0) < 1e-9 and confidences[1] < 0.05, text


def test_other_words_and_denials_keep_the_classifier_s_parse(parsed: list) -> None:
    for text, (intent, ranking, _) in zip(DOES_NOT_ASK, parsed[len(ASKS) :]):
        assert intent == {"name": "track_order", "confidence": 0.68}, text
        assert ranking == ["track_order", "contact_human_agent", "complaint"], text
