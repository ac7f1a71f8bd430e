"""What the bot sends on Telegram: texts cut to 4,096 characters, buttons within 64 bytes of callback data."""

from __future__ import annotations

import hashlib

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_TEXT = 4096
CALLBACK_LIMIT = 64  # bytes Telegram allows in callback_data
RATINGS = {f"/rate {n}" for n in range(1, 6)}
# The commands' menu, in each language Telegram shows it in (the default first).
COMMANDS: dict[str | None, list[tuple[str, str]]] = {
    None: [
        ("start", "Talk to the shop's assistant"),
        ("human", "Talk to a person"),
        ("restart", "Start a new conversation"),
        ("forget", "Unlink this Telegram account from your orders"),
    ],
    "zh": [
        ("start", "咨询智能客服"),
        ("human", "转人工客服"),
        ("restart", "开始新的对话"),
        ("forget", "解除此 Telegram 账号与订单的绑定"),
    ],
}


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cuts a long reply into Telegram-sized parts, at line breaks or spaces where possible."""
    parts = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    return [*parts, text] if text else parts


def callback_data(payload: str) -> str:
    """The button's payload, or a short digest of it when the payload is over Telegram's 64 bytes.

    A pressed digest is matched against the buttons the bot offered in the conversation (stored
    with its messages), so it survives restarts and needs no table of its own.
    """
    if len(payload.encode()) <= CALLBACK_LIMIT:
        return payload
    return "#" + hashlib.sha256(payload.encode()).hexdigest()[:32]


def keyboard(buttons: list[dict[str, str]]) -> InlineKeyboardMarkup:
    """The bot's buttons as an inline keyboard, one a row."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["title"], callback_data=callback_data(b["payload"]))] for b in buttons]
    )


def rating_keyboard() -> InlineKeyboardMarkup:
    """1 to 5 stars in one row; a press comes back as `/rate n`."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"{n} ★", callback_data=f"/rate {n}") for n in range(1, 6)]])
