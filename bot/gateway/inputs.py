"""What a customer's message means to the bot: typed text, or a button the bot offered.

Rasa reads text starting with "/" as an intent with entities (`/restart`, `/inform{...}`), so a
customer could steer the bot by typing its syntax. Only the payload of a button the bot offered
in this conversation goes to Rasa as such; other text loses its leading slashes and spaces. A
`label` (the title a widget shows for a pressed button) is accepted only with the payload of a
button of the bot's latest turn, so the transcript shows what was really pressed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from bot.errors import bad_request
from bot.gateway.models import Conversation, Message

Buttons = list[dict[str, str]]
_LEADING = re.compile(r"^[\s/]+")  # Rasa strips whitespace, then reads a leading "/" as intent syntax


@dataclass(frozen=True)
class CustomerInput:
    """`for_bot` is sent to Rasa; `shown` is what the transcript and the agents see."""

    for_bot: str
    shown: str


def read_input(
    text: str, label: str | None, offered: Callable[[], Buttons], latest: Callable[[], Buttons]
) -> CustomerInput:
    """Checks a message against the buttons offered (`latest`: in the bot's last turn); a foreign label is a 400.

    The buttons are looked up only when they matter: for a label, or for text Rasa would read as syntax.
    """
    if label is not None:
        if not any(b["payload"] == text and b["title"] == label for b in latest()):
            raise bad_request("label", "label is accepted only with a button the bot offered in its latest message.")
        return CustomerInput(text, label)
    if not text.lstrip().startswith("/"):
        return CustomerInput(text, text)
    if any(b["payload"] == text for b in offered()):
        return CustomerInput(text, text)
    return CustomerInput(neutralise(text), text)


def neutralise(text: str) -> str:
    """Typed text as Rasa must read it: never as `/intent{entities}` syntax."""
    if not text.lstrip().startswith("/"):
        return text
    return _LEADING.sub("", text) or "?"


# Built once: read for every message typed, and building a statement costs more than running it.
_LAST_CUSTOMER_SEQ = select(func.max(Message.seq)).where(
    Message.conversation_id == bindparam("conv_id"), Message.author == "customer"
)
_OFFERED = (
    select(Message.buttons_json)
    .where(
        Message.conversation_id == bindparam("conv_id"),
        Message.author == "bot",
        Message.seq > bindparam("since"),
        Message.buttons_json.is_not(None),
    )
    .order_by(Message.seq.desc())
)


def offered_buttons(s: Session, conv: Conversation, latest: bool = False) -> list[dict[str, str]]:
    """The buttons the bot offered in the conversation, newest first; `latest`: since the customer last wrote."""
    since = (s.scalar(_LAST_CUSTOMER_SEQ, {"conv_id": conv.id}) or 0) if latest else 0
    rows = s.scalars(_OFFERED, {"conv_id": conv.id, "since": since})
    return [b for raw in rows for b in json.loads(raw)]
