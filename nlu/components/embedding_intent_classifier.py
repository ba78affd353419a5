"""Intent classifier over sentence embeddings: all-MiniLM-L6-v2, with all-mpnet-base-v2 as a second opinion.

Rasa's own DIET classifier learns from word and character counts, which fits its
training phrasings but generalises poorly to new ones (about 0.60 accuracy on
fresh phrasings of the Bitext intents, see shared/FACTS.md). Sentence embeddings
carry meaning across paraphrases, so a linear model on top of them generalises
far better and trains in seconds. The larger MPNet encoder generalises better
still but costs about ten times as much a sentence, so it is asked only when the
MiniLM model is unsure, and the two opinions are combined (geometric mean).
"""

from __future__ import annotations

import logging
import os
import re
from functools import cached_property
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


def softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)


def sentences(text: str) -> List[str]:
    """The turn's sentences, when it has more than one (else none)."""
    parts = [p for p in SENTENCE_END.split(text.strip()) if re.search(r"[a-zA-Z]", p)]
    return parts if len(parts) > 1 else []


def shared_encoder(model_dir: Optional[str]) -> SentenceEncoder:
    """One encoder per process and model: MiniLM's weights are 90 MB, MPNet's 440 MB."""
    key = model_dir or ""
    if key not in _ENCODERS:
        _ENCODERS[key] = SentenceEncoder(Path(model_dir) if model_dir else None)
    return _ENCODERS[key]


def model_folder(name: str) -> str:
    """A model folder named in config.yml: an absolute path, or a folder the engine's
    `voicebot models prepare` built under its models directory (VOICEBOT_MODELS_DIR)."""
    path = Path(name)
    if not path.is_absolute():
        models_dir = os.environ.get("VOICEBOT_MODELS_DIR")
        if not models_dir:
            raise ValueError(f"model {name!r} is relative but VOICEBOT_MODELS_DIR is not set: start Rasa through `voicebot` (train, serve).")
        path = Path(models_dir) / name
    if not (path / "model.safetensors").is_file():
        raise ValueError(f"model folder {path} has no model.safetensors: run `voicebot models prepare`.")
    return str(path)


def geometric_mean(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Two models' class probabilities combined: a class both find likely wins over one only one is sure of."""
    combined = np.sqrt(first * second)
    return combined / combined.sum(axis=1, keepdims=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class EmbeddingIntentClassifier(IntentClassifier, GraphComponent):
    """Logistic regression on sentence embeddings; needs no tokenizer or featurizer."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Folder with a sentence-transformers BERT model; None = the bundled all-MiniLM-L6-v2.
            "model_dir": None,
            # The second opinion's model folder (see `model_folder`); None = no second opinion.
            "second_model": None,
            # The first model's top probability below which the second is asked. 1.01: always.
            "second_opinion_below": 0.9,
            # Inverse regularisation strength of the logistic regression.
            "C": 30.0,
            "max_iter": 2000,
            # How many alternative intents to report in `intent_ranking`.
            "ranking_length": 10,
            # Where embeddings of training sentences are cached between trainings (one file per model).
            "cache_dir": ".rasa",
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
        self.second_coef: Optional[np.ndarray] = None
        self.second_intercept: Optional[np.ndarray] = None

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

    @cached_property
    def second_encoder(self) -> Optional[SentenceEncoder]:
        """Found once (its folder is checked on disk), not on every unsure turn."""
        second = self.config["second_model"]
        return shared_encoder(model_folder(second)) if second else None

    def _fit(self, encoder: SentenceEncoder, texts: List[str], labels: List[str]) -> LogisticRegression:
        cache = EmbeddingCache(Path(self.config["cache_dir"]) / f"embedding_cache-{encoder.model_id}.npz")
        model = LogisticRegression(
            C=self.config["C"], max_iter=self.config["max_iter"], class_weight="balanced", random_state=42
        )
        return model.fit(cache.embed(encoder, texts, prune=True), labels)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return self._resource
        texts = [as_transcribed(e.get(TEXT)) for e in examples]
        labels = [e.get(INTENT) for e in examples]
        model = self._fit(self.encoder, texts, labels)
        self.classes, self.coef, self.intercept = model.classes_, model.coef_, model.intercept_
        if self.second_encoder is not None:
            second = self._fit(self.second_encoder, texts, labels)
            self.second_coef, self.second_intercept = second.coef_, second.intercept_
        self.persist()
        return self._resource

    def persist(self) -> None:
        second = {} if self.second_coef is None else {"second_coef": self.second_coef, "second_intercept": self.second_intercept}
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(model_dir / "classifier.npz", classes=self.classes, coef=self.coef, intercept=self.intercept, **second)

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
                    if "second_coef" in stored and component.config["second_model"]:
                        component.second_coef = stored["second_coef"]
                        component.second_intercept = stored["second_intercept"]
        except ValueError:
            logger.warning("EmbeddingIntentClassifier has no trained weights; it will predict no intent.")
        if component.second_coef is not None:
            component.second_encoder  # load the weights now, not on the first unsure turn; fails if missing
        return component

    def probabilities(self, texts: List[str]) -> np.ndarray:
        """Each text's intent probabilities: MiniLM's, combined with MPNet's for the texts
        MiniLM is unsure of (the texts are one turn and its sentences; MPNet costs a
        turn's latency, so the sure ones are not sent to it)."""
        texts = [as_transcribed(t) for t in texts]
        probs = softmax(self.encoder.encode(texts) @ self.coef.T + self.intercept)
        if self.second_coef is None:
            return probs
        unsure = np.flatnonzero(probs.max(axis=1) < self.config["second_opinion_below"])
        if unsure.size:
            second = softmax(self.second_encoder.encode([texts[i] for i in unsure]) @ self.second_coef.T + self.second_intercept)
            probs[unsure] = geometric_mean(probs[unsure], second)
        return probs

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
