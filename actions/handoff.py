"""Handing the conversation to a person: the handoff signal of docs/architecture.md ("The bot↔gateway contract")."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import is_verified_for, latest_intent
from bot.contract import Handoff, Priority

SUMMARY_SLOTS = ("request", "return_reason", "quality_issue", "complaint_category", "remedy")


def handoff_payload(tracker: Tracker, reason: str) -> Handoff:
    """Reason, priority, skill and a short summary for the agent: intents, order, verification, slots."""
    intents = [
        e["parse_data"]["intent"]["name"]
        for e in tracker.events
        if e.get("event") == "user" and (e.get("parse_data") or {}).get("intent", {}).get("name")
    ]
    request = tracker.get_slot("request")
    owner = tracker.get_slot("order_owner_id")
    verified = bool(owner) and is_verified_for(tracker, owner)
    parts = [f"Intents: {', '.join(intents[-6:]) or 'none'}."]
    parts.append(f"Order: {tracker.get_slot('order_number') or 'none'}.")
    parts.append(f"Verified: {'yes, customer ' + str(owner) if verified else 'no'}.")
    slots = [f"{s}={tracker.get_slot(s)}" for s in SUMMARY_SLOTS if tracker.get_slot(s)]
    if slots:
        parts.append(f"Slots: {', '.join(slots)}.")
    if tracker.get_slot("verification_locked"):
        parts.append("Verification failed 3 times.")
    return Handoff.for_reason(reason, request, " ".join(parts), tracker.get_slot("order_number"))


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[EventType]:
    """Tells the customer, emits the signal for the gateway, leaves any form, and pauses the bot."""
    payload = handoff_payload(tracker, reason)
    response = "utter_handoff_urgent" if payload.priority is Priority.URGENT else "utter_handoff"
    dispatcher.utter_message(response=response)
    dispatcher.utter_message(json_message=payload.message())
    return [
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        SlotSet("handoff_reason", None),
        ConversationPaused(),
    ]


class ActionHandoff(Action):
    """`action_handoff`: the customer asked for a person, or an earlier step suggested one."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if latest_intent(tracker) == "angry":
            return hand_off(dispatcher, tracker, "angry_customer")
        return hand_off(dispatcher, tracker, tracker.get_slot("handoff_reason") or "customer_request")
