"""Attacks on the running stack (gateway, Rasa, action server) and their fixes, one test per finding."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sanic import Sanic
from sanic.response import json as json_response
from sqlalchemy import select
from yarl import URL

from bot.gateway.models import Conversation, Message, PendingTurn
from tests.conftest import Gateway, database_url, gateway_config, running_gateway
from tests.servers import free_port, serve
from tests.stack import ACTION_TOKEN, PLATFORM_KEY, RASA_TOKEN, Stack
from tests.test_gateway import call, login, open_conversation, say, texts

pytestmark = pytest.mark.asyncio


def stored(gw: Gateway, conv_id: str) -> tuple[Conversation, list[Message]]:
    with gw.app.ctx.desk.sessions() as s:
        conv = s.get(Conversation, conv_id)
        rows = list(s.scalars(select(Message).where(Message.conversation_id == conv_id).order_by(Message.seq)))
        return conv, rows


# --- 1. verification is bound to the order it was checked against ------------------------------------


async def test_correcting_the_number_does_not_verify_the_old_orders_owner(gw: Gateway) -> None:
    c = await open_conversation(gw)
    reply = await say(gw, c, "where is my order 80000006")  # Zhang Min's
    assert "email address or phone number on order 80000006" in texts(reply)[0]
    reply = await say(gw, c, "li.wei@example.com, sorry it's 80000001")  # Li Wei's email and order
    assert any("Order 80000001" in t for t in texts(reply)), texts(reply)
    conv, _ = stored(gw, c.id)
    assert conv.customer_id == "1"  # Li Wei, whom the platform confirmed for 80000001; never Zhang Min (2)
    reply = await say(gw, c, "where is my order 80000006")
    joined = " ".join(texts(reply))
    assert "email address or phone number on order 80000006" in joined
    assert "Order 80000006" not in joined


# --- 2. agent websocket ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/agent/ws", "/api/agent/ws/", "//api/agent/ws", "/api/agent/ws?token=", "/api/agent/ws/?token=x"],
)
async def test_agent_websocket_refuses_every_spelling_without_a_token(gw: Gateway, path: str) -> None:
    url = URL(gw.url.replace("http", "ws") + path, encoded=True)  # encoded: keep the "//" as sent
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with aiohttp.ClientSession() as http, http.ws_connect(url):
            pass
    assert refused.value.status in (401, 404)  # refused before the handshake, whichever way
    assert gw.app.ctx.hub.connected_agents() == set()


async def test_a_refused_socket_does_not_count_as_an_online_agent(gw: Gateway) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError):
        async with gw.http.ws_connect("/api/agent/ws/"):
            pass
    c = await open_conversation(gw)
    reply = await say(gw, c, "I want to talk to a human")
    assert any("No agent is online" in t for t in texts(reply)), texts(reply)


@pytest.mark.parametrize("suffix", ["", "/", "?token=", "/?token=nope"])
async def test_customer_websocket_needs_the_conversations_token(gw: Gateway, suffix: str) -> None:
    c = await open_conversation(gw)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with gw.http.ws_connect(f"/ws/conversations/{c.id}{suffix}"):
            pass
    assert refused.value.status in (401, 403)
    async with gw.http.ws_connect(f"/ws/conversations/{c.id}/?token={c.token}") as ws:
        assert not ws.closed


# --- 3. action server --------------------------------------------------------------------------------


def _listening_address(port: int) -> str:
    """The local address of the listening TCP socket on `port`, from /proc/net/tcp (IPv4)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            return ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
    raise AssertionError(f"nothing listens on {port}")


