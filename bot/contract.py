"""The bot↔gateway contract (docs/architecture.md): signals, priorities, skills and escalation rules, typed once.

The actions write these signals as custom JSON messages; the gateway reads them back from Rasa's
answer. Both sides import this module, so a field or a word cannot drift between them. Anything
the gateway reads is checked: an unknown priority or skill falls back to the default, never fails.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

E = TypeVar("E", bound=enum.Enum)


def _member(kind: type[E], value: Any, default: E) -> E:
    """The member with this value; `default` for anything else (what the gateway reads is never trusted)."""
    try:
        return kind(value)
    except ValueError:
        return default


class Priority(str, enum.Enum):
    """How soon a person should take the conversation; the queue orders by `rank`."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)

    @classmethod
    def read(cls, value: Any) -> Priority:
        return _member(cls, value, cls.NORMAL)


class Skill(str, enum.Enum):
    """Which agents a conversation needs (agents list theirs when created)."""

    GENERAL = "general"
    LOGISTICS = "logistics"
    REFUNDS = "refunds"
    COMPLAINTS = "complaints"
    SECURITY = "security"

    @classmethod
    def read(cls, value: Any) -> Skill:
        return _member(cls, value, cls.GENERAL)


@dataclass(frozen=True)
class Rule:
    """What an escalation for one reason needs: its priority and, if fixed, its skill."""

    priority: Priority = Priority.NORMAL
    skill: Skill | None = None  # None: the skill of the customer's request


# Every reason a conversation is handed to a person, whether the bot or the gateway decides it.
ESCALATIONS: dict[str, Rule] = {
    "customer_request": Rule(),
    "verification_failed": Rule(),
    "fallback": Rule(),
    "parcel_delayed": Rule(),
    "parcel_lost": Rule(Priority.HIGH),
    "parcel_damaged": Rule(Priority.HIGH),
    "refund_appeal": Rule(Priority.HIGH),
    "complaint_severe": Rule(Priority.HIGH),
    "angry_customer": Rule(Priority.HIGH, Skill.COMPLAINTS),
    "security": Rule(Priority.URGENT, Skill.SECURITY),
    "bot_unavailable": Rule(Priority.HIGH, Skill.GENERAL),
}
# The skill each kind of request needs when the reason does not fix one.
REQUEST_SKILLS: dict[str, Skill] = {
    "order_status": Skill.GENERAL,
    "track": Skill.LOGISTICS,
    "return": Skill.REFUNDS,
    "refund": Skill.REFUNDS,
    "complaint": Skill.COMPLAINTS,
    "security": Skill.SECURITY,
}


@dataclass(frozen=True)
class Handoff:
    """`{"handoff": {...}}`: hand the conversation to a person (the bot pauses itself)."""

    reason: str
    priority: Priority
    skill: Skill
    summary: str = ""  # for agents, in English
    order_number: str | None = None
    summary_zh: str = ""  # the same for agents who read Chinese

    @classmethod
    def for_reason(
        cls,
        reason: str,
        request: str | None = None,
        summary: str = "",
        order: str | None = None,
        summary_zh: str = "",
    ) -> Handoff:
        """The handoff the escalation rules give `reason` (unknown reasons: normal, by request)."""
        rule = ESCALATIONS.get(reason, Rule())
        skill = rule.skill or REQUEST_SKILLS.get(str(request), Skill.GENERAL)
        return cls(reason, rule.priority, skill, summary, order, summary_zh)

    def message(self) -> dict[str, Any]:
        return {"handoff": {**asdict(self), "priority": self.priority.value, "skill": self.skill.value}}

    @classmethod
    def read(cls, raw: dict[str, Any]) -> Handoff:
        number = raw.get("order_number")
        return cls(
            reason=str(raw.get("reason") or "customer_request")[:64],
            priority=Priority.read(raw.get("priority")),
            skill=Skill.read(raw.get("skill")),
            summary=str(raw.get("summary") or "")[:2000],
            order_number=str(number) if number else None,
            summary_zh=str(raw.get("summary_zh") or "")[:2000],
        )


@dataclass(frozen=True)
class Fallback:
    """`{"fallback": {"misses": n}}`: the bot did not understand `n` messages in a row (3: the customer is stuck)."""

    misses: int

    def message(self) -> dict[str, Any]:
        return {"fallback": {"misses": self.misses}}


@dataclass(frozen=True)
class Verified:
    """`{"verified": {"customer_id"}}`: the platform confirmed this customer owns the order asked about."""

    customer_id: str

    def message(self) -> dict[str, Any]:
        return {"verified": {"customer_id": self.customer_id}}


@dataclass(frozen=True)
class Understood:
    """`{"understood": {"intent", "confidence"}}`: what the bot read in the customer's message (Rasa's
    gateway channel adds it to every answer), for the service's reports: top intents, fallbacks."""

    intent: str
    confidence: float

    def message(self) -> dict[str, Any]:
        return {"understood": {"intent": self.intent, "confidence": self.confidence}}

    @classmethod
    def read(cls, raw: Any) -> Understood | None:
        """The signal if well formed (an intent name of at most 64 characters, a confidence in [0, 1])."""
        if not isinstance(raw, dict):
            return None
        intent, confidence = raw.get("intent"), raw.get("confidence")
        if not isinstance(intent, str) or not 0 < len(intent) <= 64 or not isinstance(confidence, int | float):
            return None
        return cls(intent, min(max(float(confidence), 0.0), 1.0))


@dataclass
class Signals:
    """The signals found in one answer of the bot."""

    handoff: Handoff | None = None
    misses: int = 0
    verified_customer_id: str | None = None
    understood: Understood | None = None

    def read(self, custom: dict[str, Any]) -> None:
        """Takes the signal of one custom message, if it is one; other payloads are ignored."""
        if isinstance(custom.get("handoff"), dict):
            self.handoff = Handoff.read(custom["handoff"])
        fallback = custom.get("fallback")
        if isinstance(fallback, dict) and isinstance(fallback.get("misses"), int):
            self.misses = fallback["misses"]
        verified = custom.get("verified")
        if isinstance(verified, dict) and verified.get("customer_id") is not None:
            self.verified_customer_id = str(verified["customer_id"])
        if "understood" in custom:
            self.understood = Understood.read(custom["understood"])
