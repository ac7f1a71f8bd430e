"""The one place that opens conversations, changes their status, records why, and appends to transcripts.

Every move is in `MOVES`, with what Rasa must then be told (`BotSync`), so the bot's paused flag
follows the conversation's status from here only; every history row is made by `_record`.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from bot.errors import ApiError, conflict, not_found
from bot.gateway.models import Agent, Conversation, Message, Status, StatusChange
from bot.language import written_for

BOT, QUEUED, ASSIGNED, RESOLVED = Status.BOT, Status.QUEUED, Status.ASSIGNED, Status.RESOLVED


class BotSync(str, enum.Enum):
    """What Rasa must be told after a move, so that it speaks exactly while the conversation is with the bot."""

    PAUSE = "pause"  # a person takes over: the bot stays silent
    RESUME = "resume"  # a resolved conversation is back with the bot
    HAND_BACK = "hand_back"  # an agent gives it back: resume, end open forms, tell the bot what was done


# (from, to): the move's name, and what Rasa must then be told.
MOVES: dict[tuple[Status | None, Status], tuple[str, BotSync | None]] = {
    (None, BOT): ("open", None),
    (BOT, QUEUED): ("escalate", BotSync.PAUSE),
    (RESOLVED, QUEUED): ("escalate", BotSync.PAUSE),
    (QUEUED, ASSIGNED): ("claim", None),
    (ASSIGNED, RESOLVED): ("resolve", None),
    (ASSIGNED, ASSIGNED): ("transfer", None),  # to another agent, or a supervisor reassigns
    (ASSIGNED, QUEUED): ("transfer", None),  # to whoever has a skill; the bot stays paused
    (ASSIGNED, BOT): ("hand back", BotSync.HAND_BACK),
    (RESOLVED, BOT): ("reopen", BotSync.RESUME),
}


def bot_sync(before: Status, after: Status) -> BotSync | None:
    """What Rasa must be told when a conversation went from `before` to `after` (nothing if it stayed)."""
    return None if before == after else MOVES.get((before, after), ("", None))[1]


def _record(
    session: Session, conv_id: str, before: Status | None, after: Status, actor: str, reason: str, now: datetime
) -> StatusChange:
    if (before, after) not in MOVES:
        was = before.value if before else "new"
        raise conflict("invalid_transition", f"A conversation that is {was} cannot become {after.value}.")
    change = StatusChange(
        conversation_id=conv_id, from_status=before, to_status=after, actor=actor, reason=reason[:200], at=now
    )
    session.add(change)
    return change


def open_conversation(session: Session, conv: Conversation, actor: str, now: datetime) -> StatusChange:
    """Adds a new conversation, with the bot, and the first row of its history."""
    conv.status, conv.created_at = BOT, now
    session.add(conv)
    return _record(session, conv.id, None, BOT, actor, "conversation opened", now)


# Built once: a conversation is loaded three times a message, and building the statement cost more than running it.
_LOAD = select(Conversation).where(Conversation.id == bindparam("conversation_id"))
_LOAD_LOCKED = _LOAD.with_for_update()


def load(session: Session, conversation_id: str, lock: bool = False) -> Conversation:
    """The conversation, locked for update when asked (PostgreSQL; SQLite serialises writers anyway)."""
    conv = session.scalars(_LOAD_LOCKED if lock else _LOAD, {"conversation_id": conversation_id}).first()
    if conv is None:
        raise not_found("conversation", conversation_id)
    return cast(Conversation, conv)


def transition(
    session: Session,
    conv: Conversation,
    to: Status,
    actor: str,
    reason: str,
    now: datetime,
    **fields: Any,
) -> StatusChange:
    """Moves `conv` to `to` if the state machine allows it, recording time, actor and reason."""
    change = _record(session, conv.id, Status(conv.status), to, actor, reason, now)
    conv.status = to
    for name, value in fields.items():
        setattr(conv, name, value)
    if to == Status.QUEUED:
        conv.waiting_since = now
        conv.assignee_id = None
    elif to == Status.BOT:
        conv.waiting_since = None
        conv.assignee_id = None
    return change


def claim(session: Session, conversation_id: str, agent: Agent, now: datetime) -> Conversation:
    """Assigns a queued conversation to `agent`; a single conditional UPDATE, so one of two claims wins."""
    result = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.status == QUEUED)
        .values(status=ASSIGNED, assignee_id=agent.id)
        .execution_options(synchronize_session=False)
    )
    conv = load(session, conversation_id)
    if result.rowcount != 1:
        session.refresh(conv)
        owner = f" by {conv.assignee.display_name}" if conv.assignee else ""
        raise ApiError(
            409, "not_claimable", f"The conversation is {Status(conv.status).value}{owner}; it cannot be claimed."
        )
    session.refresh(conv)
    _record(session, conv.id, QUEUED, ASSIGNED, f"agent:{agent.username}", "claimed", now)
    return conv


def append(
    session: Session,
    conv: Conversation,
    author: str,
    text: str,
    now: datetime,
    *,
    agent_id: int | None = None,
    buttons: list[dict[str, str]] | None = None,
) -> Message:
    """Adds a message with the next sequence number of the conversation."""
    conv.last_seq += 1
    message = Message(
        conversation_id=conv.id,
        seq=conv.last_seq,
        author=author,
        agent_id=agent_id,
        text=text,
        buttons_json=json.dumps(buttons) if buttons else None,
        created_at=now,
    )
    session.add(message)
    return message


def append_bot(
    session: Session, conv: Conversation, messages: list[dict[str, Any]], now: datetime, language: str
) -> list[Message]:
    """The bot's messages, written for a reader of `language` (traditional Chinese converted here)."""
    return [
        append(
            session, conv, "bot", written_for(language, m["text"]), now,
            buttons=[{**b, "title": written_for(language, b["title"])} for b in m["buttons"]] or None,
        )
        for m in messages
    ]  # fmt: skip
