"""Rasa component: the FallbackClassifier, but two intents that serve the same need are not a doubt.

"where's 80000005" is "order status", "track a parcel" or an order number given (`inform`, which
outside a form starts a lookup) at 0.45 and 0.39: Rasa's classifier calls that ambiguous and below its
threshold, and the customer is told "not understood", though each reading serves them (a lookup, and
both answers carry the parcel's state and any delivery problem). When the top two intents
are in one group of `interchangeable`, their confidences count together, the top one is kept, and the
ambiguity is measured against the next intent outside the group. An intent of `unreadable` (text with
no words in it: keyboard mashes) is always a fallback, however sure the model is: otherwise the nearest
intent of random letters can be anger, and a customer who mistyped is handed to a person. Everything else
is Rasa's behaviour.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import (
    AMBIGUITY_THRESHOLD_KEY,
    THRESHOLD_KEY,
    FallbackClassifier,
)
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class GroupedFallbackClassifier(FallbackClassifier):
    """Falls back as Rasa's FallbackClassifier does, with interchangeable intents read as one."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**FallbackClassifier.get_default_config(), "interchangeable": [], "unreadable": []}

    def _group(self, intent: str) -> frozenset[str]:
        for group in self.component_config.get("interchangeable") or []:
            if intent in group:
                return frozenset(group)
        return frozenset()

    def _should_fallback(self, message: Message) -> bool:
        ranking: list[dict[str, Any]] = message.data.get("intent_ranking") or []
        if ranking and ranking[0]["name"] in (self.component_config.get("unreadable") or []):
            return True
        group = self._group(ranking[0]["name"]) if ranking else frozenset()
        if len(ranking) < 2 or ranking[1]["name"] not in group:
            return bool(super()._should_fallback(message))
        together = sum(r["confidence"] for r in ranking if r["name"] in group)
        outside = next((r["confidence"] for r in ranking if r["name"] not in group), 0.0)
        config = self.component_config
        return bool(together < config[THRESHOLD_KEY] or together - outside < config[AMBIGUITY_THRESHOLD_KEY])
