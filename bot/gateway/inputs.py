"""What a customer's message means to the bot: typed text, or a button the bot just offered.

Rasa reads text starting with "/" as an intent with entities (`/restart`, `/inform{...}`), so a
customer could steer the bot by typing its syntax. Only the payload of a button offered in the
bot's latest turn goes to Rasa as such; typed text has its leading slashes removed. A `label`
(the title a widget shows for a pressed button) is accepted only with that button's payload.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import bad_request


@dataclass(frozen=True)
class CustomerInput:
    """`for_bot` is sent to Rasa; `shown` is what the transcript and the agents see."""

    for_bot: str
    shown: str


def read_input(text: str, label: str | None, offered: list[dict[str, str]]) -> CustomerInput:
    """Checks a message against the buttons of the bot's latest turn; a foreign label is a 400."""
    pressed = next((b for b in offered if b["payload"] == text), None)
    if label is not None:
        if pressed is None or pressed["title"] != label:
            raise bad_request("label", "label is accepted only with a button the bot offered in its latest message.")
        return CustomerInput(text, label)
    if pressed is not None:
        return CustomerInput(text, text)
    return CustomerInput(neutralise(text), text)


def neutralise(text: str) -> str:
    """Typed text as Rasa must read it: never as `/intent{entities}` syntax."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    return stripped.lstrip("/").strip() or "?"
