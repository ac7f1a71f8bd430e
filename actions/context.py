"""What the customer already said for the current request: order numbers and a contact, from any message.

A request's messages are the customer's messages since the bot last finished serving something, so a
number typed in a message the bot did not understand, or an email given before it was asked for, is
used instead of being asked for again.
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from actions.text import find_order_numbers, read_contact

# Actions that end a request: what the customer said before them belongs to an answered request.
REQUEST_ENDS = {
    "action_serve_request",
    "action_file_complaint",
    "action_secure_account",
    "action_handoff",
    "action_policy_answer",
    "action_file_return",
    "action_retry",
}
# Messages about someone else: their numbers and contacts are not the customer's.
OTHERS = "ask_others_data"
MAX_MESSAGES = 6
# What a clause of a message asks for, checked in order; the first that matches wins.
CLAUSE_REQUESTS = (
    ("return", r"return|send (it|them) back|exchange|退货|退換|退换|换货|換貨|退回"),
    ("refund", r"refund|money back|退款|退钱|退錢"),
    ("track", r"track|parcel|package|deliver|arriv|ship|courier|快递|快遞|物流|包裹|送到|到货|到貨"),
    ("order_status", r"where|status|what about|订单|訂單|到哪"),
)
_CLAUSES = re.compile(r"[?？!！.。;；,，\n]|\b(?:and|also|plus|then)\b|另外|还有|還有|以及|同时|同時")


def request_texts(tracker: Tracker) -> list[str]:
    """The customer's texts of the current request, newest first: the latest message, and the ones before it
    that no form consumed as an answer, back to the last finished request (button payloads skipped)."""
    texts: list[tuple[str, bool]] = []
    active = None
    for event in tracker.events:
        kind = event.get("event")
        if kind == "active_loop":
            active = event.get("name")
        elif kind == "session_started" or (kind == "action" and event.get("name") in REQUEST_ENDS):
            texts = []
        elif kind == "user":
            intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
            texts.append(("" if intent == OTHERS else str(event.get("text") or ""), active is None))
    *earlier, latest = texts or [("", True)]
    kept = [latest[0], *[text for text, free in reversed(earlier) if free][: MAX_MESSAGES - 1]]
    return [text for text in kept if text and not text.startswith("/")]


def said_order_numbers(tracker: Tracker) -> list[str]:
    """Every order number of the current request without repeats: the latest message's first, in the order
    written, then those of earlier messages, newest first."""
    numbers: list[str] = []
    for text in request_texts(tracker):
        numbers += [n for n in find_order_numbers(text) if n not in numbers]
    return numbers


def said_contact(tracker: Tracker) -> str | None:
    """The newest message of this request holding an email or a phone number (an order number is no phone)."""
    for text in request_texts(tracker):
        if read_contact(text) is not None:
            return text
    return None


def clause_requests(text: str) -> dict[str, str]:
    """For each order number of a message naming several, what its own clause asks for, when it says
    ('where is 80000005? also I want to return 80000001' -> order_status, return)."""
    found: dict[str, str] = {}
    for clause in _CLAUSES.split(text.lower()):
        numbers = find_order_numbers(clause or "")
        wanted = next((name for name, words in CLAUSE_REQUESTS if re.search(words, clause or "")), None)
        for number in numbers:
            if wanted and number not in found:
                found[number] = wanted
    return found
