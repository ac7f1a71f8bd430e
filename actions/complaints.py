"""Complaints: collect category and description, file a ticket; security freezes and escalates."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import DIGRESSIONS, PlatformAction, client, language, latest_intent, verified_order
from actions.handoff import hand_off
from actions.phrases import word
from actions.text import moment
from bot.language import to_simplified_chars

CATEGORIES = ("product_quality", "delivery", "service_attitude", "refund", "fraud_security", "other")
# Checked in order, on lower-case text with traditional characters read as simplified ones.
KEYWORDS = [
    (
        "fraud_security",
        r"hack|stole|stolen|fraud|didn'?t (make|place|order)|unknown (order|payment)|scam"
        r"|被盗|盗号|盗刷|被黑|黑客|诈骗|骗子|欺诈|冒用|不是我(下|买|付|订)|陌生(订单|付款|扣款)|账户安全|账号安全",
    ),
    ("delivery", r"deliver|courier|parcel|package|late|shipping|lost|快递|物流|送货|配送|派送|包裹|发货|丢件|运输"),
    ("refund", r"refund|money back|charge|退款|退钱|扣款|扣费"),
    ("service_attitude", r"rude|attitude|impolite|agent|staff|service|ignored|态度|客服|服务|不礼貌|不理人"),
    (
        "product_quality",
        r"quality|broken|defect|fake|damaged|doesn'?t work|faulty|质量|坏了|损坏|破损|瑕疵|次品|假货|故障|不能用",
    ),
    ("other", r"other|something else|其他|其它|别的"),
]
MIN_DESCRIPTION = 5
FREEZE_REASON = "Customer reported a security problem through the assistant."  # the platform's audit log, English


def category_from_text(text: str) -> str | None:
    """A category named by a button's word or guessed from the customer's own words, English or Chinese."""
    lowered = to_simplified_chars(text).strip().lower()
    if lowered.replace(" ", "_") in CATEGORIES:
        return lowered.replace(" ", "_")
    return next((cat for cat, pattern in KEYWORDS if re.search(pattern, lowered)), None)


class ValidateComplaintForm(FormValidationAction):
    """Fills `complaint_category` (buttons or words) and `complaint_description` (the customer's words)."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def extract_complaint_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "complaint_category" or latest_intent(tracker) in DIGRESSIONS:
            return {}
        if tracker.latest_message.get("entities"):
            return {}  # a button's entity fills the slot through its mapping
        found = category_from_text(tracker.latest_message.get("text") or "")
        if found is None:
            dispatcher.utter_message(response="utter_complaint_category_unknown")
        return {"complaint_category": found}

    def validate_complaint_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value not in CATEGORIES:
            dispatcher.utter_message(response="utter_complaint_category_unknown")
            return {"complaint_category": None}
        return {"complaint_category": value}

    def validate_complaint_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value).strip()
        if len(text) < MIN_DESCRIPTION:
            dispatcher.utter_message(response="utter_complaint_description_short")
            return {"complaint_description": None}
        return {"complaint_description": text[:4000]}


def _key(tracker: Tracker, *parts: str) -> str:
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
    return f"{tracker.sender_id}:{digest}"


async def secure_account(dispatcher: CollectingDispatcher, tracker: Tracker, description: str) -> list[EventType]:
    """Freezes the verified customer's account, files an urgent ticket, and hands off at once."""
    number = verified_order(tracker)
    if number is not None:
        owner = int(tracker.get_slot("order_owner_id"))
        await client(tracker).freeze(owner, FREEZE_REASON)
        body = {
            "customer_id": owner,
            "order_number": number,
            "category": "fraud_security",
            "description": description,
        }
        ticket = await client(tracker).complaint(body, _key(tracker, "security", number))
        dispatcher.utter_message(response="utter_account_frozen", ticket=ticket["number"])
    return hand_off(dispatcher, tracker, "security")


class ActionFileComplaint(PlatformAction):
    """Files the complaint and says its number, what happens next and by when."""

    def name(self) -> str:
        return "action_file_complaint"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number = verified_order(tracker)
        category = tracker.get_slot("complaint_category")
        description = tracker.get_slot("complaint_description")
        clear = [SlotSet("complaint_category", None), SlotSet("complaint_description", None)]
        if number is None or not category or not description:
            dispatcher.utter_message(response="utter_ask_which_order_first")
            return clear
        if category == "fraud_security":
            return clear + await secure_account(dispatcher, tracker, description)
        body = {
            "customer_id": int(tracker.get_slot("order_owner_id")),
            "order_number": number,
            "category": category,
            "description": description,
        }
        ticket = await client(tracker).complaint(body, _key(tracker, "complaint", number, category, description))
        lang = language(tracker)
        dispatcher.utter_message(
            response="utter_complaint_filed",
            ticket=ticket["number"],
            category=word(lang, "category", category),
            due=moment(lang, ticket["due_at"]),
        )
        return clear
