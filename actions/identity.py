"""The order form: which order, and proof that the customer owns it (3 tries per conversation)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import DIGRESSIONS, client, is_verified_for, latest_intent
from actions.text import find_order_number, has_malformed_number, mask_email, mask_phone, read_contact
from bot.platform.client import PlatformRejected, PlatformUnavailable

MAX_TRIES = 3
HUMAN_BUTTON = [{"title": "Talk to a person", "payload": "/human_agent"}]


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
        text = tracker.latest_message.get("text") or ""
        number = find_order_number(text)
        if number and number != tracker.get_slot("order_number"):
            return {"order_number": number}
        if number or tracker.get_slot("requested_slot") != "order_number" or latest_intent(tracker) in DIGRESSIONS:
            return {}
        if has_malformed_number(text):
            dispatcher.utter_message(response="utter_order_number_malformed")
        else:
            dispatcher.utter_message(response="utter_order_number_help")
        return {"order_number": None}

    async def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"order_number": None}
        try:
            order = await client().order(str(value))
        except PlatformRejected:
            dispatcher.utter_message(response="utter_order_not_found", order_number=value)
            return {"order_number": None, "order_owner_id": None}
        except PlatformUnavailable:
            dispatcher.utter_message(response="utter_platform_down", buttons=HUMAN_BUTTON)
            return {"order_number": None, "order_owner_id": None}
        owner = str(order["customer"]["id"])
        return {"order_number": value, "order_owner_id": owner, "contact": None}

    async def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Checks the email or phone with the platform; the third failure ends verification."""
        number = tracker.get_slot("order_number")
        parsed = read_contact(str(value))
        if number is None:
            return {"contact": None}
        if parsed is None:
            dispatcher.utter_message(response="utter_contact_malformed")
            return {"contact": None}
        kind, contact = parsed
        try:
            if kind == "email":
                ok = await client().verify(number, email=contact)
            else:
                ok = await client().verify(number, phone=contact)
        except (PlatformUnavailable, PlatformRejected):
            dispatcher.utter_message(response="utter_platform_down", buttons=HUMAN_BUTTON)
            return {"contact": None}
        masked = mask_email(contact) if kind == "email" else mask_phone(contact)
        if ok:
            dispatcher.utter_message(response="utter_verified", contact=masked)
            owner = tracker.get_slot("order_owner_id")
            dispatcher.utter_message(json_message={"verified": {"customer_id": owner}})  # channels may link it
            return {"contact": masked, "verified_customer_id": owner, "verify_attempts": 0.0}
        tries = int(tracker.get_slot("verify_attempts") or 0) + 1
        if tries >= MAX_TRIES:
            dispatcher.utter_message(response="utter_verification_locked")
            return {
                "contact": "failed",
                "verify_attempts": float(tries),
                "verification_locked": True,
                "handoff_reason": "verification_failed",
            }
        dispatcher.utter_message(response="utter_verification_failed", contact=masked, tries_left=MAX_TRIES - tries)
        return {"contact": None, "verify_attempts": float(tries)}
