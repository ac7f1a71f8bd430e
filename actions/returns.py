"""Returns: eligibility per item, a restated plan, and filing only after an explicit yes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlatformAction, client, human_button, language, verified_order
from actions.phrases import Lang, button, join, say, sentences
from actions.text import bullet_list, day, money, original_method
from bot.platform_client import PlatformRejected

REASONS = ("no_reason", "quality")
ISSUES = ("defective", "damaged_in_transit", "not_as_described", "invalid_code")
RETURN_SLOTS = ("return_reason", "quality_issue", "return_item_ids")


def reason_button(lang: Lang, reason: str) -> dict[str, str]:
    """'Return without a reason' or 'Report a quality problem', in the customer's language."""
    return button(lang, f"return_reason.{reason}", f'/choose_return_reason{{"return_reason": "{reason}"}}')


def issue_button(lang: Lang, issue: str) -> dict[str, str]:
    """What is wrong with the item: 'It's defective', '商品有缺陷', ..."""
    return button(lang, f"issue.{issue}", f'/choose_quality_issue{{"quality_issue": "{issue}"}}')


def _item_line(lang: Lang, item: dict[str, Any]) -> str:
    nr, q = item["no_reason"], item["quality"]
    parts: list[str] = []
    if nr["allowed"]:
        parts.append(say(lang, "return.item_allowed", name=item["name"], reason=nr["reason"]))
        if nr["conditions"]:
            parts.append(say(lang, "return.conditions", conditions=join(lang, nr["conditions"])))
    else:
        parts.append(say(lang, "return.item_refused", name=item["name"], reason=nr["reason"]))
    if q["allowed"] and q["code"] != nr["code"]:
        parts.append(say(lang, "return.quality", reason=q["reason"]))
    elif not q["allowed"] and q["code"] not in (nr["code"], "not_delivered"):
        parts.append(q["reason"])
    return sentences(lang, parts)


