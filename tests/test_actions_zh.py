"""The actions in Chinese: reading Chinese text, writing Chinese texts, dates and money; the stub on loopback."""

from __future__ import annotations

import re
from string import Formatter
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import base
from actions.complaints import ActionFileComplaint, ValidateComplaintForm, category_from_text
from actions.fallback import ActionFallback
from actions.handoff import ActionHandoff
from actions.identity import ValidateOrderForm
from actions.logistics import ActionLogisticsRemedy
from actions.phrases import PHRASES
from actions.requests import ActionServeRequest, ActionStartRequest
from actions.returns import ActionConfirmReturn, ActionFileReturn
from actions.text import day, find_order_number, has_malformed_number, mask_phone, moment, money, read_contact
from bot import platform_client
from tests.botkit import domain, make_tracker, run, said, user_turn
from tests.conftest import Platform
from tests.test_actions_flows import CLEAR_RETRY, slot, verified

ZH = {"language": "zh"}
HUMAN_ZH = {"title": "转人工客服", "payload": "/human_agent"}
# Words of the English texts the actions compose: none may show up in a Chinese answer.
ENGLISH = re.compile(r"\b(Order|Total|Ships to|Shipment|expected|Latest scan|paid by|Refund|Returns for|Reason)\b")


def zh(number: str, request: str, **slots: Any) -> dict[str, Any]:
    return {**verified(number, request, **slots), **ZH}


async def serve(number: str, request: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return await run(ActionServeRequest(), make_tracker(zh(number, request)))


def titles(message: dict[str, Any]) -> list[str]:
    return [b["title"] for b in message["buttons"]]


# --- the catalogue -----------------------------------------------------------------------------


def test_every_phrase_has_both_languages_with_the_same_placeholders() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in Formatter().parse(text) if name}

    for key, phrase in PHRASES.items():
        assert set(phrase) == {"en", "zh"}, key
        assert fields(phrase["en"]) == fields(phrase["zh"]), key
        assert not re.search("[A-Za-z]", re.sub(r"\{\w+\}", "", phrase["zh"])), key  # no English left in Chinese


# --- reading Chinese text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("订单80000001还没到", "80000001"),
        ("訂單80000001還沒到", "80000001"),  # traditional
        ("订单８０００００１２怎么样了", "80000012"),  # full-width digits
        ("订单号：80000001", "80000001"),
        ("单号80000001的快递", "80000001"),
        ("我的订单#80000005。", "80000005"),
        ("查一下80000005", "80000005"),
        ("a@80000001.com", None),
        ("我的邮箱是a80000001@qq.com", None),
        ("订单800000012还没到", None),  # 9 digits
        ("x80000001", None),
    ],
)
def test_order_numbers_next_to_chinese(text: str, number: str | None) -> None:
    assert find_order_number(text) == number


def test_a_wrong_length_after_chinese_is_malformed() -> None:
    assert has_malformed_number("订单800000012还没到") and has_malformed_number("单号8000001")
    assert not has_malformed_number("我的订单还没到")


@pytest.mark.parametrize(
    ("text", "contact"),
    [
        ("我的邮箱是li.wei@example.com", ("email", "li.wei@example.com")),
        ("邮箱：li.wei@example.com，谢谢", ("email", "li.wei@example.com")),
        ("我的電郵是li.wei@example.com。", ("email", "li.wei@example.com")),
        ("手机13800001001", ("phone", "13800001001")),
        ("手机号码：+86 138 0000 1001", ("phone", "+86 138 0000 1001")),
        ("不知道", None),
    ],
)
def test_contacts_inside_chinese(text: str, contact: tuple[str, str] | None) -> None:
    assert read_contact(text) == contact


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("质量问题", "product_quality"),
        ("东西坏了", "product_quality"),
        ("質量很差", "product_quality"),  # traditional
        ("快递太慢了", "delivery"),
        ("物流一直不更新", "delivery"),
        ("送货的时候", "delivery"),
        ("快递员态度很差", "delivery"),
        ("客服态度不好", "service_attitude"),
        ("服務態度太差", "service_attitude"),
        ("退款一直没到账", "refund"),
        ("我的账号被盗了", "fraud_security"),
        ("遇到诈骗", "fraud_security"),
        ("被盜號了", "fraud_security"),
        ("其他问题", "other"),
        ("商品质量", "product_quality"),  # the Chinese button titles, typed
        ("物流配送", "delivery"),
        ("服务态度", "service_attitude"),
        ("账户安全", "fraud_security"),
        ("嗯", None),
    ],
)
def test_complaint_categories_in_chinese(text: str, category: str | None) -> None:
    assert category_from_text(text) == category


