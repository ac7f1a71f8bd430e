"""What agents do with a conversation: claim it, reply, resolve it, or hand it back to the bot."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.errors import ApiError, conflict
from bot.gateway import states
from bot.gateway.desk import Desk
from bot.gateway.hub import publish
from bot.gateway.models import Agent, Conversation, Status
from bot.gateway.notices import say
from bot.gateway.views import message_view


class Assignments:
    """The agents' side of the desk; every move goes through `states`, every event through the hub."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def claim(self, conv_id: str, agent: Agent) -> dict[str, Any]:
        """Takes a queued conversation offered to the agent (skill routing: bot/gateway/routing.py)."""
        now = self.desk.clock()
        with self.desk.sessions.begin() as s:
            waiting = states.load(s, conv_id)
            if waiting.status == Status.QUEUED and (left := self.desk.views.offered_to(s, waiting, agent)) is not None:
                raise ApiError(
                    409,
                    "not_offered",
                    f"This conversation is offered to agents with the {waiting.skill} skill for {left} s more.",
                )
            conv = states.claim(s, conv_id, agent, now)
            note = states.append(s, conv, "system", say(conv.language, "agent_joined", agent=agent.display_name), now)
            s.flush()
            channel, view = conv.channel, message_view(note)
        await publish(self.desk.hub, conv_id, channel, [view], status=Status.ASSIGNED)
        return self.desk.views.detail(conv_id)

    def _own(self, s: Session, conv_id: str, agent: Agent) -> Conversation:
        """The conversation, locked, if it is assigned to `agent` (or, for a supervisor, to anyone)."""
        conv = states.load(s, conv_id, lock=True)
        if conv.status != Status.ASSIGNED or (conv.assignee_id != agent.id and not agent.supervisor):
            raise conflict("not_yours", "Claim the conversation before acting on it.")
        return conv

    async def agent_message(self, conv_id: str, agent: Agent, text: str) -> dict[str, Any]:
        now = self.desk.clock()
        with self.desk.sessions.begin() as s:
            conv = self._own(s, conv_id, agent)
            msg = states.append(s, conv, "agent", text, now, agent_id=agent.id)
            s.flush()
            msg.agent = s.get(Agent, agent.id)
            channel, view = conv.channel, message_view(msg)
        await publish(self.desk.hub, conv_id, channel, [view])
        return view

    async def resolve(self, conv_id: str, agent: Agent) -> dict[str, Any]:
        now = self.desk.clock()
        with self.desk.sessions.begin() as s:
            conv = self._own(s, conv_id, agent)
            states.transition(s, conv, Status.RESOLVED, f"agent:{agent.username}", "resolved by the agent", now)
            note = states.append(s, conv, "system", say(conv.language, "agent_resolved", agent=agent.display_name), now)
            s.flush()
            channel, view = conv.channel, message_view(note)
        await publish(self.desk.hub, conv_id, channel, [view], status=Status.RESOLVED)
        await self.desk.hub.to_customer(conv_id, channel, {"type": "rating_request", "conversation_id": conv_id})
        return self.desk.views.detail(conv_id)

    async def hand_back(self, conv_id: str, agent: Agent, note: str) -> dict[str, Any]:
        """Gives the conversation back to the bot, which resumes knowing what the agent did."""
        async with self.desk.turns.locks.hold(
            conv_id
        ):  # the customer's next message reaches the bot after the hand-back
            return await self._hand_back(conv_id, agent, note)

    async def _hand_back(self, conv_id: str, agent: Agent, note: str) -> dict[str, Any]:
        now = self.desk.clock()
        with self.desk.sessions.begin() as s:
            conv = self._own(s, conv_id, agent)
            change = states.transition(s, conv, Status.BOT, f"agent:{agent.username}", f"handed back: {note}", now)
            notice = say(conv.language, "agent_handed_back", agent=agent.display_name)
            left = states.append(s, conv, "system", notice, now)
            s.flush()
            channel, views = conv.channel, [message_view(left)]
            sync = states.bot_sync(Status(change.from_status), Status(change.to_status))
        reply = await self.desk.sync_bot(conv_id, sync, note or f"{agent.display_name} helped you.")
        with self.desk.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            out = states.append_bot(s, conv, reply.messages, now, conv.language)
            s.flush()
            views += [message_view(m) for m in out]
        await publish(self.desk.hub, conv_id, channel, views, status=Status.BOT)
        return self.desk.views.detail(conv_id)
