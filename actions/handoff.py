"""Handing the conversation to a person: the handoff signal of docs/architecture.md ("The bot↔gateway contract")."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import is_verified_for, language, latest_intent
from actions.phrases import Lang, say, sentences, word
from bot.contract import Handoff, Priority

SUMMARY_SLOTS = ("request", "return_reason", "quality_issue", "complaint_category", "remedy")
# The word group naming each summary slot's values for agents who read Chinese (English shows the codes).
SLOT_WORDS = {
    "request": "request",
    "return_reason": "return_reason",
    "quality_issue": "issue",
    "complaint_category": "category",
    "remedy": "wanted",
}


def _slot(lang: Lang, name: str, value: object) -> str:
    """'request=track' for English agents; slot and value in words for Chinese ones."""
    shown = word(lang, SLOT_WORDS[name], str(value)) if lang == "zh" else value
    return say(lang, "summary.slot", name=say(lang, f"slot.{name}"), value=shown)


def summary(tracker: Tracker, lang: Lang) -> str:
    """The facts an agent needs, in `lang`: intents, order, verification, the flow's slots, the customer's language."""
    intents = [
        e["parse_data"]["intent"]["name"]
        for e in tracker.events
        if e.get("event") == "user" and (e.get("parse_data") or {}).get("intent", {}).get("name")
    ]
    owner = tracker.get_slot("order_owner_id")
    parts = [
        say(lang, "summary.intents", intents=", ".join(intents[-6:]) or say(lang, "none")),
        say(lang, "summary.order", order=tracker.get_slot("order_number") or say(lang, "none")),
    ]
    verified = bool(owner) and is_verified_for(tracker, owner)
    parts.append(say(lang, "summary.verified", customer=owner) if verified else say(lang, "summary.not_verified"))
    slots = [_slot(lang, s, tracker.get_slot(s)) for s in SUMMARY_SLOTS if tracker.get_slot(s)]
    if slots:
        parts.append(say(lang, "summary.slots", slots=say(lang, "summary.sep").join(slots)))
    if tracker.get_slot("verification_locked"):
        parts.append(say(lang, "summary.locked"))
    if language(tracker) == "zh":
        parts.append(say(lang, "summary.chinese"))
    return sentences(lang, parts)


def handoff_payload(tracker: Tracker, reason: str) -> Handoff:
    """Reason, priority, skill and the summary for agents, in English and in Chinese whatever the customer writes."""
    request, number = tracker.get_slot("request"), tracker.get_slot("order_number")
    return Handoff.for_reason(reason, request, summary(tracker, "en"), number, summary(tracker, "zh"))


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
