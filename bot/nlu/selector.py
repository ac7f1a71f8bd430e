"""Rasa component: the ResponseSelector, run only on messages whose intent is a retrieval intent.

Rasa's ResponseSelector picks an answer for `faq/…` and `other/…` on every message, though only those
intents' actions (`utter_faq`, `utter_other`) ever read it: a second neural network's inference spent
on each order lookup, about a tenth of the Rasa process's CPU per message under load. Here it runs
only where its answer can be used; what it selects there is unchanged.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RetrievalResponseSelector(ResponseSelector):
    """Selects a response only for messages classified as one of the retrieval intents it was trained on."""

    def process(self, messages: list[Message]) -> list[Message]:
        retrieval = set(self.all_retrieval_intents)
        wanted = [m for m in messages if (m.get(INTENT) or {}).get(INTENT_NAME_KEY) in retrieval]
        if wanted:
            super().process(wanted)  # sets the selection on each message it is given
        return messages
