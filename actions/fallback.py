"""Misses: out of scope is answered honestly; not understood gets suggestions, then the offer of a person,
and a customer clearly stuck (three misses in a row) is handed to one."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import human_button, language, latest_intent
from actions.handoff import hand_off
from actions.phrases import Lang, button
from actions.text import find_order_number
from bot.contract import Fallback

# Only messages not understood count towards "stuck"; small talk is answered and breaks the count.
MISSES = {"nlu_fallback"}
OFFER_AT, HAND_OFF_AT = 2, 3
# The flows a first miss suggests, in this order unless the classifier ranks some higher.
SUGGESTIONS = ("order_status", "track_shipment", "return_request", "refund_status", "complaint")
MAX_SUGGESTIONS = 3


def misses_in_a_row(tracker: Tracker) -> int:
    """How many of the latest user messages, counted back from now, the bot did not understand: classified
    as `nlu_fallback`, or answered by this action for want of a dialogue path (the message being answered
    now is one), so a customer told twice "not understood" is offered a person. Small talk breaks the count."""
    count, answered_by_fallback = 0, True
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_fallback":
            answered_by_fallback = True
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
        if intent == "out_of_scope" or not (intent in MISSES or answered_by_fallback):
            break
        count += 1
        answered_by_fallback = False
    return count


def suggestions(tracker: Tracker, lang: Lang) -> list[dict[str, str]]:
    """The likeliest flows as buttons (the classifier's ranking first), and a person."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    likely = [r["name"] for r in ranking if r.get("name") in SUGGESTIONS][:MAX_SUGGESTIONS]
    rest = [name for name in SUGGESTIONS if name not in likely]
    choices = (likely + rest)[:MAX_SUGGESTIONS]
    return [*[button(lang, f"suggest.{name}", f"/{name}") for name in choices], human_button(lang)]


class ActionFallback(Action):
    """Answers a miss; from the second in a row, the gateway learns the count from `{"fallback": {"misses": n}}`."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        misses, lang = misses_in_a_row(tracker), language(tracker)
        number = find_order_number(tracker.latest_message.get("text") or "")
        if number and misses < OFFER_AT:  # about an order after all: the chosen flow starts with its number
            buttons = suggestions(tracker, lang)
            dispatcher.utter_message(response="utter_fallback_order", order_number=number, buttons=buttons)
            return []
        if latest_intent(tracker) == "out_of_scope":
            dispatcher.utter_message(response="utter_out_of_scope", buttons=suggestions(tracker, lang))
            return []
        if misses >= HAND_OFF_AT:
            dispatcher.utter_message(json_message=Fallback(misses).message())
            return hand_off(dispatcher, tracker, "fallback")
        if misses >= OFFER_AT:
            dispatcher.utter_message(
                response="utter_fallback_offer_human",
                buttons=[human_button(lang), button(lang, "button.no_thanks", "/deny")],
            )
            dispatcher.utter_message(json_message=Fallback(misses).message())
            return [SlotSet("handoff_reason", "fallback")]
        dispatcher.utter_message(response="utter_fallback_rephrase", buttons=suggestions(tracker, lang))
        return []