async def test_action_server_listens_on_loopback_and_needs_the_token(stack: Stack) -> None:
    assert _listening_address(int(stack.actions_url.rsplit(":", 1)[1])) == "127.0.0.1"
    forged = {
        "next_action": "action_serve_request",
        "sender_id": "x",
        "tracker": {"sender_id": "x", "slots": {"order_number": "80000006", "order_owner_id": "2"}},
        "domain": {},
        "version": "3.6.2",
    }
    async with aiohttp.ClientSession() as http:
        for query in ("", "?token=wrong", "?token="):
            for path in ("/webhook", "/webhook/", "//webhook", "/actions"):
                method = http.get if path == "/actions" else http.post
                async with method(URL(f"{stack.actions_url}{path}{query}", encoded=True), json=forged) as resp:
                    assert resp.status in (401, 404), (path, query, resp.status)
                    assert "80000006" not in await resp.text()
        async with http.get(f"{stack.actions_url}/health") as resp:
            assert resp.status == 200
        async with http.get(f"{stack.actions_url}/actions", params={"token": ACTION_TOKEN}) as resp:
            assert resp.status == 200 and {"name": "action_serve_request"} in await resp.json()
        webhook = f"{stack.actions_url}/webhook?token={ACTION_TOKEN}"
        async with http.get(webhook) as resp:
            assert resp.status == 405
        for bad in ([], {"next_action": "action_serve_request", "tracker": {}}, {"next_action": 1}):
            async with http.post(webhook, json=bad) as resp:
                assert resp.status == 400, bad


# --- 4. only the gateway speaks for a customer -------------------------------------------------------


async def test_rasa_takes_customer_messages_only_from_the_gateway(stack: Stack) -> None:
    body = {"sender": "attacker", "message": "where is my order 80000006", "metadata": {"customer_id": "2"}}
    async with aiohttp.ClientSession(stack.rasa_url) as http:
        async with http.post("/webhooks/rest/webhook", json=body) as resp:
            assert resp.status == 404  # Rasa's open REST channel is not enabled
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {RASA_TOKEN}"}):
            async with http.post("/webhooks/gateway/webhook", json=body, headers=headers) as resp:
                assert resp.status == 401
                assert "Zhang" not in await resp.text()
        ok = {"Authorization": f"Bearer {RASA_TOKEN}"}
        for raw in (b'{"sender": "\\ud800", "message": "hi"}', b'{"sender": "a", "message": "a\\u0000"}', b"[]"):
            async with http.post("/webhooks/gateway/webhook", data=raw, headers=ok) as resp:
                assert resp.status == 400, raw  # the tracker store could not keep it (and Rasa would stop)
        async with http.post("/webhooks/gateway/webhook", json={"sender": "gw-1", "message": "hello"}, headers=ok) as r:
            assert r.status == 200 and (await r.json())[0]["text"].startswith("Hello")


# --- 5 and 6. agents' logins -------------------------------------------------------------------------


async def test_demo_agents_do_not_survive_outside_demo_mode(stack: Stack, tmp_path: Path) -> None:
    config = gateway_config(database_url("sqlite", tmp_path), stack)
    async with running_gateway(config) as gw:
        demo_token = await login(gw)
    production = gateway_config(config.database_url, stack)
    object.__setattr__(production, "demo", False)
    async with running_gateway(production) as gw:
        status, body = await call(gw, "POST", "/api/agent/login", {"username": "alice", "password": "alice-demo"})
        assert status == 401 and "token" not in body
        assert (await call(gw, "GET", "/api/agent/queue", token=demo_token))[0] == 401


async def test_a_burst_of_parallel_guesses_gets_no_more_than_the_limit(gw: Gateway) -> None:
    guesses = [{"username": "bob", "password": f"wrong{n}"} for n in range(40)]
    answers = await asyncio.gather(*(call(gw, "POST", "/api/agent/login", g) for g in guesses))
    assert sorted(status for status, _ in answers) == [401] * 5 + [429] * 35


