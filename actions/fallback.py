"""Two-stage fallback: first suggest what we can do, then, on a second miss in a row, offer a person."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import human_button, language
from actions.phrases import button
from bot.contract import Fallback

MISSES = {"nlu_fallback", "out_of_scope"}
# The flows a first miss suggests, in this order unless the classifier ranks some higher.
SUGGESTIONS = ("order_status", "track_shipment", "return_request", "refund_status", "complaint")
MAX_SUGGESTIONS = 3


def misses_in_a_row(tracker: Tracker) -> int:
    """How many of the latest user messages, counted back from now, were not understood."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") not in MISSES:
            break
        count += 1
    return count


class ActionFallback(Action):
    """Stage one offers the likeliest flows as buttons; stage two offers a person (and the gateway queues)."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        misses, lang = misses_in_a_row(tracker), language(tracker)
        if misses >= 2:
            dispatcher.utter_message(
                response="utter_fallback_offer_human",
                buttons=[human_button(lang), button(lang, "button.no_thanks", "/deny")],
            )
            dispatcher.utter_message(json_message=Fallback(misses).message())  # the gateway queues on 2
            return [SlotSet("handoff_reason", "fallback")]
        ranking = tracker.latest_message.get("intent_ranking") or []
        likely = [r["name"] for r in ranking if r.get("name") in SUGGESTIONS][:MAX_SUGGESTIONS]
        rest = [name for name in SUGGESTIONS if name not in likely]
        choices = (likely + rest)[:MAX_SUGGESTIONS]
        buttons = [button(lang, f"suggest.{name}", f"/{name}") for name in choices]
        buttons.append(human_button(lang))
        dispatcher.utter_message(response="utter_fallback_rephrase", buttons=buttons)
        return []