async def test_the_complaint_form_reads_a_chinese_category() -> None:
    tracker = make_tracker({**ZH, "requested_slot": "complaint_category"}, "快递", "complaint")
    got = await ValidateComplaintForm().extract_complaint_category(CollectingDispatcher(), tracker, domain())
    assert got == {"complaint_category": "delivery"}
    told = make_tracker({**ZH, "requested_slot": "complaint_category"}, "快递员把包裹直接扔在门口了", "complaint")
    got = await ValidateComplaintForm().extract_complaint_category(CollectingDispatcher(), told, domain())
    assert got == {"complaint_category": "delivery", "complaint_description": "快递员把包裹直接扔在门口了"}


async def test_the_complaint_form_leaves_a_request_for_a_person_to_its_rule() -> None:
    asked = {"requested_slot": "complaint_category"}
    for text, intent in (
        ("I want to talk to a real agent", "human_agent"),
        ("客服态度太差了我要找人工", "human_agent"),
    ):
        tracker = make_tracker(asked, text, intent)
        assert await ValidateComplaintForm().extract_complaint_category(CollectingDispatcher(), tracker, domain()) == {}


async def test_the_complaints_first_message_never_reads_as_a_security_report() -> None:
    """Only the security intent or the question's answer freezes an account, not words of the complaint."""
    history = [user_turn("complaint", "I want to complain, somebody scammed me with a fake product")]
    tracker = make_tracker({}, "li.wei@example.com", "inform", history=history)
    got = await ValidateComplaintForm().extract_complaint_category(CollectingDispatcher(), tracker, domain())
    assert got == {}
    served = [*history, {"event": "action", "name": "action_file_complaint"}]
    tracker = make_tracker({}, "80000001", "inform", history=served)
    assert await ValidateComplaintForm().extract_complaint_category(CollectingDispatcher(), tracker, domain()) == {}


async def test_a_chinese_request_keeps_its_order_number() -> None:
    _, events = await run(ActionStartRequest(), make_tracker(ZH, "订单80000001还没到", "track_shipment"))
    assert events[:2] == [slot("request", "track"), slot("order_number", "80000001")]


# --- writing: dates, money, masks --------------------------------------------------------------


def test_dates_money_and_masks_in_both_languages() -> None:
    assert day("zh", "2026-11-25") == "2026年11月25日" and day("en", "2026-11-25") == "25 Nov 2026"
    assert day("zh", "2026-11-05T10:00:00Z") == "2026年11月5日" and day("zh", None) == "未知"
    assert moment("zh", "2026-11-25T10:05:00Z") == "2026年11月25日 10:05（UTC）"
    assert moment("en", "2026-11-25T10:05:00Z") == "25 Nov 2026 10:05 UTC"
    assert money("zh", "338.00") == "¥338.00" and money("en", "338.00") == "338.00 CNY"
    assert money("zh", "10.00", "USD") == "10.00 USD"
    assert mask_phone("zh", "+86 138 0000 1234") == "尾号1234的手机"
    assert mask_phone("en", "+86 138 0000 1234") == "the phone ending 1234"


