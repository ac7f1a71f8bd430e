"""The conversation harness: a customer's whole conversation through the gateway, judged on what they needed.

A conversation (tests/conversations/*.yml) is a list of turns and a need: facts of an order that must
appear (read from the platform's API, so a wrong date or amount fails), texts that must and must not
appear, and where the conversation must end (with the bot, or queued for a person). Friction is found
in the transcript itself: the bot not understanding, a fallback button the customer had to press, or a
question about something the customer had already said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

CONVERSATIONS = Path(__file__).parent / "conversations"
NUMBER = re.compile(r"(?<!\d)8\d{7}(?!\d)")
CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|(?<!\d)(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
ASKS_NUMBER = ("It has 8 digits", "订单号为8位数字")
ASKS_CONTACT = ("email address or phone number on order", "下单时填写的邮箱或手机号")
NOT_UNDERSTOOD = (
    "I'm not sure I understood",
    "I'm not sure what you need",
    "I still can't help with that",
    "Please pick one of the topics",
    "没太明白",
    "不太确定您想",
    "暂时没法帮您处理",
    "请从上面的",
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class Need:
    """What the customer came for: facts of `order`, texts that must (`say`) and must not appear, the end."""

    order: str | None = None
    facts: list[str] = field(default_factory=list)
    say: list[str] = field(default_factory=list)
    not_say: list[str] = field(default_factory=list)
    status: str = "bot"


@dataclass
class Conversation:
    name: str
    lang: str
    patterns: list[int]
    turns: list[str]
    need: Need
    known_miss: str | None = None  # why the bot fails it today: counted, and expected to fail until fixed

    @property
    def id(self) -> str:
        return re.sub(r"\W+", "-", self.name.lower()).strip("-")[:60]


@dataclass
class Turn:
    customer: str
    bot: list[str]
    buttons: list[dict[str, str]]
    status: str


def load() -> list[Conversation]:
    found = []
    for path in sorted(CONVERSATIONS.glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            found.append(
                Conversation(
                    name=item["name"],
                    lang=item.get("lang", "en"),
                    patterns=item.get("patterns", []),
                    turns=[str(t) for t in item["turns"]],
                    need=Need(**item.get("need", {})),
                    known_miss=item.get("known_miss"),
                )
            )
    return found


def pressed(text: str) -> str | None:
    """The title of the button a turn presses ("[Return an item]"), or None for a typed message."""
    return text[1:-1] if text.startswith("[") and text.endswith("]") else None


def day(value: str, lang: str) -> str:
    """A date as the bot writes it: "26 Nov 2026", or "2026年11月26日"."""
    d = date.fromisoformat(value[:10])
    return f"{d.year}年{d.month}月{d.day}日" if lang.startswith("zh") else f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def facts(order: dict[str, Any], wanted: list[str], lang: str) -> dict[str, str]:
    """Each wanted fact of an order as it must appear in the bot's words, from the platform's own data."""
    shipment = (order.get("shipments") or [{}])[-1]
    estimate = (shipment.get("exception") or {}).get("new_estimate") or shipment.get("estimated_delivery")
    refund = (order.get("refunds") or [{}])[-1]
    values = {
        "number": order["number"],
        "total": order["total"],
        "item": order["items"][0]["name"],
        "carrier": shipment.get("carrier"),
        "tracking": shipment.get("tracking_number"),
        "eta": estimate and day(estimate, lang),
        "refund": refund.get("number"),
        "refund_amount": refund.get("amount"),
    }
    missing = [f for f in wanted if not values.get(f)]
    assert not missing, f"order {order['number']} has no {missing} on the platform: the conversation is wrong"
    return {f: str(values[f]) for f in wanted}


def said(wanted: str, everything: str) -> bool:
    """Whether the bot said `wanted` (case aside); "a | b" accepts either wording."""
    return any(alt.strip().lower() in everything.lower() for alt in wanted.split(" | "))


@dataclass
class Verdict:
    """Whether the need was met (and what was missing), and each friction found in the transcript."""

    missing: list[str] = field(default_factory=list)
    friction: list[str] = field(default_factory=list)

    @property
    def need_met(self) -> bool:
        return not self.missing


def judge(conv: Conversation, turns: list[Turn], expected_facts: dict[str, str]) -> Verdict:
    verdict = Verdict()
    everything = "\n".join(text for turn in turns for text in turn.bot)
    for name, value in expected_facts.items():
        if value not in everything:
            verdict.missing.append(f"fact {name}={value!r}")
    verdict.missing += [f"say {s!r}" for s in conv.need.say if not said(s, everything)]
    verdict.missing += [f"not_say {s!r}" for s in conv.need.not_say if s.lower() in everything.lower()]
    if turns and turns[-1].status != conv.need.status:
        verdict.missing.append(f"ends {turns[-1].status!r}, not {conv.need.status!r}")
    numbers: set[str] = set()
    contact_given = False  # a contact given since the last new order number (a new order may need its own)
    for i, turn in enumerate(turns):
        bot = "\n".join(turn.bot)
        if any(marker in bot for marker in NOT_UNDERSTOOD):
            verdict.friction.append(f"turn {i + 1}: not understood")
        if numbers and any(m in bot for m in ASKS_NUMBER):
            verdict.friction.append(f"turn {i + 1}: asked again for the order number")
        new_numbers = set(NUMBER.findall(turn.customer)) - numbers
        numbers |= new_numbers
        contact_given = bool(CONTACT.search(turn.customer)) or (contact_given and not new_numbers)
        if contact_given and any(m in bot for m in ASKS_CONTACT):
            verdict.friction.append(f"turn {i + 1}: asked again for the contact")
    return verdict
