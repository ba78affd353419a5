"""Intent classifier over all-MiniLM-L6-v2 sentence embeddings.

Rasa's own DIET classifier learns from word and character counts, which fits its
training phrasings but generalises poorly to new ones (about 0.60 accuracy on
fresh phrasings of the Bitext intents, see shared/FACTS.md). Sentence embeddings
carry meaning across paraphrases, so a linear model on top of them generalises
far better and trains in seconds.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
from sklearn.linear_model import LogisticRegression

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from knowledge.encoder import EmbeddingCache, SentenceEncoder

from .spoken_entities import spoken_digits

logger = logging.getLogger(__name__)

_ENCODERS: Dict[str, SentenceEncoder] = {}


ELLIPSIS = re.compile(r"\s*(?:\.\.\.+|…)\s*")


def as_transcribed(text: str) -> str:
    """Spoken digit runs as digit strings ("order one oh five..." -> "order 105..."), so a number
    read out in words weighs like one Whisper wrote in digits, and does not drown the request.
    A trailing-off "..." (Whisper writes many; the training data has next to none) is a pause:
    "Hmm, not sure..." embedded with it lay nearer the policy questions than the no's."""
    return ELLIPSIS.sub(" ", spoken_digits(text)).strip() or text


# A caller's turn is often several sentences, most of them framing ("Hi, so, funny story...",
# "Found it cheaper somewhere else, no offense") around one request; embedded whole, the
# framing can outweigh it. Each sentence is scored too, and a sure request in one of them
# wins over the whole turn's guess; small talk and bare data never win that way.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


REASON_START = re.compile(r"\W*(?:because|'?cause|since|that'?s (?:the (?:only )?reason|why))\b", re.IGNORECASE)


def sentences(text: str) -> List[str]:
    """The turn's sentences, when it has more than one (else none)."""
    parts = [p for p in SENTENCE_END.split(text.strip()) if re.search(r"[a-zA-Z]", p)]
    return parts if len(parts) > 1 else []


def shared_encoder(model_dir: Optional[str]) -> SentenceEncoder:
    """One encoder per process: the weights are 90 MB and load in about a second."""
    key = model_dir or ""
    if key not in _ENCODERS:
        _ENCODERS[key] = SentenceEncoder(Path(model_dir) if model_dir else None)
    return _ENCODERS[key]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class EmbeddingIntentClassifier(IntentClassifier, GraphComponent):
    """Logistic regression on sentence embeddings; needs no tokenizer or featurizer."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Folder with a sentence-transformers BERT model; None = the bundled all-MiniLM-L6-v2.
            "model_dir": None,
            # Inverse regularisation strength of the logistic regression.
            "C": 30.0,
            "max_iter": 2000,
            # How many alternative intents to report in `intent_ranking`.
            "ranking_length": 10,
            # Where embeddings of training sentences are cached between trainings.
            "cache_file": ".rasa/embedding_cache.npz",
            # Intents that frame or answer rather than ask: one sentence of these never
            # decides a turn of several sentences.
            "framing_intents": ["greet", "goodbye", "thank_you", "affirm", "deny", "inform", "repeat", "out_of_scope"],
            # How sure one sentence's request must be to decide the whole turn, and how much
            # less sure than the whole turn's guess it may be: a sentence is the more specific
            # reading ("Okay, that's fine. Yeah, go ahead and start the return.").
            "sentence_request_confidence": 0.65,
            "sentence_margin": 0.1,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.classes: np.ndarray = np.array([])
        self.coef: Optional[np.ndarray] = None
        self.intercept: Optional[np.ndarray] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmbeddingIntentClassifier":
        return cls(config, model_storage, resource)

    @property
    def encoder(self) -> SentenceEncoder:
        return shared_encoder(self.config["model_dir"])

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return self._resource
        texts = [as_transcribed(e.get(TEXT)) for e in examples]
        labels = [e.get(INTENT) for e in examples]
        vectors = EmbeddingCache(Path(self.config["cache_file"])).embed(self.encoder, texts)
        model = LogisticRegression(
            C=self.config["C"], max_iter=self.config["max_iter"], class_weight="balanced", random_state=42
        )
        model.fit(vectors, labels)
        self.classes, self.coef, self.intercept = model.classes_, model.coef_, model.intercept_
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(model_dir / "classifier.npz", classes=self.classes, coef=self.coef, intercept=self.intercept)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "EmbeddingIntentClassifier":
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as model_dir:
                with np.load(model_dir / "classifier.npz") as stored:
                    component.classes = stored["classes"]
                    component.coef = stored["coef"]
                    component.intercept = stored["intercept"]
        except ValueError:
            logger.warning("EmbeddingIntentClassifier has no trained weights; it will predict no intent.")
        return component

    def probabilities(self, texts: List[str]) -> np.ndarray:
        logits = self.encoder.encode([as_transcribed(t) for t in texts]) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)

    def turn_probabilities(self, text: str) -> np.ndarray:
        """The whole turn's intent probabilities, or those of its surest request sentence
        when that is sure, and about as sure as the whole turn's guess or more; for an
        unsure turn without a request, those of its surest sentence."""
        parts = sentences(text)
        probs = self.probabilities([text, *parts])
        framing = set(self.config["framing_intents"])

        def request_confidence(p: np.ndarray) -> float:
            top = int(np.argmax(p))
            return float(p[top]) if str(self.classes[top]) not in framing else 0.0

        if not parts:
            return probs[0]
        threshold, whole = self.config["sentence_request_confidence"], float(probs[0].max())
        # A reason is not a request: "...will I get my money back? Because I already paid.",
        # "...change where it's going instead? That's the only reason I wanted to cancel."
        candidates = [i for i, part in enumerate(parts, 1) if not REASON_START.match(part)]
        best = max(candidates or [0], key=lambda i: request_confidence(probs[i]))
        sure = request_confidence(probs[best])
        if sure >= threshold and sure >= whole - self.config["sentence_margin"]:
            return probs[best]
        # No sentence asks for anything and the whole is unsure: its surest sentence says it
        # ("Okay. Hmm. I guess so, yeah. Do it." is a yes).
        surest = max(candidates or [0], key=lambda i: float(probs[i].max()))
        if whole < threshold and not any(request_confidence(probs[i]) for i in candidates) and float(probs[surest].max()) >= threshold:
            return probs[surest]
        return probs[0]

    def process(self, messages: List[Message]) -> List[Message]:
        if self.coef is None:
            return messages
        for message in messages:
            if not message.get(TEXT):
                continue
            probs = self.turn_probabilities(message.get(TEXT))
            order = np.argsort(-probs)
            ranking = [
                {"name": str(self.classes[i]), "confidence": float(probs[i])}
                for i in order[: self.config["ranking_length"]]
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
