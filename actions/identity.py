"""The order form: which order, and proof that the customer owns it (3 tries per conversation).

Verification is bound to the platform's answer: the verified customer is the one the platform
says owns exactly the order number the contact was checked against, never a slot from earlier.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import DIGRESSIONS, client, human_button, is_verified_for, language, latest_intent, retry_buttons
from actions.text import find_order_number, has_malformed_number, mask_email, mask_phone, read_contact
from bot.contract import Verified
from bot.platform_client import PlatformRejected, PlatformUnavailable

MAX_TRIES = 3
# Messages that answer neither of the form's questions: rules take them (a digression, no order, a person...).
NOT_ANSWER = DIGRESSIONS | {"no_order", "deny", "ask_others_data", "angry", "retry"}
# A new request's message is no answer to "what is your email or phone?" either, unless it holds one.
NOT_CONTACT = NOT_ANSWER | {
    "complaint",
    "security_issue",
    "order_status",
    "track_shipment",
    "return_request",
    "refund_status",
}
# Someone else's data: nothing in such a message is the customer's own number or contact.
OTHERS = "ask_others_data"


def _retrying(tracker: Tracker, slot: str) -> str | None:
    """The answer kept from a platform outage, when the customer now presses 'Try again'."""
    if latest_intent(tracker) != "retry" or tracker.get_slot("requested_slot") != slot:
        return None
    pending = tracker.get_slot("pending_answer")
    return str(pending) if pending else None


def _outage(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, value: Any) -> dict[str, Any]:
    """Says the platform is down, keeps the customer's answer for 'Try again', and asks nothing else."""
    dispatcher.utter_message(response="utter_platform_down", buttons=retry_buttons(language(tracker)))
    return {slot: None, "pending_answer": str(value)}


