"""What agents do together: transfer a conversation to a colleague or a skill, and internal notes.

A note is a message with the author `note`: agents see it in the transcript and live, the customer
never does (the hub does not send it to them, their transcript leaves it out). A transfer says to the
customer only that someone else takes over; its note, if any, stays among the agents.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import ApiError, conflict, not_found
from bot.gateway import states
from bot.gateway.desk import Desk
from bot.gateway.hub import publish
from bot.gateway.models import Agent, Conversation, Message, Status
from bot.gateway.notices import say
from bot.gateway.views import message_view


class Teamwork:
    """Transfers and notes; every move goes through `states`, every event through the hub."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def note(self, conv_id: str, agent: Agent, text: str) -> dict[str, Any]:
        """An internal note on any conversation, for the agents only."""
        with self.desk.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            view = self._note(s, conv, agent, text)
            channel = conv.channel
        await publish(self.desk.hub, conv_id, channel, [view])
        return view

    def _note(self, s: Session, conv: Conversation, agent: Agent, text: str) -> dict[str, Any]:
        msg = states.append(s, conv, "note", text, self.desk.clock(), agent_id=agent.id)
        s.flush()
        msg.agent = s.get(Agent, agent.id)
        return message_view(msg)

    async def transfer(
        self, conv_id: str, agent: Agent, to_agent: str | None, to_skill: str | None, note: str
    ) -> dict[str, Any]:
        """To another agent (now theirs) or to a skill (queued again for its agents); the assignee or a
        supervisor may, and a supervisor may also assign a queued conversation to someone."""
        now, actor = self.desk.clock(), f"agent:{agent.username}"
        with self.desk.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            mine = conv.status == Status.ASSIGNED and conv.assignee_id == agent.id
            if not mine and not (agent.supervisor and conv.status in (Status.ASSIGNED, Status.QUEUED)):
                raise conflict("not_yours", "Only the conversation's agent or a supervisor can transfer it.")
            if to_agent is not None:
                target = s.scalars(select(Agent).where(Agent.username == to_agent)).first()
                if target is None:
                    raise not_found("agent", to_agent)
                if target.id == conv.assignee_id:
                    raise conflict("same_agent", f"The conversation is already {target.display_name}'s.")
                states.transition(s, conv, Status.ASSIGNED, actor, f"transfer to {target.username}", now)
                conv.assignee_id, conv.waiting_since = target.id, None
                notice = say(conv.language, "agent_transferred", agent=target.display_name)
            else:
                if conv.status == Status.QUEUED:
                    raise ApiError(409, "already_queued", "The conversation is queued: assign it to an agent.")
                states.transition(s, conv, Status.QUEUED, actor, f"transfer to {to_skill}", now, skill=to_skill)
                notice = say(conv.language, "transferred_to_team")
            out: list[Message] = [states.append(s, conv, "system", notice, now)]
            s.flush()
            views = [message_view(m) for m in out]
            if note:
                views.append(self._note(s, conv, agent, note))
            channel, status = conv.channel, conv.status
        await publish(self.desk.hub, conv_id, channel, views, status=status)
        return self.desk.views.detail(conv_id)
