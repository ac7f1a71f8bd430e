"""Skill routing: a queued conversation is offered first to the agents with the skill it needs.

It goes to everyone once it has waited `wait` (SKILL_WAIT_SECONDS), or at once when no online agent has
the skill; supervisors see every conversation. Agents see the ones for their skills at the top.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.contract import Priority
from bot.gateway.models import Agent, Conversation


def offered(conv: Conversation, agent: Agent, skills_online: set[str], now: datetime, wait: timedelta) -> bool:
    """Whether `agent` may see and claim the queued conversation now."""
    if agent.supervisor or not conv.skill or conv.skill in agent.skill_list or conv.skill not in skills_online:
        return True
    return bool(now - (conv.waiting_since or conv.created_at) >= wait)


def for_me(conv: Conversation, agent: Agent) -> bool:
    """The conversation needs one of the agent's skills (or none in particular)."""
    return not conv.skill or conv.skill in agent.skill_list


def order(conv: Conversation, agent: Agent) -> tuple[bool, int, datetime]:
    """An agent's queue: their skills' conversations first, then by priority, then the longest waiting."""
    return (not for_me(conv, agent), Priority.read(conv.priority).rank, conv.waiting_since or conv.created_at)


def seconds_left(conv: Conversation, now: datetime, wait: timedelta) -> int:
    """How long the conversation still waits for an agent with its skill."""
    return max(0, int((wait - (now - (conv.waiting_since or conv.created_at))).total_seconds()))
