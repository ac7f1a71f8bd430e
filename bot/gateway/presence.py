"""Agents' presence: what each chose (online, away) while a console of theirs is open, else offline.

"No agent online" and skill routing read it: an away agent, or one whose last console closed, is not
offered conversations and does not count as someone who will answer soon.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.gateway.models import Agent

CHOICES = ("online", "away")


def effective(agent: Agent, connected: set[int]) -> str:
    """online, away or offline: the agent's choice counts only while a console of theirs is open."""
    return agent.presence if agent.id in connected else "offline"


def online_agents(s: Session, connected: set[int]) -> list[Agent]:
    """Agents with a console open who chose to be online."""
    if not connected:
        return []
    return list(s.scalars(select(Agent).where(Agent.id.in_(sorted(connected)), Agent.presence == "online")))


def online_skills(s: Session, connected: set[int]) -> set[str]:
    """The skills some online agent has."""
    return {skill for agent in online_agents(s, connected) for skill in agent.skill_list}
