"""When the gateway hands a conversation to people, and what the customer is told while they wait.

The reasons, priorities and skills are the contract's (bot/contract.py); this module decides
which applies to one answer of the bot, queues the conversation, and words the waiting notice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.contract import Handoff
from bot.gateway import presence, states
from bot.gateway.anger import Assessment
from bot.gateway.models import Conversation, Message, Status
from bot.gateway.notices import both, say
from bot.gateway.rasa import BotReply
from bot.gateway.views import queue_position

STUCK_MISSES = 3
_DOWN_EN, _DOWN_ZH = both("summary_bot_down")
BOT_DOWN = Handoff.for_reason("bot_unavailable", summary=_DOWN_EN, summary_zh=_DOWN_ZH)


def decide(reply: BotReply, anger: Assessment, recent: list[str]) -> tuple[str, Handoff] | None:
    """Who escalates this answer, and how: the bot's own handoff, anger, or three misses in a row (the bot
    offers a person at two and hands off at three itself; this catches a bot that does not)."""
    if reply.handoff:
        return "bot", reply.handoff
    if reply.misses >= STUCK_MISSES:
        en, zh = both("summary_fallback", last=recent[-1])
        return "gateway", Handoff.for_reason("fallback", summary=en, summary_zh=zh)
    if anger.angry:
        signals = ", ".join(anger.signals) or "sentiment"
        en, zh = both("summary_angry", score=anger.score, signals=signals, last=recent[-1])
        return "gateway", Handoff.for_reason("angry_customer", summary=en, summary_zh=zh)
    return None


def escalate(
    s: Session, conv: Conversation, actor: str, handoff: Handoff, now: datetime, online: bool
) -> list[Message]:
    """Queues the conversation and tells the customer honestly how long it may take."""
    states.transition(
        s, conv, Status.QUEUED, actor, handoff.reason, now,
        priority=handoff.priority, skill=handoff.skill.value, summary=handoff.summary,
        summary_zh=handoff.summary_zh or None,
    )  # fmt: skip
    conv.reason = handoff.reason
    s.flush()
    return [states.append(s, conv, "system", waiting_text(s, conv, online), now)]


def waiting_text(s: Session, conv: Conversation, online: bool) -> str:
    """The queue notice in the customer's language: their place, or the ticket when nobody is online."""
    if not online:
        return say(conv.language, "no_agent", ticket=conv.id[:8].upper())
    return say(conv.language, "queued", position=queue_position(s, conv))


def agents_online(s: Session, connected: set[int]) -> bool:
    """Some agent with a console open chose to be online (bot/gateway/presence.py)."""
    return bool(presence.online_agents(s, connected))
