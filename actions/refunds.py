"""Refund status: stage, the date of each stage, the expected completion, a rejection's reason."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, SlotSet

from actions.phrases import Lang, button, say, word
from actions.text import day, moment, money, original_method


def _tail(lang: Lang, r: dict[str, Any]) -> str:
    """What happens next for a refund at its stage, or why it was rejected."""
    method = original_method(lang, r["payment_method"])
    expected = day(lang, r["expected_completion"])
    if r["stage"] in ("requested", "under_review"):
        review_due = moment(lang, r["review_due"])
        return say(lang, "refund.in_review", review_due=review_due, method=method, expected=expected)
    if r["stage"] in ("approved", "processing"):
        return say(lang, "refund.approved", method=method, expected=expected)
    if r["stage"] == "completed":
        return say(lang, "refund.completed", method=method, date=expected)
    return say(lang, "refund.rejected", reason=r["rejection_reason"])


def _one(lang: Lang, r: dict[str, Any]) -> str:
    amount = money(lang, r["amount"], r["currency"])
    stage = word(lang, "refund_stage", r["stage"])
    head = say(lang, "refund.head", number=r["number"], amount=amount, order=r["order_number"], stage=stage)
    history = "\n".join(
        say(lang, "refund.history", stage=word(lang, "refund_stage", s["stage"]), at=moment(lang, s["at"]))
        for s in r["stages"]
    )
    return f"{head}\n{history}\n{_tail(lang, r)}"


def describe_refunds(
    lang: Lang, number: str, refunds: list[dict[str, Any]]
) -> tuple[str, list[dict[str, str]], list[EventType]]:
    """The refund text, an appeal button for a rejected refund, and the handoff reason it implies."""
    if not refunds:
        return say(lang, "refund.none", number=number), [button(lang, "button.return_item", "/return_request")], []
    text = "\n\n".join(_one(lang, r) for r in refunds)
    if any(r["stage"] == "rejected" for r in refunds):
        return text, [button(lang, "button.appeal", "/human_agent")], [SlotSet("handoff_reason", "refund_appeal")]
    return text, [], []
