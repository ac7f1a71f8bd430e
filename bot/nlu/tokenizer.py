"""Rasa component: one tokenizer for English and Chinese (simplified, traditional, and mixed text).

Rasa 3.6's WhitespaceTokenizer drops every token made of CJK ideographs (its emoji range covers
them) and its JiebaTokenizer refuses any language but `zh`. This one splits a message into runs of
Chinese characters, cut into words by jieba, and everything else, split by the WhitespaceTokenizer's
own rules, so English tokens are exactly what they were. Traditional characters are read as
simplified, one for one, so both scripts share one vocabulary.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import jieba
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.language import to_simplified_chars

_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")
# Words of after-sales service that jieba's general dictionary would cut in two.
SERVICE_WORDS = (
    "七天无理由",
    "无理由退货",
    "退货退款",
    "仅退款",
    "人工客服",
    "转人工",
    "客服人员",
    "订单号",
    "快递单号",
    "物流信息",
    "到账",
    "签收",
    "差评",
    "工单",
    "盗号",
    "被盗",
)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class BilingualTokenizer(WhitespaceTokenizer):
    """Whitespace rules for English and other scripts, jieba for runs of Chinese characters."""

    @staticmethod
    def not_supported_languages() -> list[str] | None:
        """Any `language:` of the config: the tokenizer reads English and Chinese alike."""
        return None

    @staticmethod
    def required_packages() -> list[str]:
        """Packages the component imports."""
        return ["jieba", "zhconv"]

    def __init__(self, config: dict[str, Any]) -> None:
        """Load jieba's dictionary now, so the first customer's message does not wait for it."""
        super().__init__(config)
        jieba.setLogLevel(logging.WARNING)
        self.jieba = jieba.Tokenizer()
        self.jieba.initialize()
        for word in SERVICE_WORDS:
            self.jieba.add_word(word)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BilingualTokenizer:
        """A new tokenizer (it has nothing to train)."""
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokens of the text in order, with offsets into the original text."""
        original = message.get(attribute)
        text = to_simplified_chars(original)
        if not _HAN_RUN.search(text):
            return list(super().tokenize(message, attribute))
        words: list[str] = []
        position = 0
        for run in _HAN_RUN.finditer(text):
            words += self._other_words(text[position : run.start()])
            words += [w for w in self.jieba.cut(run.group(0), HMM=True) if w.strip()]
            position = run.end()
        words += self._other_words(text[position:])
        tokens = self._convert_words_to_tokens(words or [text], text)
        return list(self._apply_token_pattern(tokens))

    def _other_words(self, segment: str) -> list[str]:
        """The WhitespaceTokenizer's words of a stretch without Chinese characters (none for punctuation)."""
        if not segment.strip():
            return []
        words = [t.text for t in super().tokenize(Message(data={"text": segment}), "text")]
        return words if words != [segment] or any(c.isalnum() for c in segment) else []