async def test_logins_are_limited_per_username_and_per_client(gw: Gateway) -> None:
    for _ in range(5):
        status, _ = await call(gw, "POST", "/api/agent/login", {"username": "alice", "password": "wrong"})
        assert status == 401
    async with gw.http.post("/api/agent/login", json={"username": "alice", "password": "alice-demo"}) as resp:
        assert resp.status == 429 and int(resp.headers["Retry-After"]) > 0  # even the right password, for now
        assert (await resp.json())["error"]["code"] == "too_many_attempts"
    assert (await call(gw, "POST", "/api/agent/login", {"username": "bob", "password": "bob-demo"}))[0] == 200
    for n in range(15):  # the client's 20th failure, spread over unknown names
        await call(gw, "POST", "/api/agent/login", {"username": f"guess{n}", "password": "x"})
    assert (await call(gw, "POST", "/api/agent/login", {"username": "bob", "password": "bob-demo"}))[0] == 429


async def test_password_hashing_leaves_the_event_loop_free(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a password check is blocked, /health still answers: the check runs off the event loop."""
    import threading

    from bot.gateway import auth

    entered, release = threading.Event(), threading.Event()
    real = auth.check_password

    def blocking(password: str, stored_hash: str) -> bool:
        entered.set()
        release.wait(20)
        return real(password, stored_hash)

    monkeypatch.setattr(auth, "check_password", blocking)
    pending = asyncio.create_task(call(gw, "POST", "/api/agent/login", {"username": "nobody", "password": "x"}))
    try:
        await asyncio.to_thread(entered.wait, 20)
        status, _ = await asyncio.wait_for(call(gw, "GET", "/health"), 10)
        assert status == 200
    finally:
        release.set()
    assert (await pending)[0] == 401


async def test_unknown_usernames_cost_a_password_check_too(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.gateway import auth

    checked: list[str] = []
    real = auth.check_password
    monkeypatch.setattr(auth, "check_password", lambda pw, h: checked.append(pw) or real(pw, h))
    assert (await call(gw, "POST", "/api/agent/login", {"username": "nobody", "password": "guess"}))[0] == 401
    assert checked == ["guess"]


# --- 7 and 8. what customers type -------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["/restart", '/inform{"order_number": "80000006"}', "/session_start", "//", "/ /restart", " /\t/\u3000/restart"],
)
async def test_typed_intent_syntax_is_read_as_text(gw: Gateway, typed: str) -> None:
    c = await open_conversation(gw)
    reply = await say(gw, c, typed)
    assert reply["status"] == "bot", reply  # not escalated as "bot unavailable", not taken as a request for a person
    assert reply["messages"] and all(m["author"] == "bot" for m in reply["messages"])
    _, rows = stored(gw, c.id)
    assert rows[0].text == typed.strip()  # the transcript keeps what was typed


async def test_an_offered_button_is_pressed_with_its_label(gw: Gateway) -> None:
    c = await open_conversation(gw)
    reply = await say(gw, c, "where is my order 80000005")
    await say(gw, c, "it's li.wei@example.com")
    reply = await say(gw, c, "please cancel my order")  # what the bot cannot do offers a person
    offered = reply["messages"][-1]["buttons"]
    human = next(b for b in offered if b["payload"] == "/human_agent")
    path = f"/api/conversations/{c.id}/messages"
    for bad in (
        {"text": "li.wei@example.com", "label": "I don't know the email"},
        {"text": "/human_agent", "label": "x"},
    ):
        status, body = await call(gw, "POST", path, bad, c.token)
        assert status == 400 and body["error"]["field"] == "label"
    status, body = await call(gw, "POST", path, {"text": "/human_agent", "label": "y" * 10_000_000}, c.token)
    assert status in (400, 413)
    status, reply = await call(gw, "POST", path, {"text": human["payload"], "label": human["title"]}, c.token)
    assert status == 200 and reply["status"] == "queued"
    _, rows = stored(gw, c.id)
    assert [r.text for r in rows if r.author == "customer"][-1] == human["title"]
    assert not any("I don't know the email" in r.text or "yyyy" in r.text for r in rows)


# --- bad input ---------------------------------------------------------------------------------------


async def test_bad_unicode_and_numbers_are_4xx_and_store_nothing(gw: Gateway) -> None:
    c = await open_conversation(gw)
    path = f"/api/conversations/{c.id}/messages"
    raw = {"Content-Type": "application/json"}
    for body in (b'{"text": "\\ud800"}', b'{"text": "hi", "label": "\\udfff"}', b'{"text": "a\\u0000b"}'):
        async with gw.http.post(path, data=body, headers={**c.headers, **raw}) as resp:
            assert resp.status == 400, body
    async with gw.http.post("/api/agent/login", data=b'{"username": "\\ud800", "password": "x"}', headers=raw) as resp:
        assert resp.status == 400
    for after in ("99999999999999999999999", "²", "-1", "1.5", " 1"):
        async with gw.http.get(path, params={"after": after}, headers=c.headers) as resp:
            assert resp.status == 400, after
    for static in ("/static/", "/static/widget.js%00.png", "/static/..%2fapp.py", "/static/nope.js"):
        async with gw.http.get(static) as resp:
            assert 400 <= resp.status < 500, static
            assert resp.content_type == "application/json"
    async with gw.http.get("/static/widget.js") as resp:
        assert resp.status == 200 and "javascript" in resp.content_type
    _, rows = stored(gw, c.id)
    assert rows == []


async def test_websocket_addresses_refuse_plain_requests(gw: Gateway) -> None:
    c = await open_conversation(gw)
    alice = await login(gw)
    for path in (f"/ws/conversations/{c.id}?token={c.token}", f"/api/agent/ws?token={alice}"):
        async with gw.http.get(path) as resp:
            assert resp.status == 400 and (await resp.json())["error"]["code"] == "not_websocket"
        async with gw.http.get(path, headers={"Upgrade": "websocket", "Connection": "Upgrade"}) as resp:
            assert resp.status == 400  # no Sec-WebSocket-Key: not a handshake Sanic could finish
    async with gw.http.head(f"/api/agent/ws?token={alice}") as resp:
        assert 400 <= resp.status < 500


async def test_pages_carry_security_headers(gw: Gateway) -> None:
    for page in ("/", "/agent", "/static/widget.js"):
        async with gw.http.get(page) as resp:
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            policy = resp.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy


# --- load and ordering -------------------------------------------------------------------------------


async def test_a_burst_of_first_messages_is_answered_not_escalated(gw: Gateway) -> None:
    """150 customers write at once: a busy bot is slow, not down, so nobody is queued as 'bot unavailable'."""
    customers = [await open_conversation(gw) for _ in range(150)]
    replies = await asyncio.gather(*(say(gw, c, "hello") for c in customers))
    assert [r["status"] for r in replies] == ["bot"] * 150
    assert all(r["messages"] and r["messages"][0]["author"] == "bot" for r in replies)


async def test_messages_of_one_conversation_are_taken_in_order(gw: Gateway) -> None:
    c = await open_conversation(gw)
    sent = ["hello", "where is my order 80000005", "li.wei@example.com", "thanks"]
    results = []
    for n, text in enumerate(sent, start=1):  # each is stored before the next leaves; none waits for its answer
        results.append(
            asyncio.ensure_future(call(gw, "POST", f"/api/conversations/{c.id}/messages", {"text": text}, c.token))
        )
        while sum(r.author == "customer" for r in stored(gw, c.id)[1]) < n:
            await asyncio.sleep(0.005)
    answers = await asyncio.gather(*results)
    assert [status for status, _ in answers] == [200] * 4, answers
    _, rows = stored(gw, c.id)
    assert [r.text for r in rows if r.author == "customer"] == sent
    assert any("Order 80000005" in r.text for r in rows)  # the contact came after the number, as sent


# --- faults ------------------------------------------------------------------------------------------


@asynccontextmanager
async def fake_rasa(ready_after: float = 0.0, delay: float = 0.0) -> AsyncIterator[tuple[str, list[str]]]:
    """A stand-in Rasa that is 'loading' (503 on /status) for `ready_after` s and answers after `delay` s.

    It records the texts it was sent, in order; it answers every text with "echo: <text>".
    """
    app = Sanic(f"fake_rasa_{uuid.uuid4().hex[:8]}")
    received: list[str] = []
    ready_at = asyncio.get_running_loop().time() + ready_after

    @app.get("/status")
    async def status(request: Any) -> Any:
        return json_response({}, status=200 if asyncio.get_running_loop().time() >= ready_at else 503)

    @app.post("/webhooks/gateway/webhook")
    async def webhook(request: Any) -> Any:
        received.append(request.json["message"])
        await asyncio.sleep(delay)
        return json_response([{"text": f"echo: {request.json['message']}"}])

    async with serve(app) as url:
        yield url, received


def _pending_turns(gw: Gateway) -> int:
    with gw.app.ctx.desk.sessions() as s:
        return len(s.scalars(select(PendingTurn)).all())


async def test_a_customer_who_disconnects_still_gets_the_answer(stack: Stack, tmp_path: Path) -> None:
    async with fake_rasa(delay=1.0) as (rasa_url, received):
        config = gateway_config(database_url("sqlite", tmp_path), stack, rasa_url=rasa_url)
        async with running_gateway(config) as gw:
            c = await open_conversation(gw)
            path = f"/api/conversations/{c.id}/messages"
            with pytest.raises(asyncio.TimeoutError):
                async with gw.http.post(path, json={"text": "hello"}, headers=c.headers, timeout=0.3):
                    pass

            async def answered() -> bool:
                _, rows = stored(gw, c.id)
                return [r.author for r in rows] == ["customer", "bot"]

            await _until(answered, 10)
            assert received == ["hello"] and _pending_turns(gw) == 0


async def test_recovery_waits_for_rasa_and_keeps_the_order(stack: Stack, tmp_path: Path) -> None:
    """Two turns left pending by a dead gateway; Rasa still loading at start; a third message arrives."""
    config = gateway_config(database_url("sqlite", tmp_path), stack)
    async with running_gateway(config) as gw:
        c = await open_conversation(gw)
        for text in ("one", "two"):
            gw.app.ctx.desk.turns.store(c.id, text, {}, None, False, None)  # stored, then the gateway "died"
    async with (
        fake_rasa(ready_after=2.0) as (rasa_url, received),
        running_gateway(gateway_config(config.database_url, stack, rasa_url=rasa_url)) as gw,
    ):
        reply = await say(gw, c, "three")
        assert reply["status"] == "bot"
        assert received == ["one", "two", "three"]
        _, rows = stored(gw, c.id)
        assert [r.text for r in rows if r.author == "bot"] == ["echo: one", "echo: two", "echo: three"]
        assert _pending_turns(gw) == 0


async def test_a_turn_two_instances_answer_is_stored_once(stack: Stack, tmp_path: Path) -> None:
    """Two gateways whose turn locks are not shared (as when a lock lapsed) take one turn at once."""
    async with fake_rasa(delay=0.5) as (rasa_url, received):
        config = gateway_config(database_url("sqlite", tmp_path), stack, rasa_url=rasa_url)
        async with running_gateway(config) as one, running_gateway(config) as two:
            c = await open_conversation(one)
            pending = one.app.ctx.desk.turns.store(c.id, "hello", {}, None, False, None)
            assert pending is not None
            answers = await asyncio.gather(*(gw.app.ctx.desk.turns._turns_until(c.id, pending[0]) for gw in (one, two)))
            assert received == ["hello", "hello"]  # both reached the bot...
            _, rows = stored(one, c.id)
            assert [r.text for r in rows if r.author == "bot"] == ["echo: hello"]  # ...one answer was kept
            assert sorted(len(a["messages"]) for a in answers) == [0, 1] and _pending_turns(one) == 0


async def test_hand_back_after_an_outage_mid_form_ends_the_form(gw: Gateway) -> None:
    c = await open_conversation(gw)
    reply = await say(gw, c, "where is my order")
    assert "order number" in texts(reply)[0]  # the order form waits for the number
    rasa = gw.app.ctx.desk.rasa
    real_urls, rasa.urls = rasa.urls, ["http://127.0.0.1:9"]  # Rasa unreachable for one message
    try:
        reply = await say(gw, c, "hmm let me look")
    finally:
        rasa.urls = real_urls
    assert reply["status"] == "queued"
    alice = await login(gw)
    await call(gw, "POST", f"/api/agent/conversations/{c.id}/claim", token=alice)
    status, detail = await call(gw, "POST", f"/api/agent/conversations/{c.id}/handback", {"note": "all sorted"}, alice)
    assert status == 200
    last = detail["messages"][-1]["text"]
    assert "all sorted" in last and "I need the order number" not in last
    reply = await say(gw, c, "thanks")
    assert reply["status"] == "bot" and "I need the order number" not in " ".join(texts(reply))


def _gateway_process(port: int, db: Path, rasa_url: str, stack: Stack, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DEMO_MODE": "1",
        "DATABASE_URL": f"sqlite:///{db}",
        "RASA_URL": rasa_url,
        "RASA_TOKEN": RASA_TOKEN,
        "PLATFORM_URL": stack.platform_url,
        "PLATFORM_API_KEY": PLATFORM_KEY,
        "GATEWAY_PORT": str(port),
        "TELEGRAM_TOKEN": "",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.gateway"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


async def _until(check: Any, seconds: float) -> Any:
    for _ in range(int(seconds * 4)):
        try:
            found = await check()
        except (aiohttp.ClientError, OSError):
            found = None
        if found:
            return found
        await asyncio.sleep(0.25)
    raise AssertionError("condition not met in time")


async def test_a_killed_gateway_answers_the_waiting_message_on_restart(stack: Stack, tmp_path: Path) -> None:
    """SIGKILL while a message waits for a hanging Rasa; the restarted gateway answers it."""

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(120)

    hanging = await asyncio.start_server(hang, "127.0.0.1", 0)
    hanging_url = f"http://127.0.0.1:{hanging.sockets[0].getsockname()[1]}"
    port, db, log = free_port(), tmp_path / "app.db", tmp_path / "gateway.log"
    url = f"http://127.0.0.1:{port}"
    proc = _gateway_process(port, db, hanging_url, stack, log)
    try:
        async with aiohttp.ClientSession(url) as http:

            async def up() -> bool:
                async with http.get("/health") as resp:
                    return resp.status == 200

            await _until(up, 30)
            async with http.post("/api/conversations") as resp:
                conv = await resp.json()
            headers = {"Authorization": f"Bearer {conv['token']}"}
            path = f"/api/conversations/{conv['conversation_id']}/messages"
            waiting = asyncio.create_task(http.post(path, json={"text": "hello"}, headers=headers))

            async def stored_message() -> bool:
                async with http.get(path, headers=headers) as resp:
                    return bool((await resp.json())["messages"])

            await _until(stored_message, 10)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            waiting.cancel()
        proc = _gateway_process(port, db, stack.rasa_url, stack, log)
        async with aiohttp.ClientSession(url) as http:

            async def answered() -> list[dict[str, Any]] | None:
                async with http.get(path, headers=headers) as resp:
                    body = await resp.json()
                return body["messages"] if len(body["messages"]) > 1 else None

            messages = await _until(answered, 60)
        assert [m["author"] for m in messages] == ["customer", "bot"]
        assert messages[1]["text"].startswith("Hello")
    finally:
        proc.kill()
        proc.wait(10)
        hanging.close()
