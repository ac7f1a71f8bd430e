"""Returns: eligibility per item, a restated plan, and filing only after an explicit yes."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PlatformAction, client, verified_order
from actions.text import bullet_list, day, money, payment_name
from bot.platform_client import PlatformRejected

REASON_BUTTONS = {
    "no_reason": {
        "title": "Return without a reason",
        "payload": '/choose_return_reason{"return_reason": "no_reason"}',
    },
    "quality": {
        "title": "Report a quality problem",
        "payload": '/choose_return_reason{"return_reason": "quality"}',
    },
}
NO_THANKS = {"title": "No, thanks", "payload": "/deny"}
HUMAN = {"title": "Talk to a person", "payload": "/human_agent"}
ISSUES = {
    "defective": "It's defective",
    "damaged_in_transit": "It arrived damaged",
    "not_as_described": "Not as described",
    "invalid_code": "The code doesn't work",
}
RETURN_SLOTS = ("return_reason", "quality_issue", "return_item_ids")


def _item_line(item: dict[str, Any]) -> str:
    nr, q = item["no_reason"], item["quality"]
    if nr["allowed"]:
        text = f"{item['name']}: can go back without a reason. {nr['reason']}"
        if nr["conditions"]:
            text += f" It must be {', '.join(nr['conditions'])}."
    else:
        text = f"{item['name']}: {nr['reason']}"
    if q["allowed"] and q["code"] != nr["code"]:
        text += f" Quality problem: {q['reason']}"
    elif not q["allowed"] and q["code"] not in (nr["code"], "not_delivered"):
        text += f" {q['reason']}"
    return text


def describe_eligibility(number: str, items: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """Says for each item whether it can go back and why, and offers the paths that are open."""
    text = f"Returns for order {number}:\n" + bullet_list([_item_line(i) for i in items])
    buttons = [REASON_BUTTONS[k] for k in ("no_reason", "quality") if any(i[k]["allowed"] for i in items)]
    if buttons:
        return text + "\nWould you like to start a return?", [*buttons, NO_THANKS]
    if any(i["quality"]["code"] == "quality_window_passed" for i in items):
        return text + "\nA person can help with a warranty repair.", [HUMAN]
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


def _ship_back(deadline: str | None) -> str:
    return f"Please send the items back by {day(deadline)}." if deadline else "Nothing needs to be sent back."


class ActionConfirmReturn(PlatformAction):
    """Restates exactly what a return would do (items, refund, ship-back date) and asks for a yes."""

    def name(self) -> str:
        return "action_confirm_return"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number = verified_order(tracker)
        reason = tracker.get_slot("return_reason")
        if number is None or reason not in REASON_BUTTONS:
            dispatcher.utter_message(response="utter_ask_which_order_first")
            return []
        items = await client().eligibility(number)
        if reason == "quality" and tracker.get_slot("quality_issue") not in ISSUES:
            virtual = all(i["quality"]["code"] == "invalid_code_only" for i in items if i["quality"]["allowed"])
            keys = ["invalid_code"] if virtual else ["defective", "damaged_in_transit", "not_as_described"]
            dispatcher.utter_message(
                response="utter_ask_quality_issue",
                buttons=[
                    {"title": ISSUES[k], "payload": f'/choose_quality_issue{{"quality_issue": "{k}"}}'} for k in keys
                ],
            )
            return []
        body = _plan_body(tracker, items)
        if not body["item_ids"]:
            dispatcher.utter_message(response="utter_return_nothing_eligible", buttons=[HUMAN])
            return [SlotSet(s, None) for s in RETURN_SLOTS]
        plan = await client().preview_return(number, body)
        names = ", ".join(i["name"] for i in plan["items"])
        dispatcher.utter_message(
            response="utter_confirm_return",
            order_number=number,
            items=names,
            amount=money(plan["refund_amount"], plan["currency"]),
            method=f"original payment method ({payment_name(plan['payment_method'])})",
            review_due=day(plan["review_due"]),
            expected=day(plan["expected_completion"]),
            ship_back=_ship_back(plan["ship_back_by"]),
        )
        return [SlotSet("return_item_ids", body["item_ids"])]


class ActionFileReturn(PlatformAction):
    """Files the confirmed return; the idempotency key makes a repeated yes return the same one."""

    def name(self) -> str:
        return "action_file_return"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number = verified_order(tracker)
        item_ids = tracker.get_slot("return_item_ids")
        if number is None or not item_ids:
            dispatcher.utter_message(response="utter_ask_which_order_first")
            return []
        body: dict[str, Any] = {"reason": tracker.get_slot("return_reason"), "item_ids": sorted(item_ids)}
        if body["reason"] == "quality":
            body["quality_issue"] = tracker.get_slot("quality_issue")
        key = f"{tracker.sender_id}:{number}:{body['reason']}:{','.join(map(str, body['item_ids']))}"
        try:
            filed = await client().create_return(number, body, key)
        except PlatformRejected as exc:
            if exc.code == "already_returned":
                existing = [r["number"] for r in await client().returns(number) if r["status"] != "rejected"]
                dispatcher.utter_message(response="utter_return_exists", returns=", ".join(existing))
            else:
                dispatcher.utter_message(response="utter_return_refused", reason=exc.message, buttons=[HUMAN])
            return [SlotSet(s, None) for s in RETURN_SLOTS]
        refund = filed["refund"]
        dispatcher.utter_message(
            response="utter_return_filed",
            return_number=filed["number"],
            refund_number=refund["number"],
            amount=money(refund["amount"], refund["currency"]),
            review_due=day(refund["review_due"]),
            expected=day(refund["expected_completion"]),
            ship_back=_ship_back(filed["ship_back_by"]),
        )
        return [SlotSet(s, None) for s in RETURN_SLOTS]
