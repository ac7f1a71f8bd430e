"""Logistics: tracking events and ETA, exceptions with the remedies the policy allows."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlatformAction, client, language, verified_order
from actions.phrases import Lang, button, say, word
from actions.text import day, moment

REMEDY_PAYLOADS = {
    "wait": '/choose_remedy{"remedy": "wait"}',
    "reship": '/choose_remedy{"remedy": "reship"}',
    "refund": '/choose_remedy{"remedy": "refund"}',
    "human": "/human_agent",
}
APOLOGIES = ("delayed", "lost")  # the other problems get the plain apology
SHOWN_EVENTS = 5


def remedy_button(lang: Lang, remedy: str) -> dict[str, str]:
    """The button offering one remedy: 'Send it again', '重新发货', ..."""
    return button(lang, f"remedy.{remedy}", REMEDY_PAYLOADS[remedy])


def _no_parcel(lang: Lang, tracking: dict[str, Any]) -> str:
    """Why an order without shipments has nothing to track."""
    status = tracking["order_status"]
    key = {"cancelled": "tracking.cancelled", "delivered": "tracking.virtual"}.get(status, "tracking.not_shipped")
    return say(lang, key, number=tracking["order_number"])


def problem_notice(lang: Lang, problem: dict[str, Any]) -> tuple[list[str], list[dict[str, str]], list[EventType]]:
    """A shipment exception, the same whichever question found it: apology, detail, the current estimate,
    the remedies as buttons, and the handoff reason a person would get."""
    apology = say(lang, f"apology.{problem['kind']}" if problem["kind"] in APOLOGIES else "apology.other")
    lines = [say(lang, "tracking.problem", apology=apology, detail=problem["detail"])]
    if problem.get("new_estimate"):
        lines.append(say(lang, "tracking.new_estimate", date=day(lang, problem["new_estimate"])))
    buttons = [remedy_button(lang, r) for r in problem["remedies"]]
    return lines, buttons, [SlotSet("handoff_reason", f"parcel_{problem['kind']}")]


def _items(lang: Lang, tracking: dict[str, Any]) -> str:
    """What the parcel holds, so the customer knows which order this is: " (Bluetooth speaker)"."""
    names = [str(i.get("name")) for i in tracking.get("items") or [] if isinstance(i, dict) and i.get("name")]
    if not names:
        return ""
    return f"（{'、'.join(names)}）" if lang == "zh" else f" ({', '.join(names)})"


def describe_tracking(lang: Lang, tracking: dict[str, Any]) -> tuple[str, list[dict[str, str]], list[EventType]]:
    """The tracking text, the remedy buttons when something went wrong, and the slots to remember."""
    number = tracking["order_number"]
    if not tracking["shipments"]:
        return _no_parcel(lang, tracking), [], []
    lines: list[str] = []
    buttons: list[dict[str, str]] = []
    events: list[EventType] = []
    for s in tracking["shipments"]:
        status = word(lang, "shipment_status", s["status"])
        parcel = {"carrier": s["carrier"], "tracking": s["tracking_number"], "status": status}
        lines.append(say(lang, "tracking.head", number=number, items=_items(lang, tracking), **parcel))
        lines += [
            say(lang, "tracking.event", at=moment(lang, e["at"]), description=e["description"], location=e["location"])
            for e in s["events"][-SHOWN_EVENTS:]
        ]
        problem = s.get("exception")
        notice: list[str] = []
        if problem:
            notice, buttons, events = problem_notice(lang, problem)
        elif s["status"] != "delivered" and s.get("estimated_delivery"):
            lines.append(say(lang, "tracking.expected", date=day(lang, s["estimated_delivery"])))
        lines += notice
        if s.get("delivery_change_allowed"):
            lines.append(say(lang, "tracking.change_allowed"))
        if problem:
            lines.append(say(lang, "tracking.remedies"))
    return "\n".join(lines), buttons, events


class ActionLogisticsRemedy(PlatformAction):
    """Carries out the remedy the customer chose for a delayed, lost or damaged parcel."""

    def name(self) -> str:
        return "action_logistics_remedy"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number, remedy = verified_order(tracker), tracker.get_slot("remedy")
        owner, lang = tracker.get_slot("order_owner_id"), language(tracker)
        if number is None:
            dispatcher.utter_message(response="utter_ask_which_order_first")
            return []
        tracking = await client(tracker).tracking(number)
        problem = next((s["exception"] for s in tracking["shipments"] if s.get("exception")), None)
        if problem is None or remedy not in problem["remedies"]:
            dispatcher.utter_message(response="utter_remedy_not_available", order_number=number)
            return [SlotSet("remedy", None)]
        if remedy == "wait":
            dispatcher.utter_message(response="utter_remedy_wait", new_estimate=day(lang, problem.get("new_estimate")))
            return [SlotSet("remedy", None)]
        wanted = say(lang, "wanted.reship" if remedy == "reship" else "wanted.refund")
        kind = word(lang, "parcel_problem", problem["kind"])
        body = {
            "customer_id": int(owner),
            "order_number": number,
            "category": "delivery",
            "severity": "high",
            "description": say(lang, "remedy.ticket", problem=kind, detail=problem["detail"], wanted=wanted),
        }
        ticket = await client(tracker).complaint(body, f"{tracker.sender_id}:{number}:remedy:{remedy}")
        dispatcher.utter_message(
            response="utter_remedy_filed", ticket=ticket["number"], wanted=wanted, due=moment(lang, ticket["due_at"])
        )
        return [SlotSet("remedy", None)]
