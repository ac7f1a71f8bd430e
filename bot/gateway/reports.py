"""The service's figures over a period, with Chatwoot's definitions (README, "Reports").

The conversations opened in the period are read once, each with its history and its messages, into
`Facts`; every figure is then an aggregate over some of them: all, one day, one channel, one language,
or (for the agents' figures) the conversations each agent took part in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import bad_request
from bot.gateway.models import Agent, Conversation, Message, Status, StatusChange
from bot.language import base

TOP_INTENTS = 10
TRANSFER = "transfer to "  # the reason teamwork.py records for a transfer
DEFAULT_DAYS = 7
MAX_DAYS = 366
FIRST_YEAR, LAST_YEAR = 2000, 2999
UNSERVED_KEPT = 500  # the latest messages the bot could not serve that are grouped (grouping costs CPU)
FIGURES = (
    "conversations",
    "bot_resolved",
    "containment_rate",
    "handoffs",
    "handoff_rate",
    "avg_first_response_s",
    "avg_resolution_s",
    "avg_wait_s",
    "csat_score",
    "csat_response_rate",
    "fallback_rate",
)


@dataclass
class Facts:
    """One conversation, as the reports see it."""

    id: str
    day: str
    channel: str
    language: str
    opened_at: datetime
    handoff_at: datetime | None = None
    handoff_reason: str | None = None
    first_response_at: datetime | None = None
    first_responder: str | None = None
    resolved_at: datetime | None = None
    resolver: str | None = None
    person_wrote: bool = False
    waits: list[tuple[str, float]] = field(default_factory=list)  # (agent who claimed, seconds queued)
    rating: int | None = None
    read: int = 0  # customer messages the bot read
    fallbacks: int = 0
    intents: Counter[str] = field(default_factory=Counter)
    unserved: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def contained(self) -> bool:
        """Bot-resolved: never handed to people, and no message from a person."""
        return self.handoff_at is None and not self.person_wrote


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: Iterable[float]) -> float | None:
    kept = list(values)
    return round(sum(kept) / len(kept), 1) if kept else None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def figures(facts: list[Facts]) -> dict[str, Any]:
    """The summary figures of some conversations (the same keys for all, a day, a channel, a language)."""
    handed = [f for f in facts if f.handoff_at is not None]
    resolved = [f for f in facts if f.resolved_at is not None]
    rated = [f.rating for f in facts if f.rating is not None]
    read = sum(f.read for f in facts)
    return {
        "conversations": len(facts),
        "bot_resolved": sum(f.contained for f in facts),
        "containment_rate": _ratio(sum(f.contained for f in facts), len(facts)),
        "handoffs": len(handed),
        "handoff_rate": _ratio(len(handed), len(facts)),
        "avg_first_response_s": _mean(
            s for f in handed if (s := _seconds(f.handoff_at, f.first_response_at)) is not None
        ),
        "avg_resolution_s": _mean(s for f in resolved if (s := _seconds(f.opened_at, f.resolved_at)) is not None),
        "avg_wait_s": _mean(seconds for f in facts for _, seconds in f.waits),
        "csat_score": _ratio(sum(r >= 4 for r in rated), len(rated)),
        "csat_response_rate": _ratio(len(rated), len(resolved)),
        "fallback_rate": _ratio(sum(f.fallbacks for f in facts), read),
    }


def agent_figures(facts: list[Facts], username: str) -> dict[str, Any]:
    """One agent's part: conversations claimed and resolved, first responses, waits, ratings of theirs."""
    resolved = [f for f in facts if f.resolver == username]
    rated = [f.rating for f in resolved if f.rating is not None]
    return {
        "claimed": sum(1 for f in facts for who, _ in f.waits if who == username),
        "resolved": len(resolved),
        "avg_first_response_s": _mean(
            s
            for f in facts
            if f.first_responder == username and (s := _seconds(f.handoff_at, f.first_response_at)) is not None
        ),
        "avg_resolution_s": _mean(s for f in resolved if (s := _seconds(f.opened_at, f.resolved_at)) is not None),
        "avg_wait_s": _mean(seconds for f in facts for who, seconds in f.waits if who == username),
        "csat_score": _ratio(sum(r >= 4 for r in rated), len(rated)),
        "csat_response_rate": _ratio(len(rated), len(resolved)),
    }


def period(args: dict[str, str | None], today: date) -> tuple[date, date]:
    """`from` and `to` (YYYY-MM-DD, whole UTC days, both included, years 2000 to 2999); the last 7 days
    without them."""
    days: dict[str, date] = {}
    for name in ("from", "to"):
        raw = args.get(name)
        if raw is None:
            continue
        try:
            days[name] = date.fromisoformat(raw) if len(raw) == 10 else date.min
        except ValueError:
            days[name] = date.min
        if not FIRST_YEAR <= days[name].year <= LAST_YEAR:
            raise bad_request(name, f"{name} must be a date as YYYY-MM-DD, from {FIRST_YEAR} to {LAST_YEAR}.")
    end = days.get("to", today)
    start = days["from"] if "from" in days else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise bad_request("from", "from must not be after to.")
    if (end - start).days >= MAX_DAYS:
        raise bad_request("to", f"A report covers at most {MAX_DAYS} days.")
    return start, end


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, timezone.utc),
        datetime.combine(end + timedelta(days=1), time.min, timezone.utc),
    )


