"""Starting a request, serving it once the order form is done, and retrying after a failure."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlatformAction, client, human_button, is_verified_for, language, latest_intent, verified_order
from actions.complaints import secure_account
from actions.context import clause_requests, said_contact, said_order_numbers
from actions.logistics import describe_tracking
from actions.orders import order_answer
from actions.phrases import Lang, button, say
from actions.refunds import describe_refunds
from actions.returns import describe_eligibility

REQUESTS = {
    "order_status": "order_status",
    "track_shipment": "track",
    "return_request": "return",
    "refund_status": "refund",
    "complaint": "complaint",
    "security_issue": "security",
}
# The general answer for a request asked without an order.
POLICY_ANSWERS = {
    "order_status": "utter_faq/shipping_time",
    "track": "utter_faq/shipping_time",
    "return": "utter_faq/return_policy",
    "refund": "utter_faq/refund_time",
}
# What the customer may want for the next order of a message that named two, by what its clause asked.
NEXT_CHOICES = {
    "order_status": "order_status",
    "track": "track_shipment",
    "return": "return_request",
    "refund": "refund_status",
}
FLOW_SLOTS = (
    "contact",
    "order_owner_id",
    "return_reason",
    "quality_issue",
    "return_item_ids",
    "complaint_category",
    "complaint_description",
    "remedy",
    "handoff_reason",
    "pending_answer",
)


class ActionStartRequest(Action):
    """Remembers what the customer wants and what they already said for it (order numbers, a contact);
    without a number it goes on with the order this conversation already proved; clears the last flow."""

    def name(self) -> str:
        return "action_start_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = latest_intent(tracker)
        request = REQUESTS.get(str(intent)) or tracker.get_slot("request") or "order_status"
        said = said_order_numbers(tracker)
        queued = [str(n) for n in tracker.get_slot("next_orders") or []]
        number: str | None
        later: list[str] = []
        if said:
            # Several numbers: each goes with what its own clause asks; the first now, the others next.
            asked = clause_requests(tracker.latest_message.get("text") or "") if len(said) > 1 else {}
            if request in NEXT_CHOICES:  # a complaint or a security report stays what it is
                request = asked.get(said[0], request)
                later = [f"{n}:{asked[n]}" if n in asked else n for n in said[1:]]
            number = said[0]
        elif queued and request in NEXT_CHOICES:
            number, later = queued[0].split(":")[0], queued[1:]
        else:
            number = verified_order(tracker)
        return [
            SlotSet("request", request),
            SlotSet("order_number", number),
            *[SlotSet(slot, None) for slot in FLOW_SLOTS],
            SlotSet("offered_contact", said_contact(tracker)),
            SlotSet("next_orders", later or None),
        ]


class ActionServeRequest(PlatformAction):
    """Answers the request for the verified order: lookup, tracking, return eligibility or refunds."""

    def name(self) -> str:
        return "action_serve_request"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number = tracker.get_slot("order_number")
        request = tracker.get_slot("request")
        owner = tracker.get_slot("order_owner_id")
        if not number or not owner:
            dispatcher.utter_message(response="utter_ask_which_order_first")
            return []
        if not is_verified_for(tracker, owner):
            dispatcher.utter_message(
                response="utter_cannot_verify",
                buttons=[human_button(language(tracker))],
            )
            return [SlotSet("handoff_reason", "verification_failed")]
        text, buttons, events = await self._answer(str(request), str(number), tracker)
        dispatcher.utter_message(text=text, buttons=buttons)
        upcoming = tracker.get_slot("next_orders")
        if upcoming:  # two requests in one message: the other order comes next, plainly
            dispatcher.utter_message(**next_order(language(tracker), str(upcoming[0])))
        return events

    async def _answer(
        self, request: str, number: str, tracker: Tracker
    ) -> tuple[str, list[dict[str, str]], list[EventType]]:
        platform, lang = client(tracker), language(tracker)
        if request == "track":
            return describe_tracking(lang, await platform.tracking(number))
        if request == "return":
            text, buttons = describe_eligibility(lang, number, await platform.eligibility(number))
            return text, buttons, []
        if request == "refund":
            return describe_refunds(lang, number, await platform.refunds(number))
        return order_answer(lang, await platform.order(number))


def next_order(lang: Lang, queued: str) -> dict[str, Any]:
    """'You also asked about order 80000001', with its flows as buttons, what its clause asked first."""
    number, _, asked = queued.partition(":")
    first = [NEXT_CHOICES[asked]] if asked in NEXT_CHOICES else []
    names = first + [name for name in NEXT_CHOICES.values() if name not in first]
    buttons = [button(lang, f"suggest.{name}", f"/{name}") for name in names]
    return {"response": "utter_next_order", "order_number": number, "buttons": buttons}


class ActionPolicyAnswer(Action):
    """The customer has no order, or is just asking: the general policy for what they asked, and the form ends."""

    def name(self) -> str:
        return "action_policy_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        request = str(tracker.get_slot("request") or "order_status")
        if request in ("complaint", "security"):
            dispatcher.utter_message(response="utter_no_order_person", buttons=[human_button(language(tracker))])
        else:
            dispatcher.utter_message(response=POLICY_ANSWERS.get(request, "utter_faq/shipping_time"))
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("order_number", None),
            SlotSet("next_orders", None),
            SlotSet("offered_contact", None),
        ]


class ActionSecureAccount(PlatformAction):
    """After the order form of a security report: freeze, urgent ticket, urgent handoff."""

    def name(self) -> str:
        return "action_secure_account"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = next(
            (
                e.get("text")
                for e in tracker.events
                if e.get("event") == "user"
                and (e.get("parse_data") or {}).get("intent", {}).get("name") == "security_issue"
            ),
            None,
        )
        return await secure_account(dispatcher, tracker, text or say(language(tracker), "security.description"))


def _platform_actions() -> dict[str, type[PlatformAction]]:
    found: dict[str, type[PlatformAction]] = {}
    pending: list[type] = [PlatformAction]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is not PlatformAction:
            found[cls().name()] = cls
    return found


class ActionRetry(Action):
    """`/retry`: runs again the platform action that failed last, with the same state."""

    def name(self) -> str:
        return "action_retry"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        target = _platform_actions().get(str(tracker.get_slot("retry_action")))
        if target is None:
            dispatcher.utter_message(response="utter_nothing_to_retry")
            return []
        return await target().run(dispatcher, tracker, domain)