def describe_eligibility(lang: Lang, number: str, items: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """Says for each item whether it can go back and why, and offers the paths that are open."""
    text = say(lang, "return.head", number=number) + "\n" + bullet_list([_item_line(lang, i) for i in items])
    buttons = [reason_button(lang, k) for k in REASONS if any(i[k]["allowed"] for i in items)]
    if buttons:
        return f"{text}\n{say(lang, 'return.start')}", [*buttons, button(lang, "button.no_thanks", "/deny")]
    if any(i["quality"]["code"] == "quality_window_passed" for i in items):
        return f"{text}\n{say(lang, 'return.warranty')}", [human_button(lang)]
    return text, []


def _plan_body(tracker: Tracker, items: list[dict[str, Any]]) -> dict[str, Any]:
    reason = tracker.get_slot("return_reason")
    issue = tracker.get_slot("quality_issue") if reason == "quality" else None
    key = "no_reason" if reason == "no_reason" else "quality"
    virtual_ok = issue == "invalid_code"
    chosen = [
        i["item_id"]
        for i in items
        if i[key]["allowed"] and (i[key]["code"] != "invalid_code_only" or (reason == "quality" and virtual_ok))
    ]
    body: dict[str, Any] = {"reason": reason, "item_ids": chosen}
    if issue:
        body["quality_issue"] = issue
    return body


def _ship_back(lang: Lang, deadline: str | None) -> str:
    if deadline:
        return say(lang, "return.ship_back", date=day(lang, deadline))
    return say(lang, "return.nothing_to_send")


def valid_choice(tracker: Tracker, slot: str, valid: Iterable[str]) -> str | None:
    """The slot's value if it is one of `valid`; else a valid value among the latest message's entities
    (the classifier may tag a stray word first, as in '我改主意了' -> '我', 'no_reason')."""
    allowed = set(valid)
    value = tracker.get_slot(slot)
    if value in allowed:
        return str(value)
    entities = tracker.latest_message.get("entities") or []
    return next((str(e["value"]) for e in entities if e.get("entity") == slot and e.get("value") in allowed), None)


class ActionConfirmReturn(PlatformAction):
    """Restates exactly what a return would do (items, refund, ship-back date) and asks for a yes."""

    def name(self) -> str:
        return "action_confirm_return"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number, lang = verified_order(tracker), language(tracker)
        reason, issue = valid_choice(tracker, "return_reason", REASONS), valid_choice(tracker, "quality_issue", ISSUES)
        if number is None or reason is None:
            dispatcher.utter_message(response="utter_ask_which_order_first")
            return []
        chosen = {"return_reason": reason, "quality_issue": issue}
        fixed = [SlotSet(name, value) for name, value in chosen.items() if tracker.get_slot(name) != value]
        tracker.slots.update(chosen)
        items = await client(tracker).eligibility(number)
        if reason == "quality" and issue is None:
            virtual = all(i["quality"]["code"] == "invalid_code_only" for i in items if i["quality"]["allowed"])
            keys = ["invalid_code"] if virtual else ["defective", "damaged_in_transit", "not_as_described"]
            dispatcher.utter_message(response="utter_ask_quality_issue", buttons=[issue_button(lang, k) for k in keys])
            return fixed
        body = _plan_body(tracker, items)
        if not body["item_ids"]:
            dispatcher.utter_message(response="utter_return_nothing_eligible", buttons=[human_button(lang)])
            return [SlotSet(s, None) for s in RETURN_SLOTS]
        try:
            plan = await client(tracker).preview_return(number, body)
        except PlatformRejected as exc:  # e.g. a frozen account: only a person may file its returns
            dispatcher.utter_message(response="utter_return_refused", reason=exc.message, buttons=[human_button(lang)])
            return [SlotSet(s, None) for s in RETURN_SLOTS]
        dispatcher.utter_message(
            response="utter_confirm_return",
            order_number=number,
            items=join(lang, [i["name"] for i in plan["items"]]),
            amount=money(lang, plan["refund_amount"], plan["currency"]),
            method=original_method(lang, plan["payment_method"]),
            review_due=day(lang, plan["review_due"]),
            expected=day(lang, plan["expected_completion"]),
            ship_back=_ship_back(lang, plan["ship_back_by"]),
        )
        return [*fixed, SlotSet("return_item_ids", body["item_ids"])]


class ActionFileReturn(PlatformAction):
    """Files the confirmed return; the idempotency key makes a repeated yes return the same one."""

    def name(self) -> str:
        return "action_file_return"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number, lang = verified_order(tracker), language(tracker)
        item_ids = tracker.get_slot("return_item_ids")
        if number is None or not item_ids:
            dispatcher.utter_message(response="utter_ask_which_order_first")
            return []
        body: dict[str, Any] = {"reason": tracker.get_slot("return_reason"), "item_ids": sorted(item_ids)}
        if body["reason"] == "quality":
            body["quality_issue"] = tracker.get_slot("quality_issue")
        key = f"{tracker.sender_id}:{number}:{body['reason']}:{','.join(map(str, body['item_ids']))}"
        try:
            filed = await client(tracker).create_return(number, body, key)
        except PlatformRejected as exc:
            if exc.code == "already_returned":
                existing = [r["number"] for r in await client(tracker).returns(number) if r["status"] != "rejected"]
                dispatcher.utter_message(response="utter_return_exists", returns=join(lang, existing))
            else:
                dispatcher.utter_message(
                    response="utter_return_refused", reason=exc.message, buttons=[human_button(lang)]
                )
            return [SlotSet(s, None) for s in RETURN_SLOTS]
        refund = filed["refund"]
        dispatcher.utter_message(
            response="utter_return_filed",
            return_number=filed["number"],
            refund_number=refund["number"],
            amount=money(lang, refund["amount"], refund["currency"]),
            review_due=day(lang, refund["review_due"]),
            expected=day(lang, refund["expected_completion"]),
            ship_back=_ship_back(lang, filed["ship_back_by"]),
        )
        return [SlotSet(s, None) for s in RETURN_SLOTS]