def collect(s: Session, start: date, end: date) -> list[Facts]:
    """The conversations opened from `start` to `end` (whole UTC days), each with what the reports need."""
    since, until = _bounds(start, end)
    opened = (Conversation.created_at >= since) & (Conversation.created_at < until)
    facts = {
        c.id: Facts(c.id, c.created_at.date().isoformat(), c.channel, base(c.language), c.created_at, rating=c.rating)
        for c in s.scalars(select(Conversation).where(opened).order_by(Conversation.created_at))
    }
    names: dict[int, str] = {agent_id: name for agent_id, name in s.execute(select(Agent.id, Agent.username))}
    changes = s.scalars(select(StatusChange).join(Conversation).where(opened).order_by(StatusChange.id))
    queued: dict[str, datetime] = {}
    for change in changes:
        f = facts.get(change.conversation_id)
        if f is None:  # opened after the conversations were read
            continue
        actor = change.actor.removeprefix("agent:")
        if change.to_status == Status.ASSIGNED and change.reason.startswith(TRANSFER):
            actor = change.reason.removeprefix(TRANSFER)  # a supervisor assigned it: the agent who got it
        if change.to_status == Status.QUEUED:
            queued[f.id] = change.at
            if f.handoff_at is None:
                f.handoff_at, f.handoff_reason = change.at, change.reason
        elif change.to_status == Status.ASSIGNED and f.id in queued:
            f.waits.append((actor, (change.at - queued.pop(f.id)).total_seconds()))
        elif change.to_status == Status.RESOLVED and f.resolved_at is None:
            f.resolved_at, f.resolver = change.at, actor
    rows = s.execute(
        select(
            Message.conversation_id, Message.author, Message.agent_id, Message.created_at, Message.text,
            Message.intent, Message.fallback,
        )
        .join(Conversation)
        .where(opened, Message.author.in_(("customer", "agent")))
        .order_by(Message.id)
    )  # fmt: skip
    last_said: dict[str, tuple[datetime, str]] = {}
    for conv_id, author, agent_id, at, text, intent, fallback in rows:
        f = facts.get(conv_id)
        if f is None:
            continue
        if author == "agent":
            f.person_wrote = True
            if f.first_response_at is None and f.handoff_at is not None and at >= f.handoff_at:
                f.first_response_at, f.first_responder = at, names.get(agent_id)
            continue
        if f.handoff_reason == "fallback" and f.handoff_at is not None and at <= f.handoff_at:
            last_said[conv_id] = (at, text)  # the message that made the bot give up, for lack of understanding
        if intent is None:
            continue
        f.read += 1
        f.intents[intent] += 1
        if fallback:
            f.fallbacks += 1
            f.unserved.append((at, text))
    for conv_id, said in last_said.items():
        if said not in facts[conv_id].unserved:
            facts[conv_id].unserved.append(said)
    return list(facts.values())


def read(sessions: sessionmaker, start: date, end: date) -> tuple[dict[str, Any], list[str]]:
    """`report` in a session of its own (it runs in a worker thread, off the event loop)."""
    with sessions() as s:
        return report(s, start, end)


def report(s: Session, start: date, end: date) -> tuple[dict[str, Any], list[str]]:
    """The period's figures, and the latest messages the bot could not serve (grouped by the caller)."""
    facts = collect(s, start, end)
    days = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    intents = sum((f.intents for f in facts), Counter[str]())
    reasons = Counter(f.handoff_reason for f in facts if f.handoff_reason is not None)
    agents = sorted({who for f in facts for who, _ in f.waits} | {f.resolver for f in facts if f.resolver})
    unserved = sorted((said for f in facts for said in f.unserved), reverse=True)[:UNSERVED_KEPT]
    result = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        **figures(facts),
        "handoffs_by_reason": dict(reasons.most_common()),
        "top_intents": [{"intent": name, "count": n} for name, n in intents.most_common(TOP_INTENTS)],
        "by_day": [{"date": day, **figures([f for f in facts if f.day == day])} for day in days],
        "by_channel": {k: figures([f for f in facts if f.channel == k]) for k in sorted({f.channel for f in facts})},
        "by_language": {k: figures([f for f in facts if f.language == k]) for k in sorted({f.language for f in facts})},
        "by_agent": {name: agent_figures(facts, name) for name in agents},
    }
    return result, [text for _, text in unserved]
