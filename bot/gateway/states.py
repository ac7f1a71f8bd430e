"""The one place that changes a conversation's status, records why, and appends to its transcript."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.errors import ApiError, conflict, not_found
from bot.gateway.models import Agent, Conversation, Message, Status, StatusChange

BOT, QUEUED, ASSIGNED, RESOLVED = (s.value for s in Status)
# (from, to): what the move is called, for error messages.
ALLOWED = {
    (BOT, QUEUED): "escalate",
    (QUEUED, ASSIGNED): "claim",
    (ASSIGNED, RESOLVED): "resolve",
    (ASSIGNED, BOT): "hand back",
    (RESOLVED, BOT): "reopen",
    (RESOLVED, QUEUED): "escalate",
}


def load(session: Session, conversation_id: str, lock: bool = False) -> Conversation:
    """The conversation, locked for update when asked (PostgreSQL; SQLite serialises writers anyway)."""
    stmt = select(Conversation).where(Conversation.id == conversation_id)
    if lock:
        stmt = stmt.with_for_update()
    conv = session.scalars(stmt).first()
    if conv is None:
        raise not_found("conversation", conversation_id)
    return conv


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
    if (conv.status, to.value) not in ALLOWED:
        raise conflict("invalid_transition", f"A conversation that is {conv.status} cannot become {to.value}.")
    change = StatusChange(
        conversation_id=conv.id, from_status=conv.status, to_status=to.value, actor=actor, reason=reason[:200], at=now
    )
    session.add(change)
    conv.status = to.value
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
        raise ApiError(409, "not_claimable", f"The conversation is {conv.status}{owner}; it cannot be claimed.")
    session.refresh(conv)
    session.add(
        StatusChange(
            conversation_id=conv.id,
            from_status=QUEUED,
            to_status=ASSIGNED,
            actor=f"agent:{agent.username}",
            reason="claimed",
            at=now,
        )
    )
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