class ValidateOrderForm(FormValidationAction):
    """Fills `order_number` (checked against the platform) and `contact` (checked by the verify call)."""

    def name(self) -> str:
        return "validate_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The contact is asked only when the owner of the order is not already proven."""
        owner = tracker.get_slot("order_owner_id")
        if tracker.get_slot("verification_locked") or (owner and is_verified_for(tracker, owner)):
            return ["order_number"]
        return ["order_number", "contact"]

    async def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Takes a number from any message of the form, so the customer can correct it mid-way."""
        pending = _retrying(tracker, "order_number")
        if pending:
            return {"order_number": pending}
        text, intent = tracker.latest_message.get("text") or "", latest_intent(tracker)
        number = find_order_number(text)
        if intent == OTHERS:
            return {}
        if number and number != tracker.get_slot("order_number"):
            return {"order_number": number}
        if number or tracker.get_slot("requested_slot") != "order_number" or intent in NOT_ANSWER:
            return {}
        if has_malformed_number(text):
            dispatcher.utter_message(response="utter_order_number_malformed")
        else:
            dispatcher.utter_message(response="utter_order_number_help")
        return {"order_number": None}

    async def extract_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """An email or phone from any message of the form, asked for or not, or from before the form; a
        message that only corrects the order number is not a contact. 'Try again' re-checks the kept one."""
        pending = _retrying(tracker, "contact")
        if pending:
            return {"contact": pending}
        text, intent = tracker.latest_message.get("text") or "", latest_intent(tracker)
        if tracker.get_slot("contact") or intent == OTHERS:
            return {}
        if read_contact(text) is not None:
            return {"contact": text}
        offered = tracker.get_slot("offered_contact")
        if offered and tracker.get_slot("order_number"):
            return {"contact": offered}  # its validation clears it, matched or not
        if intent in NOT_CONTACT or tracker.get_slot("requested_slot") != "contact":
            return {}
        if not find_order_number(text) and text[:1] != "/":
            return {"contact": text}  # its validation says what is wrong with it
        return {}

    async def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"order_number": None, "pending_answer": None}
        try:
            order = await client(tracker).order(str(value))
        except PlatformRejected:
            dispatcher.utter_message(response="utter_order_not_found", order_number=value)
            return {"order_number": None, "order_owner_id": None, "pending_answer": None}
        except PlatformUnavailable:
            return {**_outage(dispatcher, tracker, "order_number", value), "order_owner_id": None}
        owner = str(order["customer"]["id"])
        # A new number restarts verification: any contact typed for the old one is not carried over.
        return {"order_number": value, "order_owner_id": owner, "contact": None, "pending_answer": None}

    async def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Checks the email or phone against the current order; the third failure ends verification."""
        number = tracker.get_slot("order_number")
        parsed = read_contact(str(value))
        if number is None:  # given before the order number: kept for when it comes
            return {"contact": None, "pending_answer": None, "offered_contact": str(value) if parsed else None}
        if parsed is None:
            dispatcher.utter_message(response="utter_contact_malformed")
            return {"contact": None, "pending_answer": None, "offered_contact": None}
        kind, contact = parsed
        try:
            if kind == "email":
                customer_id = await client(tracker).verify(str(number), email=contact)
            else:
                customer_id = await client(tracker).verify(str(number), phone=contact)
        except PlatformRejected as exc:
            return {**self._rejected(dispatcher, tracker, exc), "offered_contact": None}
        except PlatformUnavailable:
            return {**_outage(dispatcher, tracker, "contact", value), "offered_contact": None}
        masked = mask_email(contact) if kind == "email" else mask_phone(language(tracker), contact)
        if customer_id is not None:
            dispatcher.utter_message(response="utter_verified", contact=masked)
            dispatcher.utter_message(json_message=Verified(customer_id).message())  # channels may link it
            # Bound to the platform's answer for exactly this number, not to a slot of an earlier turn.
            return {
                "contact": masked,
                "order_owner_id": customer_id,
                "verified_customer_id": customer_id,
                "verify_attempts": 0.0,
                "pending_answer": None,
                "offered_contact": None,
            }
        tries = int(tracker.get_slot("verify_attempts") or 0) + 1
        if tries >= MAX_TRIES:
            dispatcher.utter_message(response="utter_verification_locked")
            return {**self._locked(), "verify_attempts": float(tries), "offered_contact": None}
        dispatcher.utter_message(response="utter_verification_failed", contact=masked, tries_left=MAX_TRIES - tries)
        return {"contact": None, "verify_attempts": float(tries), "pending_answer": None, "offered_contact": None}

    @staticmethod
    def _locked() -> dict[str, Any]:
        return {
            "contact": "failed",
            "verification_locked": True,
            "handoff_reason": "verification_failed",
            "pending_answer": None,
        }

    def _rejected(self, dispatcher: CollectingDispatcher, tracker: Tracker, exc: PlatformRejected) -> dict[str, Any]:
        """404: the number itself is wrong (its own check says so); 429: too many wrong answers for the order."""
        if exc.status == 404:
            return {"contact": None, "pending_answer": None}
        if exc.status == 429:
            buttons = [human_button(language(tracker))]
            dispatcher.utter_message(response="utter_verification_rate_limited", buttons=buttons)
            return self._locked()
        dispatcher.utter_message(response="utter_contact_malformed")  # the platform refused the contact's form
        return {"contact": None, "pending_answer": None}


class AskUnlessWaiting(Action, ABC):
    """Asks for the form's slot, except right after an outage, when 'Try again' is the question."""

    @abstractmethod
    def slot(self) -> str:
        """The form slot this action asks for."""

    def name(self) -> str:
        return f"action_ask_{self.slot()}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if not tracker.get_slot("pending_answer"):
            dispatcher.utter_message(response=f"utter_ask_{self.slot()}")
        return []


class ActionAskOrderNumber(AskUnlessWaiting):
    """`action_ask_order_number`: the order form's question for the number."""

    def slot(self) -> str:
        return "order_number"


class ActionAskContact(AskUnlessWaiting):
    """`action_ask_contact`: the order form's question for the email or phone."""

    def slot(self) -> str:
        return "contact"
