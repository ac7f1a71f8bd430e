"""Starting a request, serving it once the order form is done, and retrying after a failure."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlatformAction, client, human_button, is_verified_for, language
from actions.complaints import secure_account
from actions.logistics import describe_tracking
from actions.orders import describe_order
from actions.phrases import say
from actions.refunds import describe_refunds
from actions.returns import describe_eligibility
from actions.text import find_order_number

REQUESTS = {
    "order_status": "order_status",
    "track_shipment": "track",
    "return_request": "return",
    "refund_status": "refund",
    "complaint": "complaint",
    "security_issue": "security",
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
    """Remembers what the customer wants and the order number if they gave one; clears the last flow."""

    def name(self) -> str:
        return "action_start_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        request = REQUESTS.get(str(intent)) or tracker.get_slot("request") or "order_status"
        number = find_order_number(tracker.latest_message.get("text") or "")
        return [
            SlotSet("request", request),
            SlotSet("order_number", number),
            *[SlotSet(slot, None) for slot in FLOW_SLOTS],
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
        return describe_order(lang, await platform.order(number)), [], []


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
