"""The actions of each flow against the real stub on loopback: exact events and messages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sanic import Sanic
from sanic.response import json

from actions.complaints import ActionFileComplaint
from actions.fallback import ActionFallback
from actions.handoff import ActionHandoff
from actions.logistics import ActionLogisticsRemedy
from actions.requests import ActionRetry, ActionSecureAccount, ActionServeRequest, ActionStartRequest
from actions.returns import ActionConfirmReturn, ActionFileReturn
from tests.botkit import make_tracker, run, user_turn
from tests.conftest import Platform
from tests.servers import serve as serve_app

pytestmark = pytest.mark.asyncio
OWNERS = {"li": "1", "zhang": "2", "wang": "3", "chen": "4", "liu": "5"}
OWNER_OF = {
    "80000001": "li", "80000002": "zhang", "80000003": "wang", "80000004": "wang", "80000005": "li",
    "80000006": "zhang", "80000007": "chen", "80000008": "chen", "80000009": "liu", "80000010": "liu",
    "80000011": "li", "80000012": "zhang", "80000013": "chen",
}  # fmt: skip
HUMAN = {"title": "Talk to a person", "payload": "/human_agent"}
RETRY = [{"title": "Try again", "payload": "/retry"}, HUMAN]


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


CLEAR_RETRY = slot("retry_action", None)


def verified(number: str, request: str, **slots: Any) -> dict[str, Any]:
    owner = OWNERS[OWNER_OF[number]]
    return {"request": request, "order_number": number, "order_owner_id": owner, "verified_customer_id": owner, **slots}


async def serve(number: str, request: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return await run(ActionServeRequest(), make_tracker(verified(number, request)))


# --- order lookup ------------------------------------------------------------------------------


async def test_order_lookup(bot_platform: Platform) -> None:
    messages, events = await serve("80000005", "order_status")
    assert messages == [
        {
            "text": "Order 80000005, placed 15 Nov 2026, is on its way.\n"
            "• Bluetooth speaker × 1: 329.00 CNY\n"
            "Total 337.00 CNY, paid by WeChat Pay on 15 Nov 2026. Ships to Shanghai.\n"
            "Shipment: ZTO Express, tracking number ZT7100000004: in transit, expected 20 Nov 2026. "
            "Latest scan: Departed the facility, Regional hub, 17 Nov 2026 12:00 UTC."
        }
    ]
    assert events == [CLEAR_RETRY]


async def test_cancelled_order_lookup(bot_platform: Platform) -> None:
    messages, _ = await serve("80000012", "order_status")
    assert "is cancelled" in messages[0]["text"]
    assert "Cancelled on 12 Nov 2026: Cancelled by the customer before payment" in messages[0]["text"]
    assert "Ships to" not in messages[0]["text"]


async def test_details_need_a_verified_owner(bot_platform: Platform) -> None:
    slots = {"request": "order_status", "order_number": "80000005", "order_owner_id": "1", "verified_customer_id": "2"}
    messages, events = await run(ActionServeRequest(), make_tracker(slots))
    assert messages == [{"response": "utter_cannot_verify", "buttons": [HUMAN]}]
    assert events == [CLEAR_RETRY, slot("handoff_reason", "verification_failed")]


# --- logistics ---------------------------------------------------------------------------------


async def test_tracking_lost_parcel_offers_the_remedies(bot_platform: Platform) -> None:
    messages, events = await serve("80000007", "track")
    assert messages == [
        {
            "text": "Order 80000007 (Mechanical keyboard), SF Express parcel SF7100000006: lost.\n"
            "• 8 Nov 2026 10:00 UTC: Picked up by the carrier (Shenzhen warehouse)\n"
            "• 8 Nov 2026 16:00 UTC: Departed the facility (Shenzhen sorting centre)\n"
            "• 9 Nov 2026 12:00 UTC: Departed the facility (Regional hub)\n"
            "• 10 Nov 2026 08:00 UTC: Departed the facility (Shenzhen sorting centre)\n"
            "• 17 Nov 2026 10:00 UTC: Declared lost by the carrier (Shenzhen delivery station)\n"
            "I'm very sorry. The carrier has declared the parcel lost.\n"
            "Here is what I can do:",
            "buttons": [
                {"title": "Send it again", "payload": '/choose_remedy{"remedy": "reship"}'},
                {"title": "Refund me", "payload": '/choose_remedy{"remedy": "refund"}'},
                HUMAN,
            ],
        }
    ]
    assert events == [CLEAR_RETRY, slot("handoff_reason", "parcel_lost")]


async def test_tracking_delay_gives_a_new_estimate(bot_platform: Platform) -> None:
    messages, events = await serve("80000006", "track")
    text = messages[0]["text"]
    assert "I'm sorry, your parcel is delayed. No scan for 4 days since 14 Nov 2026." in text
    assert "New estimated delivery: 21 Nov 2026." in text
    assert [b["title"] for b in messages[0]["buttons"]] == ["I'll wait", "Talk to a person"]
    assert events == [CLEAR_RETRY, slot("handoff_reason", "parcel_delayed")]


async def test_tracking_on_time_and_unshipped(bot_platform: Platform) -> None:
    messages, _ = await serve("80000005", "track")
    assert "Expected delivery: 20 Nov 2026." in messages[0]["text"] and "buttons" not in messages[0]
    messages, _ = await serve("80000011", "track")
    assert messages == [{"text": "Order 80000011 has not been handed to a carrier yet; tracking starts once it ships."}]


async def test_remedy_wait_and_reship(bot_platform: Platform) -> None:
    wait = make_tracker(verified("80000006", "track", remedy="wait"), intent="choose_remedy")
    messages, events = await run(ActionLogisticsRemedy(), wait)
    assert messages == [{"response": "utter_remedy_wait", "new_estimate": "21 Nov 2026"}]
    assert events == [CLEAR_RETRY, slot("remedy", None)]
    reship = make_tracker(verified("80000007", "track", remedy="reship"), intent="choose_remedy")
    messages, _ = await run(ActionLogisticsRemedy(), reship)
    assert messages == [
        {
            "response": "utter_remedy_filed",
            "ticket": "C70000001",
            "wanted": "a new parcel sent",
            "due": "19 Nov 2026 10:00 UTC",
        }
    ]
    again, _ = await run(ActionLogisticsRemedy(), reship)
    assert again == messages  # the same request twice files one ticket
    nothing_wrong = make_tracker(verified("80000005", "track", remedy="reship"))
    messages, _ = await run(ActionLogisticsRemedy(), nothing_wrong)
    assert messages[0]["response"] == "utter_remedy_not_available"


# --- returns -----------------------------------------------------------------------------------


async def test_eligibility_lists_each_item_and_the_open_paths(bot_platform: Platform) -> None:
    messages, _ = await serve("80000003", "return")
    assert messages == [
        {
            "text": "Returns for order 80000003:\n"
            "• Fresh mangoes 5 kg: Perishable food cannot be returned without a reason. Quality problem: A "
            "defective, damaged or not-as-described item can be returned or exchanged until 1 Dec 2026.\n"
            "Would you like to start a return?",
            "buttons": [
                {"title": "Report a quality problem", "payload": '/choose_return_reason{"return_reason": "quality"}'},
                {"title": "No, thanks", "payload": "/deny"},
            ],
        }
    ]
    messages, _ = await serve("80000001", "return")
    assert messages[0]["text"].count("can go back without a reason") == 2
    assert "which ends on 22 Nov 2026" in messages[0]["text"]
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "Return without a reason",
        "Report a quality problem",
        "No, thanks",
    ]


async def test_return_confirmation_restates_everything(bot_platform: Platform) -> None:
    tracker = make_tracker(verified("80000001", "return", return_reason="no_reason"), intent="choose_return_reason")
    messages, events = await run(ActionConfirmReturn(), tracker)
    assert messages == [
        {
            "response": "utter_confirm_return",
            "order_number": "80000001",
            "items": "Cotton T-shirt, Slim denim jeans",
            "amount": "338.00 CNY",
            "method": "original payment method (Alipay)",
            "review_due": "20 Nov 2026",
            "expected": "1 Dec 2026",
            "ship_back": "Please send the items back by 25 Nov 2026.",
        }
    ]
    assert events == [CLEAR_RETRY, slot("return_item_ids", [1, 2])]
    assert (await bot_platform.http.get("/api/v1/orders/80000001/returns")).status == 200
    assert (await (await bot_platform.http.get("/api/v1/orders/80000001/returns")).json())["returns"] == []


async def test_quality_return_first_asks_what_is_wrong(bot_platform: Platform) -> None:
    tracker = make_tracker(verified("80000004", "return", return_reason="quality"))
    messages, events = await run(ActionConfirmReturn(), tracker)
    assert messages == [
        {
            "response": "utter_ask_quality_issue",
            "buttons": [
                {"title": "The code doesn't work", "payload": '/choose_quality_issue{"quality_issue": "invalid_code"}'}
            ],
        }
    ]
    assert events == [CLEAR_RETRY]
    tracker = make_tracker(verified("80000004", "return", return_reason="quality", quality_issue="invalid_code"))
    messages, _ = await run(ActionConfirmReturn(), tracker)
    assert messages[0]["ship_back"] == "Nothing needs to be sent back."


async def test_a_return_the_platform_refuses_before_filing_is_explained_not_an_error(bot_platform: Platform) -> None:
    """A frozen account (after a security report): the plan is refused; the customer hears why, and gets a person."""
    frozen = await bot_platform.http.post("/api/v1/customers/1/freeze", json={"reason": "hacked"})
    assert frozen.status == 200
    tracker = make_tracker(verified("80000001", "return", return_reason="no_reason"), intent="choose_return_reason")
    messages, events = await run(ActionConfirmReturn(), tracker)
    assert messages == [
        {
            "response": "utter_return_refused",
            "reason": "The account is frozen; a human agent must handle returns.",
            "buttons": [HUMAN],
        }
    ]
    assert events[-3:] == [slot("return_reason", None), slot("quality_issue", None), slot("return_item_ids", None)]


async def test_filing_twice_files_one_return(bot_platform: Platform) -> None:
    slots = verified("80000001", "return", return_reason="no_reason", return_item_ids=[1, 2])
    messages, events = await run(ActionFileReturn(), make_tracker(slots, "yes", "affirm"))
    filed = dict(messages[0])
    assert re.fullmatch(r"R5\d{7}", filed.pop("return_number"))
    assert re.fullmatch(r"F6\d{7}", filed.pop("refund_number"))
    assert filed == {
        "response": "utter_return_filed",
        "amount": "338.00 CNY",
        "review_due": "20 Nov 2026",
        "expected": "1 Dec 2026",
        "ship_back": "Please send the items back by 25 Nov 2026.",
    }
    assert events == [
        CLEAR_RETRY,
        slot("return_reason", None),
        slot("quality_issue", None),
        slot("return_item_ids", None),
    ]
    again, _ = await run(ActionFileReturn(), make_tracker(slots, "yes", "affirm"))
    assert again == messages
    other_conversation, _ = await run(ActionFileReturn(), make_tracker(slots, "yes", "affirm", sender="conv-2"))
    number = messages[0]["return_number"]
    assert other_conversation == [{"response": "utter_return_exists", "returns": number}]
    returns = (await (await bot_platform.http.get("/api/v1/orders/80000001/returns")).json())["returns"]
    assert [r["number"] for r in returns] == [number]


async def test_nothing_eligible_for_the_reason(bot_platform: Platform) -> None:
    tracker = make_tracker(verified("80000003", "return", return_reason="no_reason"))
    messages, events = await run(ActionConfirmReturn(), tracker)
    assert messages == [{"response": "utter_return_nothing_eligible", "buttons": [HUMAN]}]
    assert events[-3:] == [slot("return_reason", None), slot("quality_issue", None), slot("return_item_ids", None)]


# --- refunds -----------------------------------------------------------------------------------


async def test_refund_under_review(bot_platform: Platform) -> None:
    messages, events = await serve("80000008", "refund")
    assert messages == [
        {
            "text": "Refund F60000008 of 899.00 CNY for order 80000008 is under review.\n"
            "• requested: 17 Nov 2026 10:00 UTC\n"
            "• under review: 17 Nov 2026 10:05 UTC\n"
            "The review finishes by 19 Nov 2026 10:00 UTC (48 hours at most); once approved, the money is back "
            "on your original payment method (bank card) within 7 working days, by 30 Nov 2026 at the latest."
        }
    ]
    assert events == [CLEAR_RETRY]


async def test_refund_processing_completed_and_rejected(bot_platform: Platform) -> None:
    processing, _ = await serve("80000009", "refund")
    assert "• approved: 16 Nov 2026 10:00 UTC" in processing[0]["text"]
    assert "by 25 Nov 2026 (7 working days after approval)" in processing[0]["text"]
    completed, _ = await serve("80000010", "refund")
    assert "on 7 Nov 2026" in completed[0]["text"]
    rejected, events = await serve("80000013", "refund")
    assert "Reason: The photos show the item was worn" in rejected[0]["text"]
    assert rejected[0]["buttons"] == [{"title": "Appeal with a person", "payload": "/human_agent"}]
    assert events == [CLEAR_RETRY, slot("handoff_reason", "refund_appeal")]


async def test_no_refund_offers_a_return(bot_platform: Platform) -> None:
    messages, _ = await serve("80000005", "refund")
    assert messages[0]["text"].startswith("There is no refund on order 80000005.")


# --- complaints, security, handoff -------------------------------------------------------------


async def test_complaint_is_filed_with_its_due_time(bot_platform: Platform) -> None:
    slots = verified("80000006", "complaint", complaint_category="delivery", complaint_description="Still waiting.")
    messages, events = await run(ActionFileComplaint(), make_tracker(slots))
    assert messages == [
        {
            "response": "utter_complaint_filed",
            "ticket": "C70000001",
            "category": "delivery",
            "due": "20 Nov 2026 10:00 UTC",
        }
    ]
    assert events == [CLEAR_RETRY, slot("complaint_category", None), slot("complaint_description", None)]


async def test_security_freezes_files_and_hands_off_urgently(bot_platform: Platform) -> None:
    history = [user_turn("security_issue", "someone hacked my account")]
    tracker = make_tracker(verified("80000001", "security"), "li.wei@example.com", history=history)
    messages, events = await run(ActionSecureAccount(), tracker)
    assert messages[0] == {"response": "utter_account_frozen", "ticket": "C70000001"}
    assert messages[1] == {"response": "utter_handoff_urgent"}
    handoff = messages[2]["custom"]["handoff"]
    assert (handoff["reason"], handoff["priority"], handoff["skill"]) == ("security", "urgent", "security")
    assert events[-1] == {"event": "pause", "timestamp": None}
    customer = await (await bot_platform.http.get("/api/v1/customers/1")).json()
    assert customer["account_status"] == "frozen"
    ticket = await (await bot_platform.http.get("/api/v1/complaints/C70000001")).json()
    assert (ticket["severity"], ticket["description"]) == ("urgent", "someone hacked my account")


async def test_handoff_signal(bot_platform: Platform) -> None:
    history = [user_turn("order_status", "where is 80000005"), user_turn("inform", "li.wei@example.com")]
    slots = verified("80000005", "track", handoff_reason="parcel_lost")
    messages, events = await run(
        ActionHandoff(), make_tracker(slots, "a person please", "human_agent", history=history)
    )
    assert messages == [
        {"response": "utter_handoff"},
        {
            "custom": {
                "handoff": {
                    "reason": "parcel_lost",
                    "priority": "high",
                    "skill": "logistics",
                    "summary": "Intents: order_status, inform, human_agent. Order: 80000005. "
                    "Verified: yes, customer 1. Slots: request=track.",
                    "order_number": "80000005",
                    "summary_zh": "意图：order_status, inform, human_agent。订单：80000005。"
                    "已验证：是，客户1。请求：查询物流。",
                }
            }
        },
    ]
    assert events == [
        {"event": "active_loop", "name": None, "timestamp": None},
        slot("requested_slot", None),
        slot("handoff_reason", None),
        {"event": "pause", "timestamp": None},
    ]


async def test_plain_request_for_a_person() -> None:
    messages, _ = await run(ActionHandoff(), make_tracker({}, "human", "human_agent"))
    assert messages[1]["custom"]["handoff"] == {
        "reason": "customer_request",
        "priority": "normal",
        "skill": "general",
        "summary": "Intents: human_agent. Order: none. Verified: no.",
        "order_number": None,
        "summary_zh": "意图：human_agent。订单：无。已验证：否。",
    }


async def test_angry_customer_is_handed_off_with_high_priority() -> None:
    messages, _ = await run(ActionHandoff(), make_tracker({}, "you are useless", "angry"))
    handoff = messages[1]["custom"]["handoff"]
    assert (handoff["reason"], handoff["priority"], handoff["skill"]) == ("angry_customer", "high", "complaints")


# --- fallback, failures and retry --------------------------------------------------------------


async def test_two_stage_fallback() -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "refund_status", "confidence": 0.3}]
    first = make_tracker({}, "blorp money", "nlu_fallback", ranking=ranking, history=[user_turn("greet", "hi")])
    messages, events = await run(ActionFallback(), first)
    assert messages == [
        {
            "response": "utter_fallback_rephrase",
            "buttons": [
                {"title": "Where is my refund", "payload": "/refund_status"},
                {"title": "Check an order", "payload": "/order_status"},
                {"title": "Track a parcel", "payload": "/track_shipment"},
                HUMAN,
            ],
        }
    ]
    assert events == []
    second = make_tracker({}, "flibber", "nlu_fallback", history=[user_turn("nlu_fallback", "blorp")])
    messages, events = await run(ActionFallback(), second)
    assert messages == [
        {"response": "utter_fallback_offer_human", "buttons": [HUMAN, {"title": "No, thanks", "payload": "/deny"}]},
        {"custom": {"fallback": {"misses": 2}}},
    ]
    assert events == [slot("handoff_reason", "fallback")]


async def test_a_third_miss_in_a_row_hands_off() -> None:
    """Clearly stuck: the bot hands off itself, with the reason `fallback`."""
    history = [user_turn("nlu_fallback", "blorp"), user_turn("nlu_fallback", "flibber")]
    messages, events = await run(ActionFallback(), make_tracker({}, "zorp", "nlu_fallback", history=history))
    assert messages[0] == {"custom": {"fallback": {"misses": 3}}}
    assert messages[1] == {"response": "utter_handoff"}
    assert messages[2]["custom"]["handoff"]["reason"] == "fallback"
    assert {"event": "pause", "timestamp": None} in events


async def test_out_of_scope_is_answered_honestly_and_never_offers_a_person() -> None:
    history = [user_turn("nlu_fallback", "blorp"), user_turn("out_of_scope", "tell me a joke")]
    tracker = make_tracker({}, "what's the weather", "out_of_scope", history=history)
    messages, events = await run(ActionFallback(), tracker)
    assert [m.get("response") for m in messages] == ["utter_out_of_scope"]
    assert HUMAN in messages[0]["buttons"]
    assert events == []
    # small talk between two misses breaks the count: no offer, no handoff
    history = [user_turn("nlu_fallback", "blorp"), user_turn("out_of_scope", "what's the weather")]
    messages, _ = await run(ActionFallback(), make_tracker({}, "flibber", "nlu_fallback", history=history))
    assert [m.get("response") for m in messages] == ["utter_fallback_rephrase"]


async def test_a_message_answered_as_not_understood_counts_as_a_miss_whatever_its_intent() -> None:
    """A stray "affirm" with nothing to affirm, answered by the fallback, was a miss for the customer too."""
    answered = [user_turn("affirm", "aaaaa"), {"event": "action", "name": "action_fallback"}]
    messages, _ = await run(ActionFallback(), make_tracker({}, "uhhh", "nlu_fallback", history=answered))
    assert messages[0]["response"] == "utter_fallback_offer_human"
    # the same intent answered by a dialogue path is not a miss
    served = [user_turn("affirm", "yes"), {"event": "action", "name": "utter_anything_else"}]
    messages, _ = await run(ActionFallback(), make_tracker({}, "uhhh", "nlu_fallback", history=served))
    assert messages[0]["response"] == "utter_fallback_rephrase"


async def test_a_miss_with_an_order_number_keeps_the_number_for_the_chosen_flow() -> None:
    text = "yo so my cousin said 80000005 is stuck or smth??"
    messages, _ = await run(ActionFallback(), make_tracker({}, text, "nlu_fallback"))
    assert messages[0]["response"] == "utter_fallback_order"
    assert messages[0]["order_number"] == "80000005"
    pressed = make_tracker({}, "/track_shipment", "track_shipment", history=[user_turn("nlu_fallback", text)])
    _, events = await run(ActionStartRequest(), pressed)
    assert slot("order_number", "80000005") in events
    assert slot("request", "track") in events


async def test_platform_down_keeps_state_and_retry_resumes(
    bot_platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATFORM_URL", "http://127.0.0.1:9")
    slots = verified("80000005", "order_status")
    messages, events = await run(ActionServeRequest(), make_tracker(slots))
    assert messages == [{"response": "utter_platform_down", "buttons": RETRY}]
    assert events == [slot("retry_action", "action_serve_request")]  # no other slot touched
    monkeypatch.setenv("PLATFORM_URL", bot_platform.url)
    messages, events = await run(ActionRetry(), make_tracker({**slots, "retry_action": "action_serve_request"}))
    assert messages[0]["text"].startswith("Order 80000005")
    assert events == [CLEAR_RETRY]


async def test_platform_5xx_is_reported_like_an_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = Sanic("broken_platform")

    @broken.route("/<path:path>", methods=["GET", "POST"])
    async def fail(request: Any, path: str) -> Any:
        return json({"error": {"code": "internal_error"}}, status=503)

    async with serve_app(broken) as url:
        monkeypatch.setenv("PLATFORM_URL", url)
        messages, events = await run(ActionServeRequest(), make_tracker(verified("80000005", "track")))
    assert messages == [{"response": "utter_platform_down", "buttons": RETRY}]
    assert events == [slot("retry_action", "action_serve_request")]


async def test_retry_with_nothing_to_retry() -> None:
    messages, events = await run(ActionRetry(), make_tracker({}, "try again", "retry"))
    assert messages == [{"response": "utter_nothing_to_retry"}] and events == []
