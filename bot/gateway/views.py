"""Read models of the gateway: transcripts, the agents' queue, a conversation's detail and metrics.

Reads only; every change goes through `states.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.contract import Priority
from bot.gateway import presence, routing, states
from bot.gateway.models import Agent, Conversation, Message, Status


def message_view(m: Message) -> dict[str, Any]:
    """One message as the widget, the console and the live events show it."""
    return {
        "seq": m.seq,
        "author": m.author,
        "agent": m.agent.display_name if m.agent else None,
        "text": m.text,
        "buttons": json.loads(m.buttons_json) if m.buttons_json else [],
        "created_at": m.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else round((end - start).total_seconds(), 1)


def queue_key(c: Conversation) -> tuple[int, datetime]:
    """The queue's order: priority first, then the longest waiting."""
    return (Priority.read(c.priority).rank, c.waiting_since or c.created_at)


def queue_position(s: Session, conv: Conversation) -> int:
    queued = s.scalars(select(Conversation).where(Conversation.status == Status.QUEUED)).all()
    ordered = sorted(queued, key=queue_key)
    return next((i + 1 for i, c in enumerate(ordered) if c.id == conv.id), len(ordered))


class Views:
    """The read side, for the customer and agent APIs."""

    def __init__(
        self,
        sessions: sessionmaker,
        clock: Callable[[], datetime],
        connected: Callable[[], set[int]] = set,
        skill_wait: timedelta = timedelta(seconds=60),
    ) -> None:
        """`connected`: the agents with a console open; `skill_wait`: how long a conversation is offered only
        to the agents with its skill (bot/gateway/routing.py)."""
        self.sessions = sessions
        self.clock = clock
        self.connected = connected
        self.skill_wait = skill_wait

    def transcript(self, conv_id: str, after: int = 0) -> dict[str, Any]:
        """What the customer sees: every message but agents' internal notes."""
        with self.sessions() as s:
            conv = states.load(s, conv_id)
            rows = s.scalars(
                select(Message)
                .where(Message.conversation_id == conv_id, Message.seq > after, Message.author != "note")
                .order_by(Message.seq)
            )
            return {"status": conv.status, "language": conv.language, "messages": [message_view(m) for m in rows]}

    def queue(self, agent: Agent) -> dict[str, Any]:
        """The conversations offered to `agent` (their skills' first), theirs, and for a supervisor the others'."""
        now = self.clock()
        with self.sessions() as s:
            skills = presence.online_skills(s, self.connected())
            waiting = sorted(
                (
                    c
                    for c in s.scalars(select(Conversation).where(Conversation.status == Status.QUEUED))
                    if routing.offered(c, agent, skills, now, self.skill_wait)
                ),
                key=lambda c: routing.order(c, agent),
            )
            assigned = s.scalars(select(Conversation).where(Conversation.status == Status.ASSIGNED)).all()
            found: dict[str, Any] = {
                "queue": [{**self._row(s, c, now), "for_me": routing.for_me(c, agent)} for c in waiting],
                "mine": [self._row(s, c, now) for c in assigned if c.assignee_id == agent.id],
            }
            if agent.supervisor:
                found["others"] = [self._row(s, c, now) for c in assigned if c.assignee_id != agent.id]
            return found

    def offered_to(self, s: Session, conv: Conversation, agent: Agent) -> int | None:
        """None when the queued conversation is offered to `agent`, else the seconds it still waits."""
        now = self.clock()
        if routing.offered(conv, agent, presence.online_skills(s, self.connected()), now, self.skill_wait):
            return None
        return routing.seconds_left(conv, now, self.skill_wait)

    def _row(self, s: Session, c: Conversation, now: datetime) -> dict[str, Any]:
        last = s.scalars(
            select(Message)
            .where(Message.conversation_id == c.id, Message.author == "customer")
            .order_by(Message.seq.desc())
            .limit(1)
        ).first()
        return {
            "id": c.id,
            "channel": c.channel,
            "status": c.status,
            "reason": c.reason,
            "priority": c.priority,
            "skill": c.skill,
            "summary": c.summary,
            "summary_zh": c.summary_zh or c.summary,
            "language": c.language,
            "assignee": c.assignee.display_name if c.assignee else None,
            "assignee_username": c.assignee.username if c.assignee else None,
            "waiting_seconds": _seconds(c.waiting_since, now),
            "last_message": last.text if last else None,
        }

    def detail(self, conv_id: str) -> dict[str, Any]:
        now = self.clock()
        with self.sessions() as s:
            conv = states.load(s, conv_id)
            messages = s.scalars(select(Message).where(Message.conversation_id == conv_id).order_by(Message.seq))
            return {
                **self._row(s, conv, now),
                "order_number": conv.order_number,
                "customer_id": conv.customer_id,
                "earlier": self._earlier(s, conv),
                "rating": conv.rating,
                "rating_comment": conv.rating_comment,
                "messages": [message_view(m) for m in messages],
                "history": [
                    {
                        "from": c.from_status,
                        "to": c.to_status,
                        "actor": c.actor,
                        "reason": c.reason,
                        "at": c.at.isoformat(),
                    }
                    for c in conv.changes
                ],
                "metrics": self.metrics(s, conv),
            }

    @staticmethod
    def _earlier(s: Session, conv: Conversation) -> list[dict[str, Any]]:
        """The verified customer's other conversations, newest first (none for a customer not verified)."""
        if not conv.customer_id:
            return []
        rows = s.scalars(
            select(Conversation)
            .where(Conversation.customer_id == conv.customer_id, Conversation.id != conv.id)
            .order_by(Conversation.created_at.desc())
            .limit(10)
        )
        return [
            {
                "id": c.id,
                "created_at": c.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "status": c.status,
                "channel": c.channel,
                "reason": c.reason,
                "order_number": c.order_number,
                "rating": c.rating,
            }
            for c in rows
        ]

    @staticmethod
    def metrics(s: Session, conv: Conversation) -> dict[str, float | None]:
        """Waiting time and first-response time of the latest escalation, derived from the records."""
        queued = next((c for c in reversed(conv.changes) if c.to_status == Status.QUEUED), None)
        if queued is None:
            return {"waiting_seconds": None, "first_response_seconds": None}
        claimed = next((c for c in conv.changes if c.id > queued.id and c.to_status == Status.ASSIGNED), None)
        first_reply = s.scalars(
            select(Message.created_at)
            .where(Message.conversation_id == conv.id, Message.author == "agent", Message.created_at >= queued.at)
            .order_by(Message.seq)
            .limit(1)
        ).first()
        return {
            "waiting_seconds": _seconds(queued.at, claimed.at if claimed else None),
            "first_response_seconds": _seconds(queued.at, first_reply),
        }
