"""Logistics: tracking events and ETA, exceptions with the remedies the policy allows."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlatformAction, client, verified_order
from actions.text import day, moment

REMEDY_BUTTONS = {
    "wait": {"title": "I'll wait", "payload": '/choose_remedy{"remedy": "wait"}'},
    "reship": {"title": "Send it again", "payload": '/choose_remedy{"remedy": "reship"}'},
    "refund": {"title": "Refund me", "payload": '/choose_remedy{"remedy": "refund"}'},
    "human": {"title": "Talk to a person", "payload": "/human_agent"},
}
APOLOGY = {"delayed": "I'm sorry, your parcel is delayed.", "lost": "I'm very sorry."}
SHOWN_EVENTS = 5


def describe_tracking(tracking: dict[str, Any]) -> tuple[str, list[dict[str, str]], list[EventType]]:
    """The tracking text, the remedy buttons when something went wrong, and the slots to remember."""
    number = tracking["order_number"]
    if not tracking["shipments"]:
        if tracking["order_status"] == "cancelled":
            return f"Order {number} was cancelled, so nothing was shipped.", [], []
        if tracking["order_status"] == "delivered":
            return f"Order {number} holds virtual goods: the code was sent to you, no parcel.", [], []
        return f"Order {number} has not been handed to a carrier yet; tracking starts once it ships.", [], []
    lines: list[str] = []
    buttons: list[dict[str, str]] = []
    events: list[EventType] = []
    for s in tracking["shipments"]:
        lines.append(f"Order {number}, {s['carrier']} parcel {s['tracking_number']}: {s['status'].replace('_', ' ')}.")
        lines += [f"• {moment(e['at'])}: {e['description']} ({e['location']})" for e in s["events"][-SHOWN_EVENTS:]]
        problem = s.get("exception")
        if problem:
            apology = APOLOGY.get(problem["kind"], "I'm sorry.")
            lines.append(f"{apology} {problem['detail']}")
            if problem.get("new_estimate"):
                lines.append(f"New estimated delivery: {day(problem['new_estimate'])}.")
        elif s["status"] != "delivered" and s.get("estimated_delivery"):
            lines.append(f"Expected delivery: {day(s['estimated_delivery'])}.")
        if s.get("delivery_change_allowed"):
            lines.append("The delivery time or address can still be changed: a person can do that for you.")
        if problem:
            lines.append("Here is what I can do:")
            buttons = [REMEDY_BUTTONS[r] for r in problem["remedies"]]
            events = [SlotSet("handoff_reason", f"parcel_{problem['kind']}")]
    return "\n".join(lines), buttons, events


class ActionLogisticsRemedy(PlatformAction):
    """Carries out the remedy the customer chose for a delayed, lost or damaged parcel."""

    def name(self) -> str:
        return "action_logistics_remedy"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number, remedy = verified_order(tracker), tracker.get_slot("remedy")
        owner = tracker.get_slot("order_owner_id")
        if number is None:
            dispatcher.utter_message(response="utter_ask_which_order_first")
            return []
        tracking = await client().tracking(number)
        problem = next((s["exception"] for s in tracking["shipments"] if s.get("exception")), None)
        if problem is None or remedy not in problem["remedies"]:
            dispatcher.utter_message(response="utter_remedy_not_available", order_number=number)
            return [SlotSet("remedy", None)]
        if remedy == "wait":
            dispatcher.utter_message(response="utter_remedy_wait", new_estimate=day(problem.get("new_estimate")))
            return [SlotSet("remedy", None)]
        wanted = "a new parcel sent" if remedy == "reship" else "a refund"
        body = {
            "customer_id": int(owner),
            "order_number": number,
            "category": "delivery",
            "severity": "high",
            "description": f"Parcel {problem['kind']}: {problem['detail']} The customer asks for {wanted}.",
        }
        ticket = await client().complaint(body, f"{tracker.sender_id}:{number}:remedy:{remedy}")
        dispatcher.utter_message(
            response="utter_remedy_filed",
            ticket=ticket["number"],
            wanted=wanted,
            due=moment(ticket["due_at"]),
        )
        return [SlotSet("remedy", None)]
