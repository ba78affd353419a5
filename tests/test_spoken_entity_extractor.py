"""The Rasa component, run inside the Rasa venv (Python 3.10, rasa 3.6) through a subprocess.

The engine venv has no Rasa, so the component is exercised where it really runs:
`components.spoken_entity_extractor.SpokenEntityExtractor`, with nlu/ as the
working directory, processing real `rasa.shared.nlu.training_data.message.Message`s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.rasa_venv import requires_rasa_venv, run_in_rasa

pytestmark = requires_rasa_venv

# Prints, per input text, the entities the component leaves on the message, as one JSON line.
SCRIPT = """
import json, sys
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from components.spoken_entity_extractor import SpokenEntityExtractor

extractor = SpokenEntityExtractor.create({}, None, None, None)
messages = [Message(data={"text": text}) for text in json.loads(sys.argv[1])]
messages[0].set("entities", [{"entity": "product", "value": "mug", "start": 0, "end": 3}])
processed = extractor.process(messages)
training_data = TrainingData()
registered = DefaultV1Recipe._from_registry("components.spoken_entity_extractor.SpokenEntityExtractor")
print("RESULT " + json.dumps({
    "entities": [message.get("entities") for message in processed],
    "same_messages": processed is messages,
    "training_data_untouched": extractor.process_training_data(training_data) is training_data,
    "registered_as": [sorted(t.name for t in registered.types), registered.is_trainable],
}))
"""

TEXTS = [
    "mug, order number one oh four, um, two three three",
    "my phone is 555-123-4567 and my zip is six two seven oh four",
    "I have two items",
]


@pytest.fixture(scope="module")
def result() -> dict:
    return run_in_rasa(SCRIPT, json.dumps(TEXTS))


def test_adds_canonical_entities_after_existing_ones(result: dict) -> None:
    text = TEXTS[0]
    existing, order = result["entities"][0]
    assert existing == {"entity": "product", "value": "mug", "start": 0, "end": 3}
    assert order == {
        "entity": "order_number",
        "value": "104233",
        "start": text.index("one"),
        "end": len(text),
        "text": "one oh four, um, two three three",
        "confidence_entity": 1.0,
        "extractor": "SpokenEntityExtractor",
    }


def test_types_each_number_by_its_context(result: dict) -> None:
    found = [(e["entity"], e["value"]) for e in result["entities"][1]]
    assert found == [
        ("phone_number", "5551234567"),
        ("postcode", "62704"),
    ]


def test_leaves_messages_without_identifiers_alone(result: dict) -> None:
    assert result["entities"][2] == []


def test_graph_component_contract(result: dict) -> None:
    assert result["same_messages"] is True
    assert result["training_data_untouched"] is True
    assert result["registered_as"] == [["ENTITY_EXTRACTOR"], False]


TRAIN_AND_PARSE = """
import asyncio, json, pathlib, sys
from rasa.core.agent import Agent
from rasa.model_training import train_nlu

work = pathlib.Path(sys.argv[1])
(work / "config.yml").write_text(
    "recipe: default.v1\\nlanguage: en\\nassistant_id: spoken-entities-test\\npipeline:\\n"
    "  - name: WhitespaceTokenizer\\n  - name: KeywordIntentClassifier\\n"
    "  - name: components.spoken_entity_extractor.SpokenEntityExtractor\\n"
)
(work / "nlu.yml").write_text(
    'version: "3.1"\\nnlu:\\n- intent: give_order_number\\n  examples: |\\n    - my order number is 104233\\n'
    "- intent: greet\\n  examples: |\\n    - hello\\n"
)
model = train_nlu(str(work / "config.yml"), str(work / "nlu.yml"), output=str(work / "models"))
parsed = asyncio.run(Agent.load(model).parse_message(sys.argv[2]))
print("RESULT " + json.dumps(parsed["entities"]))
"""


@pytest.mark.integration
def test_trains_and_parses_inside_a_rasa_pipeline(tmp_path: Path) -> None:
    entities = run_in_rasa(
        TRAIN_AND_PARSE, str(tmp_path), "it's twelve thirty four fifty six, due tomorrow",
        env={"RASA_CACHE_DIRECTORY": str(tmp_path / "cache"), "RASA_TELEMETRY_ENABLED": "false"}, timeout=600,
    )
    assert [(e["entity"], e["extractor"]) for e in entities] == [
        ("order_number", "SpokenEntityExtractor"),
        ("date", "SpokenEntityExtractor"),
    ]
    assert entities[0]["value"] == "123456"
