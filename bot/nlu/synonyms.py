"""Rasa component: entity synonyms that also hold for text in traditional characters.

Rasa's EntitySynonymMapper looks up the extracted text as it was written, so "七天無理由" misses the
synonym "七天无理由" → no_reason that the training data defines. This one looks up the text, then its
simplified form, so one synonym serves both scripts.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.entity_synonyms import EntitySynonymMapper

from bot.language import to_simplified_chars


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class BilingualSynonymMapper(EntitySynonymMapper):
    """EntitySynonymMapper that also tries the simplified form of a traditional-character value."""

    def replace_synonyms(self, entities: list[dict[str, Any]]) -> None:
        """Maps each entity's value to its synonym, as written or in simplified characters."""
        for entity in entities:
            value = str(entity["value"]).lower()
            simplified = to_simplified_chars(value)
            if value not in self.synonyms and simplified in self.synonyms:
                entity["value"] = simplified
        super().replace_synonyms(entities)
