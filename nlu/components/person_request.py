"""Rasa 3.6 component: a caller who asks for a person outright gets one.

"My package is late again, order 108425, and I want to talk to a manager" is about
tracking as well, and a sentence classifier ranks it so; "I want a real person. Now."
sits close to policy questions in embedding space. Either way the caller has said what
they want next, in words no designer needs to train for. This component runs after the
intent classifier and puts `contact_human_agent` first when the words ask for a person
and do not deny it ("I don't need to speak to anyone"); the rest of the ranking stays.

Use in config.yml, after the intent classifier and before FallbackClassifier:

    pipeline:
      - name: components.person_request.PersonRequestClassifier
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

PERSON_INTENT = "contact_human_agent"
CONFIDENCE = 0.95

_PERSON = r"(?:person|human|agent|manager|supervisor|representative|rep|operator|someone|somebody|associate|colleague)"
PERSON_REQUEST = re.compile(
    r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a|an|the|your|some)?\s*(?:real\s+|live\s+|actual\s+)?" + _PERSON + r"\b"
    r"|\b(?:real|live|actual)\s+(?:person|human)\b|\bhuman\s+being\b"
    r"|\b(?:transfer|connect|put)\s+me\s+(?:through\s+)?(?:to|with)\s+(?:a|an|the|your)?\s*(?:real\s+|live\s+)?" + _PERSON + r"\b"
    r"|\b(?:get|give|want|need)\s+(?:me\s+)?(?:a|an|the|your)\s+(?:real\s+|live\s+)?(?:person|human|agent|manager|supervisor|representative|operator)\b",
    re.IGNORECASE,
)
# Words just before the request that turn it round: "I don't need to talk to anyone",
# "can I do it without speaking to an agent?", "do I have to talk to a person?".
DENIED = re.compile(r"\b(?:don'?t|do not|not|never|no need|without|have to|need to\s+\w+\s+to)\s+(?:\w+\s+){0,3}$", re.IGNORECASE)
# "Are you a real person?", "am I talking to a human?": a question about the bot (bot_challenge), not a request.
ABOUT_THE_BOT = re.compile(r"\b(?:are\s+you|am\s+i\s+(?:talking|speaking)\s+(?:to|with)|is\s+(?:this|that|it))\s+(?:a|an)?\s*$", re.IGNORECASE)


def asks_for_person(text: str) -> bool:
    """True when the words ask for a person outright (and do not deny it)."""
    for match in PERSON_REQUEST.finditer(text or ""):
        before = text[: match.start()]
        if not DENIED.search(before) and not ABOUT_THE_BOT.search(before):
            return True
    return False


def with_person_first(intent: Optional[Dict[str, Any]], ranking: List[Dict[str, Any]]) -> tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """The parse with `contact_human_agent` on top; the other intents keep their order, scaled
    to share what is left, so that a runner-up as sure as the classifier was ("...couldn't find
    the address? Get me a manager": change_shipping_address 0.95) is no tie for the fallback."""
    top = {"name": PERSON_INTENT, "confidence": max(CONFIDENCE, (intent or {}).get("confidence") or 0.0)}
    others = [r for r in ranking if r.get("name") != PERSON_INTENT]
    left, total = 1.0 - top["confidence"], sum(r.get("confidence") or 0.0 for r in others)
    scale = left / total if total > left else 1.0
    return top, [top] + [{**r, "confidence": (r.get("confidence") or 0.0) * scale} for r in others]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class PersonRequestClassifier(GraphComponent):
    """Puts contact_human_agent first for words that ask for a person outright."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PersonRequestClassifier:
        """Nothing to configure or load: the phrases are above."""
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get("name") == PERSON_INTENT or not asks_for_person(message.get(TEXT) or ""):
                continue
            top, ranking = with_person_first(intent, message.get(INTENT_RANKING_KEY) or [])
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