async def test_the_platform_is_asked_in_the_conversations_language(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def fake(env: Any = None, language: str = "en") -> Any:
        asked.append(language)
        return platform_client.PlatformClient("http://127.0.0.1:9", "key", language=language)

    monkeypatch.setattr(platform_client, "client_from_env", fake)
    base.client(make_tracker(ZH))
    base.client(make_tracker({"language": "zh-Hant"}))
    base.client(make_tracker())
    assert asked == ["zh", "zh", "en"]


# --- answers composed by the actions -----------------------------------------------------------


async def test_order_lookup_in_chinese(bot_platform: Platform) -> None:
    messages, events = await serve("80000005", "order_status")
    text = messages[0]["text"]
    lines = text.split("\n")
    assert lines[0] == "订单80000005于2026年11月15日下单，正在配送途中。"
    assert lines[1].startswith("• ") and lines[1].endswith(" × 1：¥329.00")
    assert lines[2].startswith("合计¥337.00，于2026年11月15日用微信支付付款，寄往")
    assert lines[3].startswith("包裹：") and "：运输中，预计2026年11月20日送达。最新扫描：" in lines[3]
    assert lines[3].endswith("2026年11月17日 12:00（UTC）。")
    assert not ENGLISH.search(text)
    assert events == [CLEAR_RETRY]


async def test_cancelled_order_in_chinese(bot_platform: Platform) -> None:
    messages, _ = await serve("80000012", "order_status")
    assert "已取消" in messages[0]["text"] and "已于2026年11月12日取消：" in messages[0]["text"]
    assert "寄往" not in messages[0]["text"]


async def test_tracking_in_chinese_offers_chinese_remedies(bot_platform: Platform) -> None:
    messages, events = await serve("80000007", "track")
    lines = messages[0]["text"].split("\n")
    assert lines[0].startswith("订单80000007（机械键盘），") and lines[0].endswith("SF7100000006：已丢失。")
    assert lines[1].startswith("• 2026年11月8日 10:00（UTC）：")
    assert lines[6].startswith("非常抱歉。") and lines[-1] == "我可以为您这样处理："
    assert titles(messages[0]) == ["重新发货", "给我退款", "转人工客服"]
    assert events == [CLEAR_RETRY, slot("handoff_reason", "parcel_lost")]
    delayed, _ = await serve("80000006", "track")
    assert "很抱歉，您的包裹延误了。" in delayed[0]["text"]
    assert "新的预计送达日期：2026年11月21日。" in delayed[0]["text"]
    assert titles(delayed[0]) == ["我再等等", "转人工客服"]
    unshipped, _ = await serve("80000011", "track")
    assert unshipped == [{"text": "订单80000011还没有交给快递公司；发货后即可查询物流。"}]


async def test_remedies_in_chinese(bot_platform: Platform) -> None:
    wait = make_tracker(zh("80000006", "track", remedy="wait"), intent="choose_remedy")
    messages, _ = await run(ActionLogisticsRemedy(), wait)
    assert messages == [{"response": "utter_remedy_wait", "new_estimate": "2026年11月21日"}]
    reship = make_tracker(zh("80000007", "track", remedy="reship"), intent="choose_remedy")
    messages, _ = await run(ActionLogisticsRemedy(), reship)
    assert messages == [
        {
            "response": "utter_remedy_filed",
            "ticket": "C70000001",
            "wanted": "补发新包裹",
            "due": "2026年11月19日 10:00（UTC）",
        }
    ]
    ticket = await (await bot_platform.http.get("/api/v1/complaints/C70000001")).json()
    assert ticket["description"].startswith("包裹丢失：") and ticket["description"].endswith("客户要求补发新包裹。")


async def test_return_eligibility_and_buttons_in_chinese(bot_platform: Platform) -> None:
    messages, _ = await serve("80000001", "return")
    text = messages[0]["text"]
    assert text.startswith("订单80000001的退货情况：\n• ")
    assert text.count("：可以无理由退货。") == 2 and text.endswith("\n要开始办理退货吗？")
    assert titles(messages[0]) == ["无理由退货", "反馈质量问题", "不用了，谢谢"]
    assert not ENGLISH.search(text)


async def test_a_stray_word_tagged_before_the_reason_is_passed_over(bot_platform: Platform) -> None:
    """'我改主意了' may come back as two entities, '我' first: the valid one is the reason."""
    entities = [
        {"entity": "return_reason", "value": "我", "start": 0, "end": 1},
        {"entity": "return_reason", "value": "no_reason", "start": 1, "end": 5},
    ]
    slots = zh("80000001", "return", return_reason="我")
    tracker = make_tracker(slots, "我改主意了", "choose_return_reason", entities=entities)
    messages, events = await run(ActionConfirmReturn(), tracker)
    assert messages[0]["response"] == "utter_confirm_return"
    assert slot("return_reason", "no_reason") in events


async def test_return_plan_is_restated_in_chinese(bot_platform: Platform) -> None:
    tracker = make_tracker(zh("80000001", "return", return_reason="no_reason"), intent="choose_return_reason")
    messages, events = await run(ActionConfirmReturn(), tracker)
    plan = dict(messages[0])
    assert len(plan.pop("items").split("、")) == 2
    assert plan == {
        "response": "utter_confirm_return",
        "order_number": "80000001",
        "amount": "¥338.00",
        "method": "原支付方式（支付宝）",
        "review_due": "2026年11月20日",
        "expected": "2026年12月1日",
        "ship_back": "请在2026年11月25日前寄回商品。",
    }
    assert events == [CLEAR_RETRY, slot("return_item_ids", [1, 2])]
    filed, _ = await run(
        ActionFileReturn(), make_tracker(zh("80000001", "return", return_reason="no_reason", return_item_ids=[1, 2]))
    )
    assert (filed[0]["amount"], filed[0]["expected"]) == ("¥338.00", "2026年12月1日")


async def test_quality_issues_are_asked_in_chinese(bot_platform: Platform) -> None:
    messages, _ = await run(ActionConfirmReturn(), make_tracker(zh("80000004", "return", return_reason="quality")))
    assert titles(messages[0]) == ["兑换码无法使用"]
    tracker = make_tracker(zh("80000004", "return", return_reason="quality", quality_issue="invalid_code"))
    messages, _ = await run(ActionConfirmReturn(), tracker)
    assert messages[0]["ship_back"] == "无需寄回任何商品。"


async def test_refunds_in_chinese(bot_platform: Platform) -> None:
    messages, _ = await serve("80000008", "refund")
    assert messages == [
        {
            "text": "订单80000008的退款F60000008（¥899.00）正在审核。\n"
            "• 已提交申请：2026年11月17日 10:00（UTC）\n"
            "• 正在审核：2026年11月17日 10:05（UTC）\n"
            "审核将在2026年11月19日 10:00（UTC）前完成（最长48小时）；批准后，款项将在7个工作日内退回您的"
            "原支付方式（银行卡），最晚2026年11月30日到账。"
        }
    ]
    rejected, events = await serve("80000013", "refund")
    assert "\n原因：" in rejected[0]["text"] and titles(rejected[0]) == ["找人工客服申诉"]
    assert events == [CLEAR_RETRY, slot("handoff_reason", "refund_appeal")]
    none, _ = await serve("80000005", "refund")
    assert none[0]["text"].startswith("订单80000005没有退款。") and titles(none[0]) == ["退货"]


async def test_complaint_filed_in_chinese(bot_platform: Platform) -> None:
    slots = zh("80000006", "complaint", complaint_category="delivery", complaint_description="快递一直没到。")
    messages, _ = await run(ActionFileComplaint(), make_tracker(slots))
    assert messages == [
        {
            "response": "utter_complaint_filed",
            "ticket": "C70000001",
            "category": "物流配送",
            "due": "2026年11月20日 10:00（UTC）",
        }
    ]


async def test_handoff_summary_in_both_languages_for_a_chinese_customer(bot_platform: Platform) -> None:
    history = [user_turn("order_status", "我的订单80000005到哪了"), user_turn("inform", "li.wei@example.com")]
    slots = zh("80000005", "return", return_reason="no_reason", handoff_reason="parcel_lost")
    messages, _ = await run(ActionHandoff(), make_tracker(slots, "转人工", "human_agent", history=history))
    handoff = messages[1]["custom"]["handoff"]
    assert handoff["summary"] == (
        "Intents: order_status, inform, human_agent. Order: 80000005. Verified: yes, customer 1. "
        "Slots: request=return, return_reason=no_reason. The customer writes Chinese."
    )
    assert handoff["summary_zh"] == (
        "意图：order_status, inform, human_agent。订单：80000005。已验证：是，客户1。"
        "请求：退货；退货原因：无理由退货。客户使用中文。"
    )


async def test_fallback_and_outage_buttons_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "refund_status", "confidence": 0.3}]
    messages, _ = await run(ActionFallback(), make_tracker(ZH, "啊啊", "nlu_fallback", ranking=ranking))
    assert titles(messages[0]) == ["我的退款到哪了", "查询订单", "查询物流", "转人工客服"]
    second = make_tracker(ZH, "嗯嗯啊", "nlu_fallback", history=[user_turn("nlu_fallback", "啊")])
    messages, _ = await run(ActionFallback(), second)
    assert titles(messages[0]) == ["转人工客服", "不用了，谢谢"]
    monkeypatch.setenv("PLATFORM_URL", "http://127.0.0.1:9")
    messages, _ = await run(ActionServeRequest(), make_tracker(zh("80000005", "order_status")))
    assert messages == [
        {"response": "utter_platform_down", "buttons": [{"title": "重试", "payload": "/retry"}, HUMAN_ZH]}
    ]


# --- verification in Chinese -------------------------------------------------------------------


async def check_contact(text: str, slots: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    at = {**ZH, "order_number": "80000001", "order_owner_id": "1", "requested_slot": "contact", **(slots or {})}
    dispatcher = CollectingDispatcher()
    result = await ValidateOrderForm().validate_contact(text, dispatcher, make_tracker(at, text), domain())
    return result, said(dispatcher)


@pytest.mark.parametrize(
    ("text", "masked"),
    [("我的邮箱是li.wei@example.com", "l***@example.com"), ("手机13800001001", "尾号1001的手机")],
)
async def test_contacts_written_in_chinese_verify(bot_platform: Platform, text: str, masked: str) -> None:
    result, messages = await check_contact(text)
    assert result["verified_customer_id"] == "1" and result["contact"] == masked
    assert messages[0] == {"response": "utter_verified", "contact": masked}


async def test_a_wrong_phone_is_masked_in_chinese(bot_platform: Platform) -> None:
    result, messages = await check_contact("手机13900002002")
    assert messages == [{"response": "utter_verification_failed", "contact": "尾号2002的手机", "tries_left": 2}]
    assert result == {"contact": None, "verify_attempts": 1.0, "pending_answer": None, "offered_contact": None}
