"""The platform's two languages: which one a request prefers (Accept-Language), and texts in both.

English is the default: a missing, unknown or malformed header gets English, never an error. Every
Chinese tag (zh, zh-CN, zh-TW, zh-Hant-HK...) gets simplified Chinese, the only Chinese the
platform stores (as a mainland platform would); the bot's channels convert it for readers of
traditional characters. Codes, numbers and dates are the same in both languages: only texts differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Lang = Literal["en", "zh"]
CONTENT_LANGUAGE: dict[Lang, str] = {"en": "en", "zh": "zh-CN"}
MAX_RANGES = 32  # a longer header is read up to here: nobody ranks 32 languages

_TAG = re.compile(r"[a-z]{1,8}(?:[-_][a-z0-9]{1,8})*|\*")
_QUALITY = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
_DIGITS = "零一二三四五六七八九"


def preferred(header: str | None) -> Lang:
    """The language to answer in: of those we speak, the one the header ranks highest (q, then order)."""
    best: Lang = "en"
    best_q = 0.0
    for part in (header or "").split(",")[:MAX_RANGES]:
        tag, *params = part.split(";")
        lang = _supported(tag.strip().lower())
        q = _quality(params)
        if lang is not None and q is not None and q > best_q:
            best, best_q = lang, q
    return best


def _supported(tag: str) -> Lang | None:
    """Our language for a language range: any zh is Chinese, en and * are English, others None."""
    if not _TAG.fullmatch(tag):
        return None
    primary = re.split(r"[-_]", tag)[0]
    if primary == "zh":
        return "zh"
    return "en" if primary in ("en", "*") else None


def _quality(params: list[str]) -> float | None:
    """A range's q-value (1 when absent), or None when it is malformed (the range is then ignored)."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            return float(value) if _QUALITY.fullmatch(value) else None
    return 1.0


@dataclass(frozen=True)
class Text:
    """One human-readable text in English and in simplified Chinese."""

    en: str
    zh: str

    def pick(self, lang: Lang) -> str:
        return choose(lang, self.en, self.zh)


def choose(lang: Lang, en: str, zh: str | None) -> str:
    """The Chinese text when Chinese is wanted and there is one, else the English."""
    return zh if lang == "zh" and zh else en


def chinese_number(n: int) -> str:
    """0 to 99 in Chinese numerals as policies write them ('七天', '十五天'); larger numbers in digits."""
    if not 0 <= n < 100:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def shown(moment: datetime | date) -> Text:
    """A date as customers read it: '22 Nov 2026', '2026年11月22日'."""
    return Text(f"{moment.day} {moment:%b %Y}", f"{moment.year}年{moment.month}月{moment.day}日")
