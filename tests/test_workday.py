"""The agents' working day through the real gateway and bot: presence and "no agent online", skill routing
(order, the wait, nobody online with the skill), transfers, internal notes, canned replies in both languages,
typing both ways, the customer's history beside the transcript, the supervisor's view and admin."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import Gateway, database_url, gateway_config, running_gateway
from tests.servers import Clock
from tests.stack import Stack
from tests.test_gateway import Customer, call, escalated, login, open_conversation, say, texts

pytestmark = pytest.mark.asyncio
START = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
NO_AGENT = "No agent is online right now"


@pytest.fixture
async def desk(stack: Stack, tmp_path: Path) -> AsyncIterator[tuple[Gateway, Clock]]:
    clock = Clock(START)
    async with running_gateway(gateway_config(database_url("sqlite", tmp_path), stack), clock=clock) as gw:
        yield gw, clock


class Console:
    """An agent's console: logged in, its websocket open, the events it received kept."""

    def __init__(self, gw: Gateway, token: str, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.gw, self.token, self.ws = gw, token, ws
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await call(self.gw, method, path, body, self.token)

    async def queue(self) -> dict[str, Any]:
        status, found = await self.call("GET", "/api/agent/queue")
        assert status == 200
        return dict(found)

    async def event(self, check: Any, seconds: float = 5.0) -> dict[str, Any]:
        """The first event (received before or now) for which `check` holds."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            found = next((e for e in self.events if check(e)), None)
            if found is not None:
                return found
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, f"no such event among {self.events}"
            try:
                self.events.append(await self.ws.receive_json(timeout=left))
            except asyncio.TimeoutError:
                continue


@asynccontextmanager
async def opened(gw: Gateway, username: str) -> AsyncIterator[Console]:
    """`username` logged in with a console open (so present) for the block."""
    token = await login(gw, username)
    async with gw.http.ws_connect(f"/api/agent/ws?token={token}") as ws:
        yield Console(gw, token, ws)


async def presence_of(c: Console) -> dict[str, str]:
    _, team = await c.call("GET", "/api/agent/agents")
    return {a["username"]: a["presence"] for a in team["agents"]}


async def test_presence_decides_whether_an_agent_is_online(desk: tuple[Gateway, Clock]) -> None:
    gw, _ = desk
    _, reply = await escalated(gw)
    assert any(NO_AGENT in t for t in texts(reply))  # nobody has a console open
    async with opened(gw, "alice") as alice, opened(gw, "bob") as bob:
        assert (await presence_of(alice))["alice"] == "online"
        _, reply = await escalated(gw)
        assert any("in the queue" in t for t in texts(reply))
        status, body = await alice.call("PUT", "/api/agent/presence", {"presence": "away"})
        assert status == 200 and body == {"username": "alice", "presence": "away"}
        await bob.event(lambda e: e == {"type": "presence", "agent": "alice", "presence": "away"})
        await bob.call("PUT", "/api/agent/presence", {"presence": "away"})
        _, reply = await escalated(gw)
        assert any(NO_AGENT in t for t in texts(reply))  # both away: nobody will answer soon
        await alice.call("PUT", "/api/agent/presence", {"presence": "online"})
        assert (await presence_of(alice)) == {"alice": "online", "bob": "away", "sam": "offline"}
        status, _ = await alice.call("PUT", "/api/agent/presence", {"presence": "offline"})
        assert status == 400  # offline is not chosen: it is a closed console
    async with opened(gw, "bob") as bob:
        await bob.call("PUT", "/api/agent/presence", {"presence": "online"})
        assert (await presence_of(bob))["alice"] == "offline"  # her last console closed
    _, reply = await escalated(gw)
    assert any(NO_AGENT in t for t in texts(reply))


async def queued_for(gw: Gateway, agent: Console, skill: str) -> str:
    """A conversation queued for `skill`: escalated, claimed by `agent`, transferred to the skill."""
    c, _ = await escalated(gw)
    assert (await agent.call("POST", f"/api/agent/conversations/{c.id}/claim"))[0] == 200
    status, detail = await agent.call("POST", f"/api/agent/conversations/{c.id}/transfer", {"to_skill": skill})
    assert status == 200 and (detail["status"], detail["skill"]) == ("queued", skill)
    return c.id


async def test_a_conversation_goes_first_to_the_agents_with_its_skill(desk: tuple[Gateway, Clock]) -> None:
    gw, clock = desk
    sam = await login(gw, "sam")
    status, _ = await call(gw, "PUT", "/api/agent/agents/bob", {"skills": ["logistics"]}, sam)
    assert status == 200
    async with opened(gw, "alice") as alice, opened(gw, "bob") as bob:
        general, _ = await escalated(gw)  # waits longest, for the general skill (Alice's)
        clock.now += timedelta(seconds=10)
        parcel = await queued_for(gw, alice, "logistics")  # Bob's skill
        assert [r["id"] for r in (await bob.queue())["queue"]] == [parcel]
        assert [r["id"] for r in (await alice.queue())["queue"]] == [general.id]
        status, refused = await alice.call("POST", f"/api/agent/conversations/{parcel}/claim")
        assert status == 409 and refused["error"]["code"] == "not_offered"
        clock.now += timedelta(seconds=60)  # SKILL_WAIT_SECONDS passed: offered to everyone
        bobs = (await bob.queue())["queue"]
        assert [(r["id"], r["for_me"]) for r in bobs] == [(parcel, True), (general.id, False)]  # his skill on top
        alices = (await alice.queue())["queue"]
        assert [(r["id"], r["for_me"]) for r in alices] == [(general.id, True), (parcel, False)]
        assert (await alice.call("POST", f"/api/agent/conversations/{parcel}/claim"))[0] == 200


async def test_with_nobody_online_for_a_skill_everyone_is_offered_it_at_once(desk: tuple[Gateway, Clock]) -> None:
    gw, _ = desk
    async with opened(gw, "alice") as alice:
        parcel = await queued_for(gw, alice, "logistics")  # Bob's skill, and Bob has no console open
        assert parcel in [r["id"] for r in (await alice.queue())["queue"]]
        async with opened(gw, "bob"):
            assert parcel not in [r["id"] for r in (await alice.queue())["queue"]]
            assert (await alice.call("PUT", "/api/agent/presence", {"presence": "online"}))[0] == 200


async def test_transfer_to_a_colleague_and_to_a_skill_with_a_note(desk: tuple[Gateway, Clock]) -> None:
    gw, _ = desk
    c, _ = await escalated(gw)
    async with opened(gw, "alice") as alice, opened(gw, "bob") as bob:
        assert (await alice.call("POST", f"/api/agent/conversations/{c.id}/claim"))[0] == 200
        body = {"to_agent": "bob", "note": "VIP customer, second contact today"}
        status, detail = await alice.call("POST", f"/api/agent/conversations/{c.id}/transfer", body)
        assert status == 200 and (detail["status"], detail["assignee"]) == ("assigned", "Bob")
        assert [r["id"] for r in (await bob.queue())["mine"]] == [c.id]
        assert detail["history"][-1]["reason"] == "transfer to bob"
        notes = [m for m in detail["messages"] if m["author"] == "note"]
        assert [(n["agent"], n["text"]) for n in notes] == [("Alice", "VIP customer, second contact today")]
        status, refused = await alice.call("POST", f"/api/agent/conversations/{c.id}/transfer", {"to_agent": "sam"})
        assert status == 409 and refused["error"]["code"] == "not_yours"  # no longer hers
        status, detail = await bob.call("POST", f"/api/agent/conversations/{c.id}/transfer", {"to_skill": "refunds"})
        assert (detail["status"], detail["skill"], detail["assignee"]) == ("queued", "refunds", None)
        for bad in ({}, {"to_agent": "bob", "to_skill": "refunds"}, {"to_skill": "cooking"}):
            status, refused = await bob.call("POST", f"/api/agent/conversations/{c.id}/transfer", bad)
            assert status == 400, bad
        status, refused = await alice.call("POST", f"/api/agent/conversations/{c.id}/transfer", {"to_agent": "zed"})
        assert status in (404, 409)
    status, transcript = await call(gw, "GET", f"/api/conversations/{c.id}/messages", token=c.token)
    shown = [m["text"] for m in transcript["messages"]]
    assert "Bob is taking over from here." in shown and "I'm passing you to a colleague" in " ".join(shown)
    assert not any("VIP" in t for t in shown)


async def test_a_note_never_reaches_the_customer(desk: tuple[Gateway, Clock]) -> None:
    gw, _ = desk
    c, _ = await escalated(gw)
    async with (
        opened(gw, "alice") as alice,
        gw.http.ws_connect(f"/ws/conversations/{c.id}?token={c.token}") as widget,
    ):
        status, note = await alice.call(
            "POST", f"/api/agent/conversations/{c.id}/notes", {"text": "asked twice, polite"}
        )
        assert status == 201 and note["author"] == "note"
        await alice.event(lambda e: e.get("type") == "message" and e["message"]["author"] == "note")
        assert (await alice.call("POST", f"/api/agent/conversations/{c.id}/claim"))[0] == 200
        await alice.call("POST", f"/api/agent/conversations/{c.id}/messages", {"text": "Hello, I'm here."})
        received = [json.loads((await widget.receive(timeout=5)).data) for _ in range(3)]
        seen = [e["message"]["text"] for e in received if e["type"] == "message"]
        assert "Hello, I'm here." in seen and "asked twice, polite" not in seen
        _, detail = await alice.call("GET", f"/api/agent/conversations/{c.id}")
        assert "asked twice, polite" in [m["text"] for m in detail["messages"]]
    _, transcript = await call(gw, "GET", f"/api/conversations/{c.id}/messages", token=c.token)
    assert "asked twice, polite" not in [m["text"] for m in transcript["messages"]]
    status, _ = await call(gw, "POST", f"/api/agent/conversations/{c.id}/notes", {"text": " "}, alice.token)
    assert status == 400


async def verified_escalation(gw: Gateway, language: str = "en") -> Customer:
    status, body = await call(gw, "POST", "/api/conversations", {"language": language})
    assert status == 201
    c = Customer(body["conversation_id"], body["token"])
    ask = "where is my order 80000005" if language == "en" else "我的订单80000005到哪了"
    await say(gw, c, ask)
    await say(gw, c, "li.wei@example.com")
    reply = await say(gw, c, "I want to talk to a human" if language == "en" else "我要转人工")
    assert reply["status"] == "queued", reply
    return c


async def test_canned_replies_fill_the_order_and_the_name_in_either_language(desk: tuple[Gateway, Clock]) -> None:
    gw, _ = desk
    english, chinese = await verified_escalation(gw), await verified_escalation(gw, "zh")
    plain, _ = await escalated(gw)
    alice = await login(gw)
    _, found = await call(gw, "GET", f"/api/agent/conversations/{english.id}/canned", token=alice)
    replies = {r["shortcut"]: r["text"] for r in found["replies"]}
    assert replies["hello"] == "Hello Li Wei, this is Alice. I'm reading your conversation now."
    assert replies["checking"] == "I'm checking your order 80000005 right now; one moment please."
    _, found = await call(gw, "GET", f"/api/agent/conversations/{chinese.id}/canned", token=alice)
    replies = {r["shortcut"]: r["text"] for r in found["replies"]}
    assert replies["hello"] == "Li Wei您好，我是客服Alice，正在查看您的对话。"
    assert replies["checking"] == "我正在为您查询订单80000005，请稍等。"
    _, found = await call(gw, "GET", f"/api/agent/conversations/{plain.id}/canned", token=alice)
    replies = {r["shortcut"]: r["text"] for r in found["replies"]}
    assert replies["hello"] == "Hello, this is Alice. I'm reading your conversation now."  # no name known
    stranger = await open_conversation(gw)  # gives someone's order number, never proves to be them
    await say(gw, stranger, "where is my order 80000005")
    assert (await say(gw, stranger, "I want to talk to a human"))["status"] == "queued"
    _, found = await call(gw, "GET", f"/api/agent/conversations/{stranger.id}/canned", token=alice)
    assert not any("Li Wei" in r["text"] for r in found["replies"])
    sam = await login(gw, "sam")
    new = {"shortcut": "returns", "language": "en", "text": "Returns for {order_number} are open for 7 days."}
    assert (await call(gw, "POST", "/api/agent/canned", new, sam))[0] == 201
    assert (await call(gw, "POST", "/api/agent/canned", new, sam))[0] == 409
    assert (await call(gw, "POST", "/api/agent/canned", {**new, "shortcut": "x y"}, sam))[0] == 400
    assert (await call(gw, "POST", "/api/agent/canned", {**new, "shortcut": "other"}, alice))[0] == 403
    _, found = await call(gw, "GET", f"/api/agent/conversations/{english.id}/canned", token=alice)
    assert "Returns for 80000005 are open for 7 days." in [r["text"] for r in found["replies"]]


async def test_typing_shows_both_ways_and_only_the_assignee_types_to_the_customer(
    desk: tuple[Gateway, Clock],
) -> None:
    gw, _ = desk
    c, _ = await escalated(gw)
    async with (
        opened(gw, "alice") as alice,
        opened(gw, "bob") as bob,
        gw.http.ws_connect(f"/ws/conversations/{c.id}?token={c.token}") as widget,
    ):
        await widget.send_str(json.dumps({"type": "typing"}))
        await alice.event(lambda e: e == {"type": "typing", "conversation_id": c.id, "who": "customer"})
        await bob.ws.send_str(json.dumps({"type": "typing", "conversation_id": c.id}))  # not his: not relayed
        assert (await alice.call("POST", f"/api/agent/conversations/{c.id}/claim"))[0] == 200
        await alice.ws.send_str(json.dumps({"type": "typing", "conversation_id": c.id}))
        while True:
            event = json.loads((await widget.receive(timeout=5)).data)
            if event["type"] == "typing":
                break
        assert event == {"type": "typing", "who": "agent", "agent": "Alice"}


async def test_the_customers_earlier_conversations_and_orders_are_beside_the_transcript(
    desk: tuple[Gateway, Clock],
) -> None:
    gw, clock = desk
    first = await verified_escalation(gw)
    clock.now += timedelta(days=2)
    second = await verified_escalation(gw)
    stranger, _ = await escalated(gw)
    alice = await login(gw)
    _, detail = await call(gw, "GET", f"/api/agent/conversations/{second.id}", token=alice)
    assert [c["id"] for c in detail["earlier"]] == [first.id]
    assert detail["earlier"][0]["order_number"] == "80000005"
    assert "80000005" in [o["number"] for o in detail["customer_orders"]["orders"]]
    _, detail = await call(gw, "GET", f"/api/agent/conversations/{stranger.id}", token=alice)
    assert detail["earlier"] == [] and detail["customer_orders"] is None  # not verified: no history shown


async def test_a_supervisor_sees_every_conversation_reassigns_and_sets_skills(desk: tuple[Gateway, Clock]) -> None:
    gw, _ = desk
    c, _ = await escalated(gw)
    alice, sam = await login(gw), await login(gw, "sam")
    assert (await call(gw, "POST", f"/api/agent/conversations/{c.id}/claim", token=alice))[0] == 200
    _, queue = await call(gw, "GET", "/api/agent/queue", token=sam)
    assert [(r["id"], r["assignee"]) for r in queue["others"]] == [(c.id, "Alice")]
    _, queue = await call(gw, "GET", "/api/agent/queue", token=alice)
    assert "others" not in queue
    status, detail = await call(gw, "POST", f"/api/agent/conversations/{c.id}/transfer", {"to_agent": "bob"}, sam)
    assert status == 200 and detail["assignee"] == "Bob"
    status, refused = await call(gw, "PUT", "/api/agent/agents/bob", {"skills": ["refunds"]}, alice)
    assert status == 403 and refused["error"]["code"] == "supervisors_only"
    assert (await call(gw, "PUT", "/api/agent/agents/bob", {"skills": ["cooking"]}, sam))[0] == 400
    assert (await call(gw, "PUT", "/api/agent/agents/nobody", {"skills": ["refunds"]}, sam))[0] == 404
    status, refused = await call(gw, "PUT", "/api/agent/agents/sam", {"role": "agent"}, sam)
    assert status == 409 and refused["error"]["code"] == "last_supervisor"
    status, bob = await call(
        gw, "PUT", "/api/agent/agents/bob", {"skills": ["refunds", "general"], "role": "supervisor"}, sam
    )
    assert status == 200 and (bob["skills"], bob["role"]) == (["refunds", "general"], "supervisor")
    assert (await call(gw, "PUT", "/api/agent/agents/sam", {"role": "agent"}, sam))[0] == 200  # Bob still is one


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/agent/presence", {"presence": "away"}),
        ("GET", "/api/agent/agents", None),
        ("PUT", "/api/agent/agents/bob", {"skills": ["refunds"]}),
        ("POST", "/api/agent/conversations/{id}/notes", {"text": "x"}),
        ("POST", "/api/agent/conversations/{id}/transfer", {"to_skill": "refunds"}),
        ("GET", "/api/agent/conversations/{id}/canned", None),
        ("POST", "/api/agent/canned", {"shortcut": "x", "language": "en", "text": "x"}),
    ],
)
async def test_the_working_days_calls_need_an_agents_token(
    desk: tuple[Gateway, Clock], method: str, path: str, body: Any
) -> None:
    gw, _ = desk
    c, _ = await escalated(gw)
    for token in (None, c.token, "forged"):  # none, a customer's own, made up
        status, refused = await call(gw, method, path.format(id=c.id), body, token)
        assert status == 401 and refused["error"]["code"] == "unauthorized", (token, refused)


async def test_bad_bodies_for_the_working_day_are_400s(desk: tuple[Gateway, Clock]) -> None:
    gw, _ = desk
    c, _ = await escalated(gw)
    alice = await login(gw)
    notes = f"/api/agent/conversations/{c.id}/notes"
    for bad in ({"text": "x" * 4001}, {"text": 5}, {"text": "ok", "extra": 1}, [], "text"):
        assert (await call(gw, "POST", notes, bad, alice))[0] == 400, bad
    async with gw.http.post(notes, data=b"{not json", headers={"Authorization": f"Bearer {alice}"}) as resp:
        assert resp.status == 400
    assert (await call(gw, "POST", "/api/agent/conversations/nope/notes", {"text": "x"}, alice))[0] == 404
    async with opened(gw, "alice") as console:  # junk on the console's socket is ignored, the socket stays
        for junk in ("not json", "[1, 2]", json.dumps({"type": "typing", "conversation_id": 7}), "x" * 5000):
            await console.ws.send_str(junk)
        assert (await console.call("PUT", "/api/agent/presence", {"presence": "online"}))[0] == 200
        assert not console.ws.closed
