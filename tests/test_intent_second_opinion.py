"""The intent classifier asks all-mpnet-base-v2 only about texts MiniLM is unsure of, and combines the two.

Run in the Rasa venv on the real encoders, with small linear models fitted on a few
phrasings (what is under test is when the second opinion is asked and how it counts).
"""

from __future__ import annotations

import pytest

from tests.rasa_venv import ROOT, requires_rasa_venv, run_in_rasa
from voicebot.runtime.models import prepare_mpnet
from voicebot.settings import Settings

pytestmark = requires_rasa_venv
ENCODER_PATH = {"PYTHONPATH": str(ROOT)}  # the encoder is in knowledge/

SCRIPT = """
import json, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from components.embedding_intent_classifier import EmbeddingIntentClassifier, geometric_mean, softmax

TRAINING = {
    "cancel_order": ["cancel my order", "i want to cancel an order", "please cancel it"],
    "track_order": ["where is my order", "track my parcel", "has my order shipped"],
    "get_refund": ["i want my money back", "refund me please", "can i get a refund"],
}
texts = [t for examples in TRAINING.values() for t in examples]
labels = [intent for intent, examples in TRAINING.items() for _ in examples]
folder, below = sys.argv[1], float(sys.argv[2])
component = EmbeddingIntentClassifier({"second_model": folder, "second_opinion_below": below}, None, None)
first = LogisticRegression(C=30.0, max_iter=2000).fit(component.encoder.encode(texts), labels)
second = LogisticRegression(C=30.0, max_iter=2000).fit(component.second_encoder.encode(texts), labels)
component.classes, component.coef, component.intercept = first.classes_, first.coef_, first.intercept_
component.second_coef, component.second_intercept = second.coef_, second.intercept_
asked = []
encode = component.second_encoder.encode
component.second_encoder.encode = lambda batch: asked.append(list(batch)) or encode(batch)
probe = ["where is my parcel", "hmm the thing i bought"]
got = component.probabilities(probe)
mini = softmax(component.encoder.encode(probe) @ first.coef_.T + first.intercept_)
mp = softmax(encode(probe) @ second.coef_.T + second.intercept_)
print("RESULT " + json.dumps({
    "asked": asked,
    "first_rows": [bool(np.allclose(g, m, atol=1e-6)) for g, m in zip(got, mini)],
    "combined_rows": [bool(np.allclose(g, c, atol=1e-6)) for g, c in zip(got, geometric_mean(mini, mp))],
    "first_tops": mini.max(axis=1).tolist(),
    "sums": got.sum(axis=1).tolist(),
}))
"""


@pytest.fixture(scope="module")
def mpnet_folder() -> str:
    return str(prepare_mpnet(Settings(), echo=lambda _line: None))


def test_a_sure_first_model_answers_alone(mpnet_folder) -> None:
    result = run_in_rasa(SCRIPT, mpnet_folder, "0.0", env=ENCODER_PATH)
    assert result["asked"] == [] and all(result["first_rows"])


def test_unsure_texts_get_both_opinions_combined(mpnet_folder) -> None:
    result = run_in_rasa(SCRIPT, mpnet_folder, "1.01", env=ENCODER_PATH)
    assert result["asked"] == [["where is my parcel", "hmm the thing i bought"]]  # the turn and its parts at once
    assert all(result["combined_rows"]) and not any(result["first_rows"])
    assert all(abs(total - 1.0) < 1e-6 for total in result["sums"])


def test_only_the_texts_the_first_model_is_unsure_of_go_to_the_second(mpnet_folder) -> None:
    sure, unsure = run_in_rasa(SCRIPT, mpnet_folder, "1.01", env=ENCODER_PATH)["first_tops"]
    assert sure > unsure  # a training phrasing, and words that name no intent
    result = run_in_rasa(SCRIPT, mpnet_folder, str((sure + unsure) / 2), env=ENCODER_PATH)
    assert result["asked"] == [["hmm the thing i bought"]]
    assert result["first_rows"] == [True, False] and result["combined_rows"] == [False, True]


def test_a_relative_model_name_without_the_models_folder_is_a_clear_error() -> None:
    script = "from components.embedding_intent_classifier import model_folder\nmodel_folder('all-mpnet-base-v2')"
    with pytest.raises(AssertionError, match="VOICEBOT_MODELS_DIR is not set"):
        run_in_rasa(script, env={**ENCODER_PATH, "VOICEBOT_MODELS_DIR": ""})
