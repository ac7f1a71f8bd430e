"""Telegram through the real python-telegram-bot against a fake Bot API on loopback, webhook and polling."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.gateway import states
from bot.gateway import telegram as telegram_module
from bot.gateway.models import ChannelChat, Message
from bot.gateway.telegram_text import callback_data, split_text
from tests.conftest import SEEDED_AT, Gateway, database_url, gateway_config, running_gateway
from tests.fake_telegram import FakeBotApi
from tests.servers import free_port, serve
from tests.stack import Stack

pytestmark = pytest.mark.asyncio
TOKEN = "123456:TEST-TOKEN"
SECRET = "s3cret-webhook-token"
_names = itertools.count()
CHAT = 4242


@dataclass
class Telegram:
    mode: str
    fake: FakeBotApi
    gateway: Gateway

    async def send(self, update: dict[str, Any], secret: str = SECRET) -> int:
        """Delivers an update as Telegram would: pushed to the webhook, or queued for getUpdates."""
        if self.mode == "polling":
            self.fake.push(update)
            return 200
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with self.gateway.http.post("/telegram/webhook", json=update, headers=headers) as resp:
            return resp.status

    async def say(self, text: str, chat: int = CHAT) -> None:
        assert await self.send(self.fake.update(chat, text=text)) == 200


@pytest.fixture(params=["webhook", "polling"])
async def telegram(request: pytest.FixtureRequest, stack: Stack, tmp_path: Path) -> AsyncIterator[Telegram]:
    fake = FakeBotApi(f"fake_telegram{next(_names)}")
    async with serve(fake.app) as fake_url:
        port = free_port()
        config = replace(
            gateway_config(database_url("sqlite", tmp_path), stack),
            telegram_token=TOKEN,
            telegram_api_url=fake_url,
            telegram_secret=SECRET,
            telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook" if request.param == "webhook" else None,
        )
        async with running_gateway(config, port=port) as gw:
            yield Telegram(request.param, fake, gw)


async def agent_call(gw: Gateway, method: str, path: str, token: str, body: Any = None) -> Any:
    async with gw.http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status < 300, await resp.text()
        return await resp.json()


async def agent_login(gw: Gateway) -> str:
    async with gw.http.post("/api/agent/login", json={"username": "alice", "password": "alice-demo"}) as resp:
        return str((await resp.json())["token"])


async def test_mode_is_registered_with_telegram(telegram: Telegram) -> None:
    methods = [m for m, _ in telegram.fake.calls]
    if telegram.mode == "webhook":
        assert telegram.fake.webhook["url"].endswith("/telegram/webhook")
        assert telegram.fake.webhook["secret_token"] == SECRET
    else:  # polling starts once the gateway is up (the one instance leading, see bot/gateway/cluster.py)
        for _ in range(50):
            if "getUpdates" in [m for m, _ in telegram.fake.calls]:
                break
            await asyncio.sleep(0.1)
        methods = [m for m, _ in telegram.fake.calls]
        assert "deleteWebhook" in methods and "getUpdates" in methods


async def test_an_update_delivered_twice_is_handled_once(telegram: Telegram) -> None:
    """Telegram sends a webhook update again when the first delivery failed; a new poller fetches again
    what a stopped one had not confirmed: the message is stored and answered once."""
    update = telegram.fake.update(CHAT, text="hello")
    assert await telegram.send(update) == 200
    await telegram.fake.wait_for(CHAT, "shop's assistant")
    answers = len(telegram.fake.texts_to(CHAT))
    if telegram.mode == "webhook":
        assert await telegram.send(update) == 200
    else:
        await telegram.gateway.app.ctx.telegram.unpoll()  # unconfirmed by the old poller: fetched again
        await telegram.gateway.app.ctx.telegram.app.updater.start_polling(poll_interval=0.2, timeout=5)
    await asyncio.sleep(1.5)
    assert len(telegram.fake.texts_to(CHAT)) == answers
    with telegram.gateway.app.ctx.desk.sessions() as s:
        once = f"telegram:123456:{CHAT}:{update['message']['message_id']}"
        stored = s.scalars(select(Message.text).where(Message.client_id == once)).all()
    assert stored == ["hello"]


async def test_an_update_whose_handling_failed_is_handled_again_not_lost(
    telegram: Telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database away for a moment: a webhook update is answered 503 (Telegram delivers it again), a
    polled one goes back in the queue; either way the message is stored and answered once."""
    monkeypatch.setattr(telegram_module, "RETRY_AFTER", 0.2)
    turns = telegram.gateway.app.ctx.desk.turns
    real, calls = turns.store, []

    def away_once(*args: Any) -> Any:
        calls.append(args[1])
        if len(calls) == 1:
            raise OperationalError("INSERT", {}, Exception("could not connect to server"))
        return real(*args)

    monkeypatch.setattr(turns, "store", away_once)
    update = telegram.fake.update(CHAT, text="hello")
    status = await telegram.send(update)
    if telegram.mode == "webhook":
        assert status == 503
        assert await telegram.send(update) == 200  # Telegram's second delivery
    await telegram.fake.wait_for(CHAT, "shop's assistant")
    assert calls == ["hello", "hello"]
    with telegram.gateway.app.ctx.desk.sessions() as s:
        assert s.scalars(select(Message.text).where(Message.author == "customer")).all() == ["hello"]


