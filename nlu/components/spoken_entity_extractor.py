"""Rasa 3.6 entity extractor for order numbers, phone numbers, postcodes, digits and dates.

A trained extractor cannot learn every way a caller reads out "104233" ("one oh
four, um, two three three", "a hundred and four thousand ..."), and its value
would be the raw words anyway. This component adds the canonical values from
`spoken_entities`, deterministically and without training.

Use in config.yml (with nlu/ as the working directory or on PYTHONPATH):

    pipeline:
      - name: components.spoken_entity_extractor.SpokenEntityExtractor
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import ENTITY_ATTRIBUTE_CONFIDENCE_TYPE
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from .spoken_entities import extract_entities


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class SpokenEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds order_number, phone_number, postcode, digits and date entities to messages."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpokenEntityExtractor:
        """Nothing to configure or load: the rules live in `spoken_entities`."""
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Appends the spoken entities to each message's entities."""
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = [{**entity, ENTITY_ATTRIBUTE_CONFIDENCE_TYPE: 1.0} for entity in extract_entities(text)]
            message.set(
                ENTITIES,
                message.get(ENTITIES, []) + self.add_extractor_name(found),
                add_to_output=True,
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leaves training data alone: its entities are the annotated ones."""
        return training_data
