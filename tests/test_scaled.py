"""`make run-scaled` for real: nginx before two gateways, two Rasa on a Redis lock store and a PostgreSQL
tracker store, PostgreSQL and Redis, all from the generated Procfile. Live events cross instances, turns
of one conversation are answered in order and once whichever gateway takes them, and each fault (a
gateway or a Rasa killed, Redis or PostgreSQL stopped for a while) loses no message."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import create_engine, func, select

from bot.gateway.models import Message, PendingTurn
from tests.fake_telegram import FakeBotApi
from tests.scaled import Scaled, start_scaled
from tests.servers import serve
from tests.stack import RASA_TOKEN
from tests.test_gateway import Customer

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def scaled() -> Iterator[Scaled]:
    running = start_scaled()
    yield running
    running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


async def open_conversation(http: aiohttp.ClientSession, base: str) -> Customer:
    async with http.post(f"{base}/api/conversations") as resp:
        assert resp.status == 201
        body = await resp.json()
    return Customer(body["conversation_id"], body["token"])


async def say(
    http: aiohttp.ClientSession, base: str, c: Customer, text: str, client_id: str | None = None
) -> tuple[int, dict[str, Any]]:
    body = {"text": text, **({"client_id": client_id} if client_id else {})}
    async with http.post(f"{base}/api/conversations/{c.id}/messages", json=body, headers=c.headers) as resp:
        return resp.status, await resp.json()


async def transcript(http: aiohttp.ClientSession, base: str, c: Customer) -> list[dict[str, Any]]:
    async with http.get(f"{base}/api/conversations/{c.id}/messages", headers=c.headers) as resp:
        assert resp.status == 200
        return list((await resp.json())["messages"])


async def login(http: aiohttp.ClientSession, base: str, username: str = "alice") -> str:
    body = {"username": username, "password": f"{username}-demo"}
    async with http.post(f"{base}/api/agent/login", json=body) as resp:
        assert resp.status == 200, await resp.text()
        return str((await resp.json())["token"])


async def until(check: Callable[[], Awaitable[Any]], seconds: float = 30.0) -> Any:
    """Polls `check` until it gives something truthy, for at most `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.25)


async def next_event(ws: aiohttp.ClientWebSocketResponse, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    while True:
        message = await asyncio.wait_for(ws.receive(), timeout=45)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        event = json.loads(message.data)
        if wanted(event):
            return dict(event)


def rows(scaled: Scaled, conv_id: str) -> tuple[list[tuple[str, str]], int]:
    """The conversation's stored messages (author, text) in order, and its pending turns."""
    engine = create_engine(scaled.database_url, future=True)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                select(Message.author, Message.text).where(Message.conversation_id == conv_id).order_by(Message.seq)
            ).all()
            pending = connection.scalar(
                select(func.count()).select_from(PendingTurn).where(PendingTurn.conversation_id == conv_id)
            )
        return [(a, t) for a, t in stored], int(pending or 0)
    finally:
        engine.dispose()


async def user_turns_in_rasa(http: aiohttp.ClientSession, scaled: Scaled, conv_id: str) -> list[str]:
    """What Rasa's shared tracker store holds of the customer's messages, in order."""
    url = f"{scaled.rasa(0)}/conversations/{conv_id}/tracker?token={RASA_TOKEN}&include_events=ALL"
    async with http.get(url) as resp:
        events = (await resp.json())["events"]
    return [e["text"] for e in events if e["event"] == "user"]


async def test_a_widget_on_one_gateway_gets_what_an_agent_posts_on_the_other(
    scaled: Scaled, http: aiohttp.ClientSession
) -> None:
    one, two = scaled.gateway(0), scaled.gateway(1)
    alice = await login(http, two)
    async with http.ws_connect(f"{two.replace('http', 'ws')}/api/agent/ws?token={alice}") as console:
        c = await open_conversation(http, one)
        await asyncio.sleep(0.5)  # the console's presence reaches the other instance
        status, reply = await say(http, one, c, "I want to talk to a human")
        assert status == 200 and reply["status"] == "queued"
        notice = reply["messages"][-1]["text"]
        assert "48 hours" not in notice, notice  # an agent is online, on the other instance
        event = await next_event(console, lambda e: e.get("conversation_id") == c.id and e["type"] == "status")
        assert event["status"] == "queued"  # the console on gateway two saw the escalation on gateway one
        widget_url = f"{one.replace('http', 'ws')}/ws/conversations/{c.id}?token={c.token}"
        async with http.ws_connect(widget_url) as widget:
            for path, body in (("claim", None), ("messages", {"text": "Hello, Alice here"})):
                async with http.post(
                    f"{two}/api/agent/conversations/{c.id}/{path}",
                    json=body,
                    headers={"Authorization": f"Bearer {alice}"},
                ) as resp:
                    assert resp.status in (200, 201), await resp.text()
            said = await next_event(widget, lambda e: e["type"] == "message" and e["message"]["author"] == "agent")
            assert said["message"]["text"] == "Hello, Alice here"


async def test_the_load_balancer_serves_pages_apis_and_websockets(scaled: Scaled, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{scaled.balancer}/") as resp:
        assert resp.status == 200 and "text/html" in resp.headers["Content-Type"]
    c = await open_conversation(http, scaled.balancer)
    async with http.ws_connect(
        f"{scaled.balancer.replace('http', 'ws')}/ws/conversations/{c.id}?token={c.token}"
    ) as ws:
        status, _ = await say(http, scaled.balancer, c, "hello")
        assert status == 200
        event = await next_event(ws, lambda e: e["type"] == "message" and e["message"]["author"] == "bot")
        assert event["message"]["text"]


async def test_turns_sent_to_both_gateways_at_once_are_answered_in_order_once(
    scaled: Scaled, http: aiohttp.ClientSession
) -> None:
    c = await open_conversation(http, scaled.gateway(0))
    texts = ["hello", "hi", "hey there", "good morning", "hello again", "hi there", "hey", "good evening"]

    async def send(n: int) -> tuple[int, dict[str, Any]]:
        await asyncio.sleep(0.01 * n)  # stored in this order, each on the other gateway than the last
        return await say(http, scaled.gateway(n % 2), c, texts[n])

    answers = await asyncio.gather(*(send(n) for n in range(len(texts))))
    assert [status for status, _ in answers] == [200] * len(texts), answers
    stored, pending = rows(scaled, c.id)
    said = [text for author, text in stored if author == "customer"]
    assert sorted(said) == sorted(texts) and pending == 0
    assert await user_turns_in_rasa(http, scaled, c.id) == said  # Rasa got each once, in the order stored
    assert [author for author, _ in stored].count("bot") == len(texts)  # one answer each, none twice


async def test_a_message_sent_again_with_its_client_id_is_stored_once(
    scaled: Scaled, http: aiohttp.ClientSession
) -> None:
    c = await open_conversation(http, scaled.balancer)
    once = uuid.uuid4().hex
    first = await say(http, scaled.gateway(0), c, "hello", client_id=once)
    again = await say(http, scaled.gateway(1), c, "hello", client_id=once)
    assert first[0] == again[0] == 200 and again[1].get("duplicate") is True
    stored, _ = rows(scaled, c.id)
    assert [t for a, t in stored if a == "customer"] == ["hello"]
    other = await open_conversation(http, scaled.balancer)
    status, body = await say(http, scaled.balancer, other, "hello", client_id=once)
    assert status == 409 and body["error"]["code"] == "client_id_reused"


async def test_a_gateway_killed_mid_message_loses_nothing(scaled: Scaled, http: aiohttp.ClientSession) -> None:
    """Gateway one waits for a Rasa that never answers, and is killed; the widget comes back through nginx."""

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(300)

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    silent = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    scaled.kill("gateway1", sig=15)
    scaled.start("gateway1", RASA_URL=silent)
    scaled.wait_up("gateway1", f"{scaled.gateway(0)}/health")
    try:
        c = await open_conversation(http, scaled.gateway(0))
        widget_url = f"{scaled.gateway(0).replace('http', 'ws')}/ws/conversations/{c.id}?token={c.token}"
        async with http.ws_connect(widget_url) as widget:
            once = uuid.uuid4().hex
            sending = asyncio.ensure_future(say(http, scaled.gateway(0), c, "where is my order 80000005", once))
            await until(lambda: asyncio.to_thread(lambda: rows(scaled, c.id)[1] == 1))  # stored, waiting for Rasa
            scaled.kill("gateway1")
            with pytest.raises(aiohttp.ClientError):
                await sending
            while (await widget.receive()).type == aiohttp.WSMsgType.TEXT:  # the echo of its message, then closed
                pass
        # The widget sends again with the same id and reconnects through nginx, to the other gateway.
        status, _ = await say(http, scaled.balancer, c, "where is my order 80000005", once)
        assert status == 200

        async def answered() -> bool:
            stored, pending = await asyncio.to_thread(rows, scaled, c.id)
            return pending == 0 and any(a == "bot" for a, _ in stored)

        await until(answered, 40)
        stored, _ = rows(scaled, c.id)
        assert [t for a, t in stored if a == "customer"] == ["where is my order 80000005"]
        assert "order number" not in stored[-1][1]  # the number was read: the bot asks for the contact
    finally:
        server.close()
        scaled.start("gateway1")
        scaled.wait_up("gateway1", f"{scaled.gateway(0)}/health")


async def test_a_rasa_killed_leaves_the_other_to_answer(scaled: Scaled, http: aiohttp.ClientSession) -> None:
    c = await open_conversation(http, scaled.balancer)
    status, reply = await say(http, scaled.balancer, c, "where is my order 80000005")
    assert status == 200
    scaled.kill("rasa1")
    try:
        for text in ("li.wei@example.com", "thanks"):
            status, reply = await say(http, scaled.balancer, c, text)
            assert status == 200 and reply["status"] == "bot" and reply["messages"], reply
        stored, _ = rows(scaled, c.id)
        assert any("l***@example.com" in t for a, t in stored if a == "bot")  # the form went on in the other Rasa
    finally:
        scaled.up("rasa1")


async def test_redis_away_for_a_while_loses_no_message(scaled: Scaled, http: aiohttp.ClientSession) -> None:
    c = await open_conversation(http, scaled.balancer)
    scaled.kill("redis")
    try:
        status, reply = await say(http, scaled.gateway(0), c, "hello")
        # Rasa's lock store is in Redis: the bot cannot answer, so the message goes to people.
        assert status == 200 and reply["status"] in ("bot", "queued") and reply["messages"], reply
    finally:
        scaled.up("redis")
    other = await open_conversation(http, scaled.balancer)
    status, reply = await say(http, scaled.gateway(1), other, "hello")
    assert status == 200 and reply["status"] == "bot" and reply["messages"]
    stored, pending = rows(scaled, c.id)
    assert [t for a, t in stored if a == "customer"] == ["hello"] and pending == 0


async def test_postgresql_away_for_a_while_loses_no_message(scaled: Scaled, http: aiohttp.ClientSession) -> None:
    c = await open_conversation(http, scaled.balancer)
    once = uuid.uuid4().hex
    scaled.kill("postgres", sig=2)  # a fast shutdown
    try:
        status, body = await say(http, scaled.balancer, c, "hello", client_id=once)
        assert status == 503 and body["error"]["code"] == "unavailable"  # nothing stored: send again
    finally:
        scaled.up("postgres")

    async def taken() -> bool:
        return (await say(http, scaled.balancer, c, "hello", client_id=once))[0] == 200

    await until(taken, 30)
    stored, pending = rows(scaled, c.id)
    assert [t for a, t in stored if a == "customer"] == ["hello"] and pending == 0
    assert stored[-1][0] == "bot"


def telegram_messages(scaled: Scaled) -> list[str]:
    """The customers' messages that came from Telegram updates, in the order stored."""
    engine = create_engine(scaled.database_url, future=True)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                select(Message.text).where(Message.client_id.like("telegram:%")).order_by(Message.id)
            ).all()
        return [text for (text,) in found]
    finally:
        engine.dispose()


async def test_telegram_is_polled_by_one_gateway_and_each_update_handled_once(
    scaled: Scaled, http: aiohttp.ClientSession
) -> None:
    fake = FakeBotApi("fake_scaled_telegram")
    gateways = ("gateway1", "gateway2")
    async with serve(fake.app) as api:
        telegram = {"TELEGRAM_TOKEN": "123456:TEST-token", "TELEGRAM_API_URL": api}
        logged = {name: scaled.log(name).stat().st_size for name in gateways}
        for n, name in enumerate(gateways):  # in threads: the fake Bot API answers on this event loop
            await asyncio.to_thread(scaled.kill, name, 15)
            scaled.start(name, **telegram)
            await asyncio.to_thread(scaled.wait_up, name, f"{scaled.gateway(n)}/health")
        try:

            def leaders() -> list[str]:
                fresh = {name: scaled.log(name).read_bytes()[logged[name] :].decode() for name in gateways}
                return [name for name in gateways if name in scaled.procs and "INFO leading shopdesk:" in fresh[name]]

            await until(lambda: asyncio.to_thread(leaders), 30)
            fake.push(fake.update(4242, text="hello"))
            await until(lambda: asyncio.sleep(0, fake.texts_to(4242)), 30)
            assert len(leaders()) == 1  # one gateway polls
            greetings = len(fake.texts_to(4242))
            await asyncio.to_thread(scaled.kill, leaders()[0])  # the poller dies; the other takes over later
            fake.push(fake.update(4242, text="where is my order 80000005"))
            await fake.wait_for(4242, "email", timeout=60)
            # The new poller fetched the first update again (never confirmed) and did not handle it twice.
            assert telegram_messages(scaled) == ["hello", "where is my order 80000005"]
            assert len(fake.texts_to(4242)) == greetings + 1
        finally:
            for n, name in enumerate(gateways):
                if name in scaled.procs:
                    await asyncio.to_thread(scaled.kill, name, 15)
                scaled.start(name)
                await asyncio.to_thread(scaled.wait_up, name, f"{scaled.gateway(n)}/health")
