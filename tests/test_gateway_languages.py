"""Conversations in Chinese and English through the gateway and the real Rasa stack: the language of
each message decides the answer's, the conversation remembers it, and every notice follows it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.db import create_schema
from bot.gateway.models import Base
from tests.conftest import Gateway
from tests.test_gateway import Customer, call, login, say, texts

pytestmark = pytest.mark.asyncio
HAN = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: str) -> bool:
    return len(HAN.findall(text)) >= 4


async def open_in(gw: Gateway, language: str | None = None) -> Customer:
    status, body = await call(gw, "POST", "/api/conversations", {"language": language} if language else None)
    assert status == 201, body
    return Customer(body["conversation_id"], body["token"])


async def test_a_chinese_customer_is_answered_in_chinese_through_a_whole_lookup(gateway: Gateway) -> None:
    c = await open_in(gateway)
    reply = await say(gateway, c, "你好，我的订单80000005到哪了？")
    assert reply["status"] == "bot"
    assert all(chinese(t) for t in texts(reply)), texts(reply)
    assert "80000005" in texts(reply)[0]  # the number glued to Chinese text was read
    reply = await say(gateway, c, "li.wei@example.com")  # no language of its own: the conversation's stays
    answer = "\n".join(texts(reply))
    assert chinese(answer) and "80000005" in answer
    assert re.search(r"20\d\d年\d{1,2}月\d{1,2}日", answer), answer  # dates as Chinese readers write them
    _, transcript = await call(gateway, "GET", f"/api/conversations/{c.id}/messages", token=c.token)
    assert transcript["language"] == "zh"


async def test_the_bot_follows_a_customer_who_switches_language(gateway: Gateway) -> None:
    c = await open_in(gateway)
    assert not any(chinese(t) for t in texts(await say(gateway, c, "hello")))
    assert all(chinese(t) for t in texts(await say(gateway, c, "你们的退货政策是什么？")))
    reply = await say(gateway, c, "thanks, and how long do refunds take?")
    assert not any(chinese(t) for t in texts(reply)), texts(reply)


async def test_traditional_chinese_is_answered_in_traditional_characters(gateway: Gateway) -> None:
    c = await open_in(gateway)
    reply = await say(gateway, c, "請問訂單80000005的物流到哪裡了")
    answer = "\n".join(texts(reply))
    assert chinese(answer) and ("訂單" in answer or "號" in answer), answer
    assert "订单" not in answer and "号" not in answer
    assert all("单" not in b["title"] for m in reply["messages"] for b in m.get("buttons") or [])


async def test_the_page_language_starts_the_conversation_and_the_switch_changes_it(gateway: Gateway) -> None:
    c = await open_in(gateway, "zh")
    assert all(chinese(t) for t in texts(await say(gateway, c, "hi")))  # 'hi' says no language: the page's holds
    status, body = await call(gateway, "POST", f"/api/conversations/{c.id}/language", {"language": "en"}, c.token)
    assert (status, body["language"]) == (200, "en")
    assert not any(chinese(t) for t in texts(await say(gateway, c, "ok")))
    for bad in ({"language": "fr"}, {"language": 1}, {}, {"language": "zh", "x": 1}):
        status, _ = await call(gateway, "POST", f"/api/conversations/{c.id}/language", bad, c.token)
        assert status == 400, bad
    status, _ = await call(gateway, "POST", f"/api/conversations/{c.id}/language", {"language": "zh"}, "wrong")
    assert status == 403
    status, _ = await call(gateway, "POST", f"/api/conversations/{c.id}/language", {"language": "zh"})
    assert status == 401
    other = await open_in(gateway)  # another customer's token opens only their own conversation
    status, _ = await call(gateway, "POST", f"/api/conversations/{c.id}/language", {"language": "zh"}, other.token)
    assert status == 403
    status, _ = await call(gateway, "POST", f"/api/conversations/{c.id}/language", {"language": "zh" * 5000}, c.token)
    assert status == 400
    status, _ = await call(gateway, "POST", "/api/conversations", {"language": "de"})
    assert status == 400


async def test_queue_notices_and_agents_summary_follow_the_languages(gateway: Gateway) -> None:
    c = await open_in(gateway)
    reply = await say(gateway, c, "我要转人工客服")
    assert reply["status"] == "queued"
    assert all(chinese(t) for t in texts(reply)), texts(reply)
    token = await login(gateway)
    _, queue = await call(gateway, "GET", "/api/agent/queue", token=token)
    row: dict[str, Any] = next(r for r in queue["queue"] if r["id"] == c.id)
    assert row["language"] == "zh"
    assert chinese(row["summary_zh"]) and not chinese(row["summary"])
    status, _ = await call(gateway, "POST", f"/api/agent/conversations/{c.id}/claim", token=token)
    assert status == 200
    _, transcript = await call(gateway, "GET", f"/api/conversations/{c.id}/messages", token=c.token)
    assert chinese(transcript["messages"][-1]["text"])  # "人工客服 … 已加入对话"


def test_a_database_of_the_previous_release_gains_the_new_columns(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}", future=True)
    create_schema(engine, Base.metadata)
    with engine.begin() as db:  # the conversations table as the previous release made it
        db.execute(text("ALTER TABLE conversations DROP COLUMN summary_zh"))
        db.execute(text("ALTER TABLE conversations DROP COLUMN language"))
        db.execute(text("ALTER TABLE conversations DROP COLUMN bot_language"))
        db.execute(text("INSERT INTO conversations (id, channel, token_hash, status, last_seq, created_at) "
                        "VALUES ('old', 'web', 'h', 'bot', 0, '2026-11-01 10:00:00')"))  # fmt: skip
    create_schema(engine, Base.metadata)
    columns = {c["name"] for c in inspect(engine).get_columns("conversations")}
    assert {"summary_zh", "language", "bot_language"} <= columns
    with engine.connect() as db:
        assert db.execute(text("SELECT language FROM conversations WHERE id = 'old'")).scalar() == "en"
