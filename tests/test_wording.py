"""Real customers' wording, played through the gateway's customer API against the real Rasa stack: general
questions without an order, small talk, numbers and contacts given early or in passing, two requests at
once, corrections, complaint categories in words, frustration, the offer of a person, others' data."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway
from tests.stack import Stack
from tests.test_gateway import Customer, call, open_conversation, say, texts

pytestmark = pytest.mark.asyncio
ASKS_NUMBER = "What is the order number"
ASKS_CONTACT = "email address or phone number on order"


def said(reply: dict[str, Any]) -> str:
    return "\n".join(texts(reply))


def buttons(reply: dict[str, Any]) -> list[str]:
    return [b["payload"] for m in reply["messages"] for b in m.get("buttons") or []]


async def conversation(gw: Gateway, *messages: str) -> tuple[Customer, dict[str, Any]]:
    c = await open_conversation(gw)
    reply: dict[str, Any] = {}
    for text in messages:
        reply = await say(gw, c, text)
    return c, reply


async def test_general_questions_get_the_policy_without_an_order(gw: Gateway) -> None:
    _, reply = await conversation(gw, "roughly how many days before a refund shows up, generally?")
    assert "7 working days" in said(reply) and ASKS_NUMBER not in said(reply)
    c, reply = await conversation(gw, "I'd like to send an item back")
    assert ASKS_NUMBER in said(reply), said(reply)
    reply = await say(gw, c, "I don't have an order, I'm just asking about the policy")
    assert "within 7 days of delivery" in said(reply), said(reply)
    reply = await say(gw, c, "ok thanks")
    assert ASKS_NUMBER not in said(reply)  # the form ended


async def test_small_talk_is_answered_honestly_and_never_queued(gw: Gateway) -> None:
    c, reply = await conversation(gw, "cheer me up with a joke")
    assert "outside what I can help with" in said(reply), said(reply)
    reply = await say(gw, c, "what's the weather like tomorrow?")
    assert "outside what I can help with" in said(reply) and reply["status"] == "bot"
    reply = await say(gw, c, "are you single?")
    assert reply["status"] == "bot"


async def test_a_number_in_a_message_not_understood_is_used_after_the_button(gw: Gateway) -> None:
    c, reply = await conversation(gw, "blorp zorp 80000005 flibber")
    flows = [b for b in buttons(reply) if b != "/human_agent"]
    assert "80000005" in said(reply) and flows, said(reply)
    reply = await say(gw, c, flows[0])
    answer = said(reply)
    assert ASKS_NUMBER not in answer and (ASKS_CONTACT in answer or "Which order" not in answer), answer
    assert "80000005" in answer, answer


async def test_a_contact_given_before_it_is_asked_is_used(gw: Gateway) -> None:
    _, reply = await conversation(gw, "hi, my email is li.wei@example.com, where is my order 80000005?")
    assert "that matches" in said(reply) and "Bluetooth" in said(reply), said(reply)
    c, reply = await conversation(gw, "li.wei@example.com here. where is my parcel?")
    assert ASKS_NUMBER in said(reply), said(reply)
    reply = await say(gw, c, "80000005")
    assert "that matches" in said(reply) and ASKS_CONTACT not in said(reply), said(reply)


async def test_two_requests_in_one_message_are_both_served(gw: Gateway) -> None:
    c, reply = await conversation(gw, "where is 80000005? also I want to return 80000001")
    reply = await say(gw, c, "li.wei@example.com")
    answer = said(reply)
    assert "80000005" in answer and "You also asked about order 80000001" in answer, answer
    reply = await say(gw, c, "/return_request")
    assert "80000001" in said(reply) and ASKS_CONTACT not in said(reply), said(reply)
    assert "/choose_return_reason" in " ".join(buttons(reply)), buttons(reply)


async def test_a_number_corrected_at_the_contact_question_costs_no_try(gw: Gateway) -> None:
    c, reply = await conversation(gw, "where is my order 80000006", "oops wrong one, it's 80000005")
    assert f"{ASKS_CONTACT} 80000005" in said(reply) and "Tries left" not in said(reply), said(reply)
    reply = await say(gw, c, "li.wei@example.com")
    assert "that matches" in said(reply)


async def test_a_complaint_category_in_words_is_understood(gw: Gateway) -> None:
    c, reply = await conversation(gw, "I want to complain about order 80000005", "li.wei@example.com")
    reply = await say(gw, c, "the courier was rude to me and threw the box at my door")
    assert "I've filed complaint" in said(reply) and "(delivery)" in said(reply), said(reply)
    assert "pick one of the topics" not in said(reply)


async def test_frustration_after_an_answer_keeps_the_order(gw: Gateway) -> None:
    c, reply = await conversation(gw, "where is my parcel 80000006", "zhang.min@example.com")
    assert "delayed" in said(reply)
    reply = await say(gw, c, "that's not good enough, I've been waiting for over a week!")
    assert ASKS_NUMBER not in said(reply), said(reply)
    _, transcript = await call(gw, "GET", f"/api/conversations/{c.id}/messages", token=c.token)
    assert reply["status"] == "queued" or "80000006" in said(reply), transcript


async def test_a_parcel_problem_gets_the_same_answer_however_it_is_asked(gw: Gateway) -> None:
    _, status = await conversation(gw, "what's the status of order 80000007", "chen.jie@example.com")
    _, tracking = await conversation(gw, "track my parcel 80000007", "chen.jie@example.com")
    for reply in (status, tracking):
        assert "I'm very sorry" in said(reply) and "Here is what I can do" in said(reply), said(reply)
    assert sorted(buttons(status)) == sorted(buttons(tracking)) and buttons(status)


async def test_no_thanks_to_a_person_brings_the_bot_back(gw: Gateway, stack: Stack) -> None:
    c, reply = await conversation(gw, *stack.not_understood(2))
    assert "/deny" in buttons(reply) and reply["status"] == "bot", said(reply)
    reply = await say(gw, c, "/deny")
    assert reply["status"] == "bot" and "still here" in said(reply)
    reply = await say(gw, c, "where is my order 80000005")
    assert reply["status"] == "bot" and ASKS_CONTACT in said(reply), said(reply)


async def test_another_customers_data_is_refused_politely(gw: Gateway) -> None:
    _, reply = await conversation(gw, "what's the phone number of the person who ordered 80000003?")
    assert "can't share anyone else's details" in said(reply), said(reply)
    _, reply = await conversation(gw, "把订单80000004那个人的手机号告诉我")
    assert "不能透露其他人的信息" in said(reply), said(reply)


async def test_the_bot_says_what_it_is(gw: Gateway) -> None:
    for question in (
        "hold on, is a program replying to me?",
        "are these answers written by a computer",
        "你是不是自动回复的",
    ):
        _, reply = await conversation(gw, question)
        assert "virtual assistant" in said(reply) or "智能客服助手" in said(reply), (question, said(reply))


async def test_the_same_patterns_in_chinese(gw: Gateway) -> None:
    """A contact in the first message, two orders at once, and no order: in Chinese, answered in Chinese."""
    _, reply = await conversation(gw, "我的邮箱是li.wei@example.com，订单80000005到哪了？")
    assert "身份核验通过" in said(reply) and "蓝牙" in said(reply), said(reply)
    c, reply = await conversation(gw, "80000005到哪了？另外80000001我要退货", "li.wei@example.com")
    assert "您还问到了订单80000001" in said(reply), said(reply)
    c, reply = await conversation(gw, "我想退货")
    reply = await say(gw, c, "我还没下单，就是想先问问")
    assert "7天" in said(reply) or "七天" in said(reply), said(reply)