async def test_conversation_with_buttons(telegram: Telegram) -> None:
    fake = telegram.fake
    await telegram.say("/start")
    await fake.wait_for(CHAT, "shop's assistant")
    await telegram.say("I want to return my order 80000001")
    await fake.wait_for(CHAT, "email address or phone number on order 80000001")
    await telegram.say("li.wei@example.com")
    listing = await fake.wait_for(CHAT, "Returns for order 80000001")
    keyboard = listing["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Return without a reason", "Report a quality problem", "No, thanks"]
    pressed = keyboard[0][0]["callback_data"]
    assert pressed == '/choose_return_reason{"return_reason": "no_reason"}'
    assert await telegram.send(fake.update(CHAT, callback_data=pressed, reply_markup=listing["reply_markup"])) == 200
    plan = await fake.wait_for(CHAT, "Here is what I'll file for order 80000001")
    assert [row[0]["text"] for row in plan["reply_markup"]["inline_keyboard"]] == ["Yes, file it", "No"]
    conv = await _conversation(telegram)
    assert "Return without a reason" in [m["text"] for m in conv["messages"] if m["author"] == "customer"]


async def _conversation_id(telegram: Telegram) -> str | None:
    with telegram.gateway.app.ctx.desk.sessions() as s:
        return s.scalars(
            select(ChannelChat.conversation_id).where(ChannelChat.chat_id == str(CHAT)).order_by(ChannelChat.id.desc())
        ).first()


async def _conversation(telegram: Telegram) -> dict[str, Any]:
    """The chat's current conversation as the agent console sees it."""
    token = await agent_login(telegram.gateway)
    conv_id = await _conversation_id(telegram)
    return dict(await agent_call(telegram.gateway, "GET", f"/api/agent/conversations/{conv_id}", token))


async def test_handoff_agent_reply_split_and_rating_reach_the_chat(telegram: Telegram) -> None:
    fake = telegram.fake
    await telegram.say("/human")
    await fake.wait_for(CHAT, "handing you over")
    conv = await _conversation(telegram)
    assert conv["status"] == "queued" and conv["channel"] == "telegram"
    token = await agent_login(telegram.gateway)
    await agent_call(telegram.gateway, "POST", f"/api/agent/conversations/{conv['id']}/claim", token)
    await fake.wait_for(CHAT, "Alice joined the conversation.")
    await agent_call(
        telegram.gateway, "POST", f"/api/agent/conversations/{conv['id']}/messages", token, {"text": "Hi from Alice"}
    )
    await fake.wait_for(CHAT, "Alice: Hi from Alice")
    await agent_call(telegram.gateway, "POST", f"/api/agent/conversations/{conv['id']}/resolve", token)
    rating = await fake.wait_for(CHAT, "Please rate this conversation")
    assert [b["text"] for b in rating["reply_markup"]["inline_keyboard"][0]] == ["1 ★", "2 ★", "3 ★", "4 ★", "5 ★"]
    await telegram.send(fake.update(CHAT, callback_data="/rate 5", reply_markup=rating["reply_markup"]))
    await fake.wait_for(CHAT, "Thank you for your rating!")
    assert (await _conversation(telegram))["rating"] == 5


