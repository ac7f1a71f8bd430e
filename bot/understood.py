"""What the bot read in the customer message Rasa is handling, handed from the tracker store to the channel.

Rasa keeps the parse of a message inside its processor; the first place of ours that sees it is the
tracker store, when it saves the turn. The gateway channel opens a record for each message it passes
to Rasa (a context variable, so concurrent messages keep their own), the tracker store fills it, and
the channel adds it to the answer as the contract's `understood` signal.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from bot.contract import Understood

_RECORD: ContextVar[dict[str, Understood] | None] = ContextVar("understood", default=None)


def open_record() -> tuple[dict[str, Understood], Any]:
    """A fresh record for the message about to be handled, and the token that closes it."""
    record: dict[str, Understood] = {}
    return record, _RECORD.set(record)


def close_record(token: Any) -> None:
    _RECORD.reset(token)


def note(intent: dict[str, Any] | None) -> None:
    """Records the intent (Rasa's `{"name", "confidence"}`) of a saved turn's latest user message, when a
    channel opened a record for the message being handled."""
    record = _RECORD.get()
    if record is None or not intent:
        return
    understood = Understood.read({"intent": intent.get("name"), "confidence": intent.get("confidence")})
    if understood is not None:
        record["latest"] = understood
