"""Refund status: stage, the date of each stage, the expected completion, a rejection's reason."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, SlotSet

from actions.text import day, moment, money, payment_name

STAGE_WORDS = {
    "requested": "requested",
    "under_review": "under review",
    "approved": "approved",
    "processing": "being paid out",
    "completed": "completed",
    "rejected": "rejected",
}


def _one(r: dict[str, Any]) -> str:
    amount = money(r["amount"], r["currency"])
    head = f"Refund {r['number']} of {amount} for order {r['order_number']} is {STAGE_WORDS[r['stage']]}."
    method = f"original payment method ({payment_name(r['payment_method'])})"
    history = "\n".join(f"• {STAGE_WORDS[s['stage']]}: {moment(s['at'])}" for s in r["stages"])
    if r["stage"] in ("requested", "under_review"):
        tail = (
            f"The review finishes by {moment(r['review_due'])} (48 hours at most); once approved, the money is "
            f"back on your {method} within 7 working days, by {day(r['expected_completion'])} at the latest."
        )
    elif r["stage"] in ("approved", "processing"):
        tail = f"Expected on your {method} by {day(r['expected_completion'])} (7 working days after approval)."
    elif r["stage"] == "completed":
        tail = f"The money went back to your {method} on {day(r['expected_completion'])}."
    else:
        tail = f"Reason: {r['rejection_reason']}\nIf you disagree, a person can review your appeal."
    return f"{head}\n{history}\n{tail}"


def describe_refunds(number: str, refunds: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]], list[EventType]]:
    """The refund text, an appeal button for a rejected refund, and the handoff reason it implies."""
    if not refunds:
        return (
            f"There is no refund on order {number}. If you'd like to send something back, I can check that.",
            [{"title": "Return an item", "payload": "/return_request"}],
            [],
        )
    text = "\n\n".join(_one(r) for r in refunds)
    if any(r["stage"] == "rejected" for r in refunds):
        return (
            text,
            [{"title": "Appeal with a person", "payload": "/human_agent"}],
            [SlotSet("handoff_reason", "refund_appeal")],
        )
    return text, [], []