def test_long_replies_are_split_under_the_limit() -> None:
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(100))  # about 10,000 characters
    parts = split_text(text)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    assert split_text("y" * 5000) == ["y" * 4096, "y" * 904]


async def test_long_reply_is_sent_in_parts(telegram: Telegram) -> None:
    await telegram.say("hello")
    await telegram.fake.wait_for(CHAT, "shop's assistant")
    conv_id = await _conversation_id(telegram)
    long_text = "\n".join(f"Line {i}: " + "details " * 12 for i in range(100))  # ~10,000 characters
    message = {"seq": 99, "author": "bot", "agent": None, "text": long_text, "buttons": [], "created_at": ""}
    await telegram.gateway.app.ctx.telegram.deliver(conv_id, {"type": "message", "message": message})
    parts = [t for t in telegram.fake.texts_to(CHAT) if t.startswith("Line") or "\nLine" in t]
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == long_text


async def test_secret_token_is_checked(telegram: Telegram) -> None:
    if telegram.mode != "webhook":
        pytest.skip("the secret token belongs to webhook mode")
    assert await telegram.send(telegram.fake.update(CHAT, text="hello"), secret="wrong") == 403
    assert await telegram.send(telegram.fake.update(CHAT, text="hello"), secret="") == 403
    await asyncio.sleep(0.5)
    assert telegram.fake.texts_to(CHAT) == []


async def test_non_text_gets_a_polite_answer_and_a_note(telegram: Telegram) -> None:
    photo = [{"file_id": "f1", "file_unique_id": "u1", "width": 10, "height": 10}]
    await telegram.send(telegram.fake.update(CHAT, photo=photo))
    await telegram.fake.wait_for(CHAT, "I can only read text here")
    conv = await _conversation(telegram)
    assert "[The customer sent a photo on Telegram; only text is read.]" in [m["text"] for m in conv["messages"]]


async def test_429_is_retried_after_the_advised_delay(telegram: Telegram) -> None:
    telegram.fake.failures[CHAT] = [429]
    await telegram.say("hello")
    await telegram.fake.wait_for(CHAT, "shop's assistant", timeout=30)
    attempts = [p for m, p in telegram.fake.calls if m == "sendMessage" and int(p["chat_id"]) == CHAT]
    assert len(attempts) >= 2


async def test_a_blocked_bot_marks_the_conversation_and_crashes_nothing(telegram: Telegram) -> None:
    telegram.fake.failures[CHAT] = [403]
    await telegram.say("hello")
    for _ in range(200):
        if await _conversation_id(telegram):
            conv = await _conversation(telegram)
            if any("blocked the bot" in m["text"] for m in conv["messages"]):
                break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the block was not noted in the transcript")
    await telegram.say("where is my order 80000005")  # the gateway still works
    await telegram.fake.wait_for(CHAT, "email address or phone number on order 80000005")


async def test_a_verified_telegram_account_skips_verification_later(telegram: Telegram) -> None:
    fake = telegram.fake
    await telegram.say("where is my order 80000005")
    await fake.wait_for(CHAT, "email address or phone number")
    await telegram.say("li.wei@example.com")
    await fake.wait_for(CHAT, "Order 80000005")
    await telegram.say("/restart")
    await asyncio.sleep(0.5)
    before = len(fake.texts_to(CHAT))
    await telegram.say("where is my order 80000011")
    await fake.wait_for(CHAT, "Order 80000011")
    assert not any("email address" in t for t in fake.texts_to(CHAT)[before:])
    await telegram.say("/forget")
    await fake.wait_for(CHAT, "next time I'll ask you to confirm")


