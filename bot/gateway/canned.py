"""Canned replies: texts agents insert by shortcut, in English and Chinese, with placeholders filled from
the conversation (`{order_number}`, `{customer_name}`, `{agent_name}`).

A placeholder with no value is left out and the text tidied around it, so "Hello {customer_name}," reads
"Hello," when the customer's name is not known. Only these three are filled; other braces stay as typed.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.gateway.models import CannedReply
from bot.language import base, written_for

PLACEHOLDER = re.compile(r"\{(order_number|customer_name|agent_name)\}")
DEFAULTS: dict[str, dict[str, str]] = {
    "hello": {
        "en": "Hello {customer_name}, this is {agent_name}. I'm reading your conversation now.",
        "zh": "{customer_name}您好，我是客服{agent_name}，正在查看您的对话。",
    },
    "checking": {
        "en": "I'm checking your order {order_number} right now; one moment please.",
        "zh": "我正在为您查询订单{order_number}，请稍等。",
    },
    "wait": {
        "en": "Thank you for waiting, {customer_name}. I need a few more minutes to sort this out.",
        "zh": "{customer_name}，感谢您的耐心等待，我还需要几分钟处理。",
    },
    "anything-else": {
        "en": "Is there anything else I can help you with?",
        "zh": "请问还有其他可以帮您的吗？",
    },
}


def seed(sessions: sessionmaker) -> None:
    """Adds the default replies once, to a database that has none (another instance may be doing the same)."""
    try:
        with sessions.begin() as s:
            if s.scalars(select(CannedReply.id).limit(1)).first() is not None:
                return
            for shortcut, texts in DEFAULTS.items():
                for language, text in texts.items():
                    s.add(CannedReply(shortcut=shortcut, language=language, text=text))
    except IntegrityError:
        return


def fill(text: str, values: dict[str, str | None]) -> str:
    """The text with its placeholders filled; one without a value is dropped and the spacing tidied."""
    filled = PLACEHOLDER.sub(lambda m: values.get(m[1]) or "", text)
    filled = re.sub(r"[ \t]+([,.!?;:，。！？；：])", r"\1", filled)
    filled = re.sub(r"^[,，]\s*|(?<=[，。])\s*[,，]", "", filled)
    filled = re.sub(r"[,，]\s*([.!?。！？])", r"\1", filled)
    return re.sub(r"[ \t]{2,}", " ", filled).strip()


def replies(sessions: sessionmaker, language: str, values: dict[str, str | None]) -> list[dict[str, str]]:
    """Every canned reply in the conversation's language (traditional Chinese converted), filled."""
    with sessions() as s:
        rows = s.scalars(
            select(CannedReply).where(CannedReply.language == base(language)).order_by(CannedReply.shortcut)
        ).all()
    return [{"shortcut": r.shortcut, "text": written_for(language, fill(r.text, values))} for r in rows]
