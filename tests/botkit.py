"""Helpers to run custom actions as the action server would: a tracker, a dispatcher, the domain."""

from __future__ import annotations

from functools import cache
from typing import Any

from rasa.shared.core.domain import Domain
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

_STANDARD_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
SLOT_DEFAULTS: dict[str, Any] = {"verify_attempts": 0.0, "verification_locked": False}


@cache
def domain() -> dict[str, Any]:
    return dict(Domain.load("domain.yml").as_dict())


def make_tracker(
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "inform",
    *,
    history: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    ranking: list[dict[str, Any]] | None = None,
    entities: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    sender: str = "conv-1",
) -> Tracker:
    """A tracker whose latest user message is `text` classified as `intent`."""
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
    }
    user = {"event": "user", "text": text, "parse_data": parse, "metadata": metadata or {}}
    return Tracker(
        sender,
        {**SLOT_DEFAULTS, **(slots or {})},
        parse,
        [*(history or []), user],
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def user_turn(intent: str, text: str = "") -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "metadata": {}}


def said(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """The dispatcher's messages without empty fields: response name or text, variables, buttons."""
    out = []
    for m in dispatcher.messages:
        item: dict[str, Any] = {k: v for k, v in m.items() if k not in _STANDARD_KEYS}
        for key in ("response", "text", "custom", "buttons"):
            if m.get(key):
                item[key] = m[key]
        out.append(item)
    return out


async def run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Runs the action; returns (what it said, the events it returned)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain())
    return said(dispatcher), events