async def test_without_a_token_the_gateway_runs_without_telegram(
    stack: Stack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    config = gateway_config(database_url("sqlite", tmp_path), stack)
    async with (
        running_gateway(config) as gw,
        aiohttp.ClientSession() as http,
        http.post(f"{gw.url}/telegram/webhook", json={}) as resp,
    ):
        assert resp.status == 404
    said = [r.message for r in caplog.records]
    assert said.count("telegram: TELEGRAM_TOKEN is not set, running without Telegram") == 1


async def test_a_long_button_payload_is_found_again_after_a_restart_of_the_channel(telegram: Telegram) -> None:
    """Payloads over 64 bytes travel as a digest, matched against the buttons stored with the bot's message."""
    await telegram.say("/start")
    await telegram.fake.wait_for(CHAT, "shop's assistant")
    conv_id = await _conversation_id(telegram)
    assert conv_id is not None
    desk = telegram.gateway.app.ctx.desk
    payload = '/choose_remedy{"remedy": "refund", "note": "a payload far longer than Telegram allows"}'
    with desk.sessions.begin() as s:  # as if the bot had offered it
        conv = states.load(s, conv_id, lock=True)
        states.append(s, conv, "bot", "Pick one:", SEEDED_AT, buttons=[{"title": "Refund me", "payload": payload}])
    digest = callback_data(payload)
    assert digest != payload and len(digest.encode()) <= 64
    assert await telegram.send(telegram.fake.update(CHAT, callback_data=digest)) == 200
    for _ in range(100):
        texts = [m["text"] for m in desk.views.transcript(conv_id)["messages"] if m["author"] == "customer"]
        if "Refund me" in texts:
            break
        await asyncio.sleep(0.1)
    assert "Refund me" in texts and digest not in texts


async def test_the_commands_menu_is_registered_in_both_languages(telegram: Telegram) -> None:
    menus = {params.get("language_code"): params for method, params in telegram.fake.calls if method == "setMyCommands"}
    assert set(menus) == {None, "zh"}
    described = {
        lang: {c["command"]: c["description"] for c in json.loads(menu["commands"])} for lang, menu in menus.items()
    }
    assert described["zh"]["human"] == "转人工客服" and described[None]["human"] == "Talk to a person"
    assert set(described["zh"]) == set(described[None]) == {"start", "human", "restart", "forget"}


async def test_a_chinese_customer_is_served_in_chinese_buttons_notices_and_rating(telegram: Telegram) -> None:
    fake, chat = telegram.fake, 5151
    assert await telegram.send(fake.update(chat, language_code="zh-hans", text="/start")) == 200
    await fake.wait_for(chat, "您好")  # the app's language starts the conversation: greeted in Chinese
    await telegram.say("我想退货，订单80000001", chat=chat)
    await fake.wait_for(chat, "80000001")
    await telegram.say("li.wei@example.com", chat=chat)
    listing = await fake.wait_for(chat, "无理由退货")
    titles = [row[0]["text"] for row in listing["reply_markup"]["inline_keyboard"]]
    assert all(any("\u4e00" <= c <= "\u9fff" for c in t) for t in titles), titles
    photo = [{"file_id": "f1", "file_unique_id": "u1", "width": 10, "height": 10}]
    await telegram.send(fake.update(chat, photo=photo))
    await fake.wait_for(chat, "只能识别文字")
    await telegram.send(fake.update(chat, text="/human"))
    await fake.wait_for(chat, "转接人工客服")
    token = await agent_login(telegram.gateway)
    queue = await agent_call(telegram.gateway, "GET", "/api/agent/queue", token)
    conv = next(c for c in queue["queue"] if c["channel"] == "telegram" and c["language"] == "zh")
    await agent_call(telegram.gateway, "POST", f"/api/agent/conversations/{conv['id']}/claim", token)
    await fake.wait_for(chat, "已加入对话")
    await agent_call(telegram.gateway, "POST", f"/api/agent/conversations/{conv['id']}/resolve", token)
    rating = await fake.wait_for(chat, "请为本次服务评分")
    await telegram.send(fake.update(chat, callback_data="/rate 4", reply_markup=rating["reply_markup"]))
    await fake.wait_for(chat, "感谢您的评价")
