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
from actions.context import REQUEST_ENDS
from actions.handoff import hand_off
from actions.phrases import word
from actions.text import moment
from bot.language import to_simplified_chars

CATEGORIES = ("product_quality", "delivery", "service_attitude", "refund", "fraud_security", "other")
# Checked in order, on lower-case text with traditional characters read as simplified ones.
KEYWORDS = [
    (
        "fraud_security",
        r"\b(hack|stole|fraud|scam)|\bunknown (order|payment)|\b(orders?|payments?) i (didn'?t|never) (make|made|place)"
        r"|\bi (didn'?t|never) (make|made|place|placed) (th(is|ese|at|ose) |an? |the )?(orders?|payments?|purchases?)"
        r"|被盗|盗号|盗刷|被黑|黑客|诈骗|骗子|欺诈|冒用|不是我(下|买|付|订)|陌生(订单|付款|扣款)|账户安全|账号安全",
    ),
    (
        "delivery",
        r"\b(deliver|courier|driver|parcel|package|shipping|shipment|lost\b|late\b|never (came|arrived)|not arrived)"
        r"|\btook (too|so) long|快递|物流|送货|配送|派送|派件|包裹|发货|丢件|运输|没收到|还没到|送错|延迟|迟迟",
    ),
    (
        "refund",
        r"\b(refund|money back|charged?\b|charges\b|reimburs|paid twice)|退款|退钱|扣款|扣费|没退|到账|多扣",
    ),
    (
        "service_attitude",
        r"\b(rude|attitude|impolite|agent|staff|service|ignored|unhelpful|hung up|shout|support)"
        r"|态度|客服|服务|不礼貌|不理人|敷衍|骂人|挂电话",
    ),
    (
        "product_quality",
        r"\b(quality|broke|defect|fake|damaged|doesn'?t work|not working|stopped working|faulty)"
        r"|\bwrong (size|item|colou?r)|\b(missing part|scratch|crack|leak|stain|smell)"
        r"|质量|坏了|坏的|损坏|破损|瑕疵|次品|假货|故障|不能用|发错|少件|划痕|裂|漏|异味|掉色",
    ),
    ("other", r"\b(other|something else)\b|其他|其它|别的"),
]
# When the words name no category, what the message was understood as says it.
CATEGORY_BY_INTENT = {
    "track_shipment": "delivery",
    "order_status": "delivery",
    "refund_status": "refund",
    "return_request": "product_quality",
    "choose_quality_issue": "product_quality",
    "security_issue": "fraud_security",
}
MIN_DESCRIPTION = 5
# Words that tell what happened, not just name a topic: this many words, or Chinese characters.
DESCRIBING_WORDS, DESCRIBING_CHARS = 8, 12
# Intents whose message is no answer to "what is the complaint about?": their rules take them.
NOT_CATEGORY = (DIGRESSIONS - {"other", "out_of_scope"}) | {"angry", "retry", "ask_others_data", "no_order"}
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
FREEZE_REASON = "Customer reported a security problem through the assistant."  # the platform's audit log, English


def category_from_text(text: str) -> str | None:
    """A category named by a button's word or guessed from the customer's own words, English or Chinese."""
    lowered = to_simplified_chars(text).strip().lower()
    if lowered.replace(" ", "_") in CATEGORIES:
        return lowered.replace(" ", "_")
    return next((cat for cat, pattern in KEYWORDS if re.search(pattern, lowered)), None)


def describes(text: str) -> bool:
    """Whether the words say what happened, not just name a topic."""
    return len(text.split()) >= DESCRIBING_WORDS or len(_CJK_CHAR.findall(text)) >= DESCRIBING_CHARS


def complaint_text(tracker: Tracker) -> str | None:
    """The message of this request understood as a complaint, if any."""
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") in REQUEST_ENDS:
            return None
        intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
        if event.get("event") == "user" and intent == "complaint":
            return str(event.get("text") or "")
    return None


def _from_words(text: str, intent: str | None, *, first: bool = False) -> dict[str, Any]:
    """Category (and description, when the words tell the problem) from a message, or nothing; from the
    complaint's first message, never the security category (a button or the question's answer says that)."""
    found = category_from_text(text) or CATEGORY_BY_INTENT.get(str(intent))
    if found is None or (first and found == "fraud_security"):
        return {}
    return {"complaint_category": found, **({"complaint_description": text.strip()} if describes(text) else {})}


class ValidateComplaintForm(FormValidationAction):
    """Fills `complaint_category` (buttons or words) and `complaint_description` (the customer's words)."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def extract_complaint_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The category from a button, or from the customer's words: the complaint's first message when the
        form starts, any answer after; words that also describe the problem fill the description too."""
        requested = tracker.get_slot("requested_slot")
        if tracker.get_slot("complaint_category") or tracker.latest_message.get("entities"):
            return {}  # a button's entity fills the slot through its mapping
        if requested is None:
            return _from_words(complaint_text(tracker) or "", None, first=True)
        text, intent = tracker.latest_message.get("text") or "", latest_intent(tracker)
        if requested != "complaint_category" or intent in NOT_CATEGORY:
            return {}
        found = _from_words(text, intent)
        if not found:
            dispatcher.utter_message(response="utter_complaint_category_unknown")
            return {"complaint_category": None}
        return found

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
