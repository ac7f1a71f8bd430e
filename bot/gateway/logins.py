"""Agents' accounts and logins: scrypt off the event loop, the same cost for unknown names, rate limits.

Demo agents (alice, bob) exist only for the demo: outside demo mode their demo passwords never log
in, and tokens they got in an earlier demo run are revoked on start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.contract import Skill
from bot.errors import ApiError, too_many_attempts
from bot.gateway import auth
from bot.gateway.models import Agent, AgentToken
from bot.gateway.ratelimit import FailureLimiter, Limiter

TOKEN_LIFETIME = timedelta(hours=12)
# username, display name, password, skills, role: created only in demo mode.
DEMO_AGENTS = [
    ("alice", "Alice", "alice-demo", "general,refunds,complaints", "agent"),
    ("bob", "Bob", "bob-demo", "logistics,security,general", "agent"),
    ("sam", "Sam", "sam-demo", "general", "supervisor"),
]
DEMO_PASSWORDS = {username: password for username, _, password, _, _ in DEMO_AGENTS}
ROLES = ("agent", "supervisor")
FAILURES_PER_USERNAME = 5
FAILURES_PER_CLIENT = 20
FAILURE_WINDOW = timedelta(minutes=15)


@cache
def _decoy_hash() -> str:
    """A hash to check unknown usernames against, so they cost what known ones do."""
    return auth.hash_password("no such agent")


def normalized_skills(raw: str | list[str]) -> str:
    """Skills as stored: comma-separated, each one the contract knows, no repeats; ValueError names a wrong one."""
    names = raw.split(",") if isinstance(raw, str) else raw
    kept: list[str] = []
    for name in (n.strip().lower() for n in names):
        if name not in {s.value for s in Skill}:
            raise ValueError(f"unknown skill {name!r}; the skills are {', '.join(s.value for s in Skill)}")
        if name not in kept:
            kept.append(name)
    if not kept:
        raise ValueError("an agent needs at least one skill")
    return ",".join(kept)


def agent_view(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "username": agent.username,
        "name": agent.display_name,
        "skills": agent.skill_list,
        "role": agent.role,
    }


def ensure_agent(
    sessions: Any, username: str, name: str, password: str, skills: str, now: datetime, role: str = "agent"
) -> bool:
    """Creates the agent unless the username exists; says whether it did (another gateway starting at the
    same moment may have created it first)."""
    try:
        with sessions.begin() as s:
            if s.scalars(select(Agent).where(Agent.username == username)).first():
                return False
            s.add(
                Agent(
                    username=username,
                    display_name=name,
                    password_hash=auth.hash_password(password),
                    skills=skills,
                    created_at=now,
                    role=role,
                )
            )
            return True
    except IntegrityError:
        return False


class Logins:
    """Checks passwords and issues agents' tokens; 429 with Retry-After after repeated failures."""

    def __init__(
        self,
        sessions: sessionmaker,
        clock: Callable[[], datetime],
        demo: bool,
        limiters: tuple[Limiter, Limiter] | None = None,
    ) -> None:
        """`limiters`: attempts per username and per client address (in memory unless shared ones are given)."""
        self.sessions = sessions
        self.clock = clock
        self.demo = demo
        self.by_username, self.by_client = limiters or (
            FailureLimiter(FAILURES_PER_USERNAME, FAILURE_WINDOW, clock),
            FailureLimiter(FAILURES_PER_CLIENT, FAILURE_WINDOW, clock),
        )
        self.hashing = asyncio.Semaphore(2)

    async def login(self, username: str, password: str, client: str) -> dict[str, Any]:
        """A token for the right password; the same 401 and the same cost for a wrong name or password."""
        name_key, client_key = f"user:{username.casefold()}", f"client:{client}"
        # Counted as failures before the check: a burst of parallel guesses cannot all pass the limit.
        name_stamp, name_wait = await self.by_username.admit(name_key)
        client_stamp, client_wait = await self.by_client.admit(client_key)
        if name_stamp is None or client_stamp is None:
            if name_stamp is not None:
                await self.by_username.undo(name_key, name_stamp)
            if client_stamp is not None:
                await self.by_client.undo(client_key, client_stamp)
            wait = max(name_wait, client_wait)
            raise too_many_attempts(f"Too many failed logins; try again in {wait} s.", wait)
        with self.sessions() as s:
            agent = s.scalars(select(Agent).where(Agent.username == username)).first()
            stored = agent.password_hash if agent is not None else _decoy_hash()
        async with self.hashing:  # scrypt in threads, at most two at a time, never on the event loop
            ok = await asyncio.to_thread(auth.check_password, password, stored)
        if ok and not self.demo and DEMO_PASSWORDS.get(username) == password:
            ok = False  # a demo credential outside demo mode
        if agent is None or not ok:
            raise ApiError(401, "unauthorized", "Wrong username or password.")
        await self.by_username.forget(name_key)
        await self.by_client.undo(client_key, client_stamp)
        now = self.clock()
        token = auth.new_token()
        with self.sessions.begin() as s:
            s.add(AgentToken(token_hash=auth.token_hash(token), agent_id=agent.id, expires_at=now + TOKEN_LIFETIME))
            row = s.get(Agent, agent.id)
            assert row is not None
            row.last_seen_at = now
            return {"token": token, "agent": agent_view(row)}

    def prepare(self) -> list[str]:
        """On start: demo agents in demo mode; outside it, revokes the tokens of agents still on demo passwords."""
        if self.demo:
            return [
                u
                for u, name, pw, skills, role in DEMO_AGENTS
                if ensure_agent(self.sessions, u, name, pw, skills, self.clock(), role)
            ]
        revoked = []
        with self.sessions.begin() as s:
            for agent in s.scalars(select(Agent).where(Agent.username.in_(list(DEMO_PASSWORDS)))):
                if auth.check_password(DEMO_PASSWORDS[agent.username], agent.password_hash):
                    s.execute(delete(AgentToken).where(AgentToken.agent_id == agent.id))
                    revoked.append(agent.username)
        return revoked

    def agent_for(self, token: str | None) -> Agent:
        """The agent a bearer token belongs to; customers' tokens and expired ones open nothing."""
        if not token:
            raise ApiError(401, "unauthorized", "An agent's Authorization: Bearer <token> header is required.")
        now = self.clock()
        with self.sessions.begin() as s:
            row = s.get(AgentToken, auth.token_hash(token))
            if row is None or row.expires_at < now:
                raise ApiError(401, "unauthorized", "The agent token is unknown or expired.")
            row.agent.last_seen_at = now
            s.flush()
            s.expunge(row.agent)
            return cast(Agent, row.agent)
