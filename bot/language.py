"""Which language a customer writes (English, simplified or traditional Chinese), and script conversion.

Shared by the gateway (it decides each conversation's language per message), the NLU tokenizer
(traditional text is read as simplified) and the actions (they write in the conversation's language).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import zhconv

Language = Literal["en", "zh", "zh-Hant"]
LANGUAGES: tuple[Language, ...] = ("en", "zh", "zh-Hant")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_NOT_WORDS = re.compile(r"\S*[@/:.]\S*|\d+")  # emails, links, numbers: no language of their own
_LATIN = re.compile(r"[A-Za-z]+")


def detect(text: str) -> Language | None:
    """The language `text` is written in, or None when it does not say (digits, an email, 'ok').

    Any Chinese character makes the message Chinese: customers mix English words into Chinese
    ('我的order还没到'), rarely the other way round. English needs at least four letters of words.
    """
    if _HAN.search(text):
        return "zh-Hant" if is_traditional(text) else "zh"
    letters = sum(len(w) for w in _LATIN.findall(_NOT_WORDS.sub(" ", text)))
    return "en" if letters >= 4 else None


def follow(current: str, text: str) -> str:
    """The conversation's language after the customer wrote `text`: what the text says, else `current`.

    Chinese written the same in both scripts ('你好') keeps a traditional-reading customer's script.
    """
    found = detect(text)
    if found is None:
        return current
    if found == "zh" and current == "zh-Hant" and not _has_simplified(text):
        return current
    return found


def _has_simplified(text: str) -> bool:
    han = "".join(_HAN.findall(text))
    return any(a != b for a, b in zip(han, _chars("zh-hant", han), strict=False))


def from_locale(tag: str | None) -> Language:
    """A browser's or an app's locale tag ('zh-CN', 'zh-Hant-TW', 'en-GB') as a conversation language."""
    lowered = (tag or "").lower()
    if not lowered.startswith("zh"):
        return "en"
    return "zh-Hant" if any(mark in lowered for mark in ("hant", "tw", "hk", "mo")) else "zh"


def base(language: str | None) -> Literal["en", "zh"]:
    """The bot's language for a conversation language: the bot writes simplified, channels convert."""
    return "zh" if language and language.startswith("zh") else "en"


def is_traditional(text: str) -> bool:
    """Whether the Chinese in `text` is written in traditional characters (more of them than simplified)."""
    han = "".join(_HAN.findall(text))
    as_simplified = _chars("zh-hans", han)
    as_traditional = _chars("zh-hant", han)
    traditional = sum(a != b for a, b in zip(han, as_simplified, strict=False))
    simplified = sum(a != b for a, b in zip(han, as_traditional, strict=False))
    return traditional > simplified


def to_traditional(text: str) -> str:
    """Simplified Chinese as traditional (Taiwan and Hong Kong readers); other text is left as is."""
    return str(zhconv.convert(text, "zh-hant")) if _HAN.search(text) else text


def written_for(language: str | None, text: str) -> str:
    """`text` (English or simplified Chinese) as a reader of `language` sees it: traditional for zh-Hant."""
    return to_traditional(text) if language == "zh-Hant" else text


def to_simplified_chars(text: str) -> str:
    """Traditional characters as simplified, one character for one, so offsets into `text` still hold."""
    if not _HAN.search(text):
        return text
    return "".join(_char("zh-hans", c) if _HAN.match(c) else c for c in text)


def _chars(locale: str, han: str) -> str:
    return "".join(_char(locale, c) for c in han)


@lru_cache(maxsize=65536)
def _char(locale: str, char: str) -> str:
    converted = str(zhconv.convert(char, locale))
    return converted if len(converted) == 1 else char
