"""The gateway against the real Rasa stack, over SQLite and PostgreSQL: states, escalations, agents, access."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sanic import Sanic
from sanic.response import json as json_response

from tests.conftest import Gateway, database_url, gateway_config, running_gateway
from tests.servers import serve
from tests.stack import Stack

pytestmark = pytest.mark.asyncio


@dataclass
class Customer:
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def call(gw: Gateway, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with gw.http.request(method, path, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def open_conversation(gw: Gateway) -> Customer:
    status, body = await call(gw, "POST", "/api/conversations")
    assert status == 201
    return Customer(body["conversation_id"], body["token"])


async def say(gw: Gateway, c: Customer, text: str) -> dict[str, Any]:
    status, body = await call(gw, "POST", f"/api/conversations/{c.id}/messages", {"text": text}, c.token)
    assert status == 200, body
    return dict(body)


async def login(gw: Gateway, username: str = "alice") -> str:
    status, body = await call(gw, "POST", "/api/agent/login", {"username": username, "password": f"{username}-demo"})
    assert status == 200, body
    return str(body["token"])


async def escalated(gw: Gateway, text: str = "I want to talk to a human") -> tuple[Customer, dict[str, Any]]:
    c = await open_conversation(gw)
    reply = await say(gw, c, text)
    assert reply["status"] == "queued", reply
    return c, reply


def texts(reply: dict[str, Any]) -> list[str]:
    return [m["text"] for m in reply["messages"]]


async def test_bot_answers_while_the_conversation_is_with_the_bot(gateway: Gateway) -> None:
    c = await open_conversation(gateway)
    reply = await say(gateway, c, "hello")
    assert reply["status"] == "bot"
    assert reply["messages"][0]["author"] == "bot" and "shop's assistant" in reply["messages"][0]["text"]
    reply = await say(gateway, c, "where is my order 80000005")
    assert "email address or phone number on order 80000005" in texts(reply)[0]
    reply = await say(gateway, c, "li.wei@example.com")
    assert any("Order 80000005" in t for t in texts(reply))
    _, transcript = await call(gateway, "GET", f"/api/conversations/{c.id}/messages?after=0", token=c.token)
    assert [m["author"] for m in transcript["messages"][:2]] == ["customer", "bot"]
    assert [m["seq"] for m in transcript["messages"]] == list(range(1, len(transcript["messages"]) + 1))
    _, later = await call(gateway, "GET", f"/api/conversations/{c.id}/messages?after=3", token=c.token)
    assert [m["seq"] for m in later["messages"]] == list(range(4, len(transcript["messages"]) + 1))


async def test_a_message_sent_again_with_its_client_id_is_stored_and_answered_once(gateway: Gateway) -> None:
    c = await open_conversation(gateway)
    body = {"text": "hello", "client_id": "widget-0123456789abcdef"}
    first = await call(gateway, "POST", f"/api/conversations/{c.id}/messages", body, c.token)
    again = await call(gateway, "POST", f"/api/conversations/{c.id}/messages", body, c.token)
    assert first[0] == again[0] == 200 and first[1]["messages"] and again[1]["duplicate"] is True
    status, transcript = await call(gateway, "GET", f"/api/conversations/{c.id}/messages", token=c.token)
    assert [m["author"] for m in transcript["messages"]] == ["customer", "bot"]
    other = await open_conversation(gateway)
    status, refused = await call(gateway, "POST", f"/api/conversations/{other.id}/messages", body, other.token)
    assert status == 409 and refused["error"]["code"] == "client_id_reused"
    for bad in ("short", "x" * 65, "has space 123", "ünïcode-1234", 12345678):
        status, refused = await call(
            gateway, "POST", f"/api/conversations/{c.id}/messages", {"text": "hi", "client_id": bad}, c.token
        )
        assert status == 400 and refused["error"]["field"] == "client_id", bad


async def test_explicit_request_queues_with_the_bots_summary(gateway: Gateway) -> None:
    c, reply = await escalated(gateway)
    assert any("No agent is online right now" in t and "48 hours" in t for t in texts(reply))
    token = await login(gateway)
    _, queue = await call(gateway, "GET", "/api/agent/queue", token=token)
    row = next(r for r in queue["queue"] if r["id"] == c.id)
    assert (row["reason"], row["priority"], row["skill"]) == ("customer_request", "normal", "general")
    assert "Intents: human_agent" in row["summary"] and row["last_message"] == "I want to talk to a human"
    async with gateway.http.ws_connect(f"/api/agent/ws?token={token}"):  # a console open: an agent is online
        waiting = await say(gateway, c, "hello? anyone?")
    assert waiting["status"] == "queued"
    assert texts(waiting) == [
        "A colleague will take over: you're number 1 in the queue. Anything you write here reaches them."
    ]
    _, queue = await call(gateway, "GET", "/api/agent/queue", token=token)
    assert queue["queue"][0]["last_message"] == "hello? anyone?"


async def test_queue_is_ordered_by_priority_then_waiting_time(gateway: Gateway) -> None:
    first, _ = await escalated(gateway)
    second, _ = await escalated(gateway)
    angry, _ = await escalated(gateway, "This is RIDICULOUS!!! You are useless thieves!!")
    token = await login(gateway)
    _, queue = await call(gateway, "GET", "/api/agent/queue", token=token)
    assert [r["id"] for r in queue["queue"]] == [angry.id, first.id, second.id]
    assert queue["queue"][0]["reason"] == "angry_customer" and queue["queue"][0]["priority"] == "high"


async def test_firm_but_calm_customer_stays_with_the_bot(gateway: Gateway) -> None:
    c = await open_conversation(gateway)
    reply = await say(gateway, c, "I need my refund by Friday, please.")
    assert reply["status"] == "bot"


async def test_a_customer_stuck_three_times_escalates(gateway: Gateway, stack: Stack) -> None:
    """Small talk is answered and never queued; two messages not understood offer a person, three hand off."""
    first, second, third = stack.not_understood(3)
    c = await open_conversation(gateway)
    assert (await say(gateway, c, "tell me a joke"))["status"] == "bot"
    assert (await say(gateway, c, "what's the weather like today"))["status"] == "bot"
    assert (await say(gateway, c, first))["status"] == "bot"
    assert (await say(gateway, c, second))["status"] == "bot"
    reply = await say(gateway, c, third)
    assert reply["status"] == "queued"
    token = await login(gateway)
    _, detail = await call(gateway, "GET", f"/api/agent/conversations/{c.id}", token=token)
    assert detail["reason"] == "fallback"


async def test_claim_reply_resolve_and_rate(gateway: Gateway) -> None:
    c, _ = await escalated(gateway)
    alice = await login(gateway)
    status, detail = await call(gateway, "POST", f"/api/agent/conversations/{c.id}/claim", token=alice)
    assert status == 200 and detail["status"] == "assigned" and detail["assignee"] == "Alice"
    status, sent = await call(
        gateway, "POST", f"/api/agent/conversations/{c.id}/messages", {"text": "Hi, Alice here."}, alice
    )
    assert status == 201 and sent["author"] == "agent" and sent["agent"] == "Alice"
    quiet = await say(gateway, c, "thanks, my parcel is late")
    assert quiet == {"messages": [], "status": "assigned"}  # the bot stays silent while a person has it
    status, detail = await call(gateway, "POST", f"/api/agent/conversations/{c.id}/resolve", token=alice)
    assert detail["status"] == "resolved"
    _, transcript = await call(gateway, "GET", f"/api/conversations/{c.id}/messages", token=c.token)
    authors = [(m["author"], m["text"]) for m in transcript["messages"]]
    assert ("system", "Alice joined the conversation.") in authors
    assert ("agent", "Hi, Alice here.") in authors
    assert ("customer", "thanks, my parcel is late") in authors
    assert authors[-1] == ("system", "Alice left: the conversation is resolved. How did we do?")
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": "5"}, {"rating": 4, "comment": "x" * 1001}):
        status, body = await call(gateway, "POST", f"/api/conversations/{c.id}/rating", bad, c.token)
        assert status == 400 and body["error"]["field"] in ("rating", "comment")
    status, _ = await call(
        gateway, "POST", f"/api/conversations/{c.id}/rating", {"rating": 5, "comment": "Great"}, c.token
    )
    assert status == 200
    _, detail = await call(gateway, "GET", f"/api/agent/conversations/{c.id}", token=alice)
    assert (detail["rating"], detail["rating_comment"]) == (5, "Great")
    assert detail["metrics"]["waiting_seconds"] >= 0 and detail["metrics"]["first_response_seconds"] >= 0
    history = [(h["from"], h["to"], h["actor"]) for h in detail["history"]]
    assert history == [
        (None, "bot", "customer:web"),
        ("bot", "queued", "bot"),
        ("queued", "assigned", "agent:alice"),
        ("assigned", "resolved", "agent:alice"),
    ]
    assert all(h["reason"] and h["at"] for h in detail["history"])
    reopened = await say(gateway, c, "hello again")
    assert reopened["status"] == "bot" and reopened["messages"][0]["author"] == "bot"


async def test_rating_needs_a_resolved_conversation(gateway: Gateway) -> None:
    c = await open_conversation(gateway)
    status, body = await call(gateway, "POST", f"/api/conversations/{c.id}/rating", {"rating": 4}, c.token)
    assert status == 409 and body["error"]["code"] == "not_resolved"


async def test_two_agents_claiming_at_once_one_wins(gateway: Gateway) -> None:
    c, _ = await escalated(gateway)
    alice, bob = await login(gateway, "alice"), await login(gateway, "bob")
    results = await asyncio.gather(
        call(gateway, "POST", f"/api/agent/conversations/{c.id}/claim", token=alice),
        call(gateway, "POST", f"/api/agent/conversations/{c.id}/claim", token=bob),
    )
    assert sorted(status for status, _ in results) == [200, 409]
    loser = next(body for status, body in results if status == 409)
    assert loser["error"]["code"] == "not_claimable"
    _, detail = await call(gateway, "GET", f"/api/agent/conversations/{c.id}", token=alice)
    assert [h["to"] for h in detail["history"]].count("assigned") == 1


async def test_only_the_assignee_acts_and_transitions_are_checked(gateway: Gateway) -> None:
    c, _ = await escalated(gateway)
    alice, bob = await login(gateway, "alice"), await login(gateway, "bob")
    status, body = await call(gateway, "POST", f"/api/agent/conversations/{c.id}/resolve", token=alice)
    assert status == 409 and body["error"]["code"] == "not_yours"  # queued: claim first
    await call(gateway, "POST", f"/api/agent/conversations/{c.id}/claim", token=alice)
    for action, payload in (("messages", {"text": "hi"}), ("resolve", None), ("handback", {})):
        status, body = await call(gateway, "POST", f"/api/agent/conversations/{c.id}/{action}", payload, bob)
        assert status == 409 and body["error"]["code"] == "not_yours"
    status, body = await call(gateway, "POST", f"/api/agent/conversations/{c.id}/claim", token=bob)
    assert status == 409


async def test_hand_back_resumes_the_bot_which_knows_what_the_agent_did(gateway: Gateway) -> None:
    c, _ = await escalated(gateway)
    alice = await login(gateway)
    await call(gateway, "POST", f"/api/agent/conversations/{c.id}/claim", token=alice)
    status, detail = await call(
        gateway, "POST", f"/api/agent/conversations/{c.id}/handback", {"note": "address changed to Hangzhou"}, alice
    )
    assert status == 200 and detail["status"] == "bot"
    last = detail["messages"][-1]
    assert last["author"] == "bot" and "address changed to Hangzhou" in last["text"]
    reply = await say(gateway, c, "where is my order 80000005")
    assert reply["status"] == "bot" and "80000005" in texts(reply)[0]


async def test_rasa_down_keeps_the_message_and_escalates(stack: Stack, tmp_path: Path) -> None:
    config = gateway_config(database_url("sqlite", tmp_path), stack, rasa_url="http://127.0.0.1:9")
    async with running_gateway(config) as gw:
        c = await open_conversation(gw)
        reply = await say(gw, c, "where is my order 80000005")
        assert reply["status"] == "queued"
        assert texts(reply)[0] == "Sorry, our assistant is not available right now."
        _, transcript = await call(gw, "GET", f"/api/conversations/{c.id}/messages", token=c.token)
        assert transcript["messages"][0]["text"] == "where is my order 80000005"
        token = await login(gw)
        _, queue = await call(gw, "GET", "/api/agent/queue", token=token)
        assert queue["queue"][0]["reason"] == "bot_unavailable"


async def test_a_restart_loses_nothing(stack: Stack, tmp_path: Path) -> None:
    config = gateway_config(database_url("sqlite", tmp_path), stack)
    async with running_gateway(config) as gw:
        c, _ = await escalated(gw)
        await say(gw, c, "still there?")
    async with running_gateway(config) as gw:
        token = await login(gw)
        _, queue = await call(gw, "GET", "/api/agent/queue", token=token)
        assert [r["id"] for r in queue["queue"]] == [c.id]
        _, transcript = await call(gw, "GET", f"/api/conversations/{c.id}/messages", token=c.token)
        assert [m["text"] for m in transcript["messages"] if m["author"] == "customer"] == [
            "I want to talk to a human",
            "still there?",
        ]
        status, _ = await call(gw, "POST", f"/api/agent/conversations/{c.id}/claim", token=token)
        assert status == 200


async def test_access_control_and_bad_input(gateway: Gateway) -> None:
    c, other = await open_conversation(gateway), await open_conversation(gateway)
    path = f"/api/conversations/{c.id}/messages"
    assert (await call(gateway, "POST", path, {"text": "hi"}))[0] == 401
    assert (await call(gateway, "POST", path, {"text": "hi"}, other.token))[0] == 403
    assert (await call(gateway, "GET", path, token=other.token))[0] == 403
    assert (await call(gateway, "GET", "/api/conversations/nope/messages", token=c.token))[0] == 404
    agent_token = await login(gateway)
    assert (await call(gateway, "GET", path, token=agent_token))[0] == 403  # an agent token is no customer token
    assert (await call(gateway, "GET", "/api/agent/queue", token=c.token))[0] == 401  # and the reverse
    assert (await call(gateway, "GET", "/api/agent/queue"))[0] == 401
    status, body = await call(gateway, "POST", "/api/agent/login", {"username": "alice", "password": "wrong"})
    assert status == 401 and "token" not in body
    for bad, field in (({"text": "   "}, "text"), ({"text": "x" * 4001}, "text"), ({}, "text"), ({"text": 5}, "text")):
        status, body = await call(gateway, "POST", path, bad, c.token)
        assert status == 400 and body["error"]["field"] == field
    async with gateway.http.post(
        path, data=b"{nope", headers={**c.headers, "Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_json"
    status, body = await call(gateway, "GET", f"{path}?after=abc", token=c.token)
    assert status == 400 and body["error"]["field"] == "after"
    _, transcript = await call(gateway, "GET", path, token=c.token)
    assert transcript["messages"] == []  # nothing half-written by the refused requests


async def test_live_events_reach_console_and_widget(gateway: Gateway) -> None:
    alice = await login(gateway)
    c = await open_conversation(gateway)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{gateway.url}/api/agent/ws?token={alice}") as console,
        http.ws_connect(f"{gateway.url}/ws/conversations/{c.id}?token={c.token}") as widget,
    ):
        await say(gateway, c, "I want to talk to a human")
        seen = await _until(console, lambda e: e["type"] == "status" and e["status"] == "queued")
        assert seen["conversation_id"] == c.id
        await call(gateway, "POST", f"/api/agent/conversations/{c.id}/claim", token=alice)
        await call(gateway, "POST", f"/api/agent/conversations/{c.id}/messages", {"text": "Hello from Alice"}, alice)
        got = await _until(widget, lambda e: e["type"] == "message" and e["message"]["author"] == "agent")
        assert got["message"]["text"] == "Hello from Alice"
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(f"{gateway.url}/ws/conversations/{c.id}?token=wrong")


async def _until(ws: aiohttp.ClientWebSocketResponse, wanted: Any, timeout: float = 10) -> dict[str, Any]:
    async def scan() -> dict[str, Any]:
        while True:
            event = json.loads((await ws.receive()).data)
            if wanted(event):
                return dict(event)

    return await asyncio.wait_for(scan(), timeout)


async def test_a_silent_bot_counts_as_down(stack: Stack, tmp_path: Path) -> None:
    """When the action server is down Rasa logs the failed action and answers nothing at all."""
    silent = Sanic("silent_rasa")

    @silent.post("/webhooks/gateway/webhook")
    async def webhook(request: Any) -> Any:
        return json_response([])

    @silent.post("/conversations/<sender>/tracker/events")
    async def events(request: Any, sender: str) -> Any:
        return json_response({})

    async with serve(silent) as rasa_url:
        config = gateway_config(database_url("sqlite", tmp_path), stack, rasa_url=rasa_url)
        async with running_gateway(config) as gw:
            c = await open_conversation(gw)
            reply = await say(gw, c, "where is my order 80000005")
            assert reply["status"] == "queued"
            assert texts(reply)[0] == "Sorry, our assistant is not available right now."
