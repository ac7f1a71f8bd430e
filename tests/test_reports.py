"""Service analytics: scripted conversations played through the real gateway and bot, on a clock the test
moves, then every figure of GET /api/agent/reports (JSON and CSV) and of GET /metrics checked against them."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.gateway import reports, topics
from bot.gateway.report_csv import to_csv
from tests.conftest import Gateway, database_url, gateway_config, running_gateway
from tests.servers import Clock
from tests.stack import Stack
from tests.test_gateway import Customer, call, login, open_conversation, say

pytestmark = pytest.mark.asyncio
DAY_ONE = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
HUMAN = "I want to talk to a human"
MASH = "asdfgh qwerty zxcvb"


@pytest.fixture
async def played(stack: Stack, tmp_path: Path) -> AsyncIterator[tuple[Gateway, Clock]]:
    clock = Clock(DAY_ONE)
    async with running_gateway(gateway_config(database_url("sqlite", tmp_path), stack), clock=clock) as gw:
        await play(gw, clock)
        yield gw, clock


def later(clock: Clock, seconds: float) -> None:
    clock.now += timedelta(seconds=seconds)


async def handed_to(
    gw: Gateway, clock: Clock, agent: str, waits: tuple[float, float, float], rating: int | None
) -> None:
    """A customer asks for a person; `agent` claims after waits[0] s, replies after waits[1] s more, resolves
    after waits[2] s more; the customer rates (or not)."""
    c = await open_conversation(gw)
    assert (await say(gw, c, HUMAN))["status"] == "queued"
    token = await login(gw, agent)
    path = f"/api/agent/conversations/{c.id}"
    later(clock, waits[0])
    assert (await call(gw, "POST", f"{path}/claim", token=token))[0] == 200
    later(clock, waits[1])
    assert (await call(gw, "POST", f"{path}/messages", {"text": "Let me look."}, token))[0] == 201
    later(clock, waits[2])
    assert (await call(gw, "POST", f"{path}/resolve", token=token))[0] == 200
    if rating is not None:
        assert (await rate(gw, c, rating)) == 200


async def rate(gw: Gateway, c: Customer, rating: int) -> int:
    status, _ = await call(gw, "POST", f"/api/conversations/{c.id}/rating", {"rating": rating}, c.token)
    return status


async def play(gw: Gateway, clock: Clock) -> None:
    # Day one: a conversation the bot serves; one handed to Alice and rated 5; one with a message it cannot read.
    c1 = await open_conversation(gw)
    assert (await say(gw, c1, "hello"))["status"] == "bot"
    assert (await say(gw, c1, "thanks"))["status"] == "bot"
    later(clock, 600)
    await handed_to(gw, clock, "alice", (60, 30, 120), rating=5)
    later(clock, 600)
    c3 = await open_conversation(gw)
    assert (await say(gw, c3, MASH))["status"] == "bot"
    assert (await say(gw, c3, "thanks"))["status"] == "bot"
    # Day two: one handed to Bob and rated 2; one handed to Alice and not rated.
    clock.now = DAY_ONE + timedelta(days=1)
    await handed_to(gw, clock, "bob", (300, 60, 240), rating=2)
    later(clock, 600)
    await handed_to(gw, clock, "alice", (100, 20, 80), rating=None)


async def report(gw: Gateway, query: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token or await login(gw, 'sam')}"}
    async with gw.http.get(f"/api/agent/reports?{query}", headers=headers) as resp:
        body = await (resp.json() if resp.content_type == "application/json" else resp.text())
        return resp.status, body


async def test_every_figure_matches_what_was_played(played: tuple[Gateway, Clock]) -> None:
    gw, _ = played
    status, r = await report(gw, "from=2026-11-20&to=2026-11-21")
    assert status == 200, r
    assert {k: r[k] for k in ("conversations", "bot_resolved", "containment_rate", "handoffs", "handoff_rate")} == {
        "conversations": 5,
        "bot_resolved": 2,
        "containment_rate": 0.4,
        "handoffs": 3,
        "handoff_rate": 0.6,
    }
    assert r["handoffs_by_reason"] == {"customer_request": 3}
    assert r["avg_first_response_s"] == 190.0  # (90 + 360 + 120) / 3, each from the handoff
    assert r["avg_wait_s"] == 153.3  # (60 + 300 + 100) / 3, queued to claimed
    assert r["avg_resolution_s"] == 336.7  # (210 + 600 + 200) / 3, opened to resolved
    assert r["csat_score"] == 0.5 and r["csat_response_rate"] == 0.6667  # one 5 and one 2, of three asked
    assert r["fallback_rate"] == round(1 / 7, 4)  # one mash among the seven messages the bot read
    assert r["top_intents"][:2] == [{"intent": "human_agent", "count": 3}, {"intent": "thank", "count": 2}]
    assert {"intent": "nlu_fallback", "count": 1} in r["top_intents"]
    assert [(d["date"], d["conversations"], d["bot_resolved"], d["handoffs"]) for d in r["by_day"]] == [
        ("2026-11-20", 3, 2, 1),
        ("2026-11-21", 2, 0, 2),
    ]
    assert r["by_channel"]["web"]["conversations"] == 5 and r["by_language"]["en"]["conversations"] == 5
    assert r["by_agent"] == {
        "alice": {
            "claimed": 2,
            "resolved": 2,
            "avg_first_response_s": 105.0,
            "avg_resolution_s": 205.0,
            "avg_wait_s": 80.0,
            "csat_score": 1.0,
            "csat_response_rate": 0.5,
        },
        "bob": {
            "claimed": 1,
            "resolved": 1,
            "avg_first_response_s": 360.0,
            "avg_resolution_s": 600.0,
            "avg_wait_s": 300.0,
            "csat_score": 0.0,
            "csat_response_rate": 1.0,
        },
    }
    assert r["unserved"] == [{"count": 1, "examples": [MASH]}]


async def test_a_period_counts_the_conversations_opened_in_it(played: tuple[Gateway, Clock]) -> None:
    gw, _ = played
    _, first = await report(gw, "from=2026-11-20&to=2026-11-20")
    assert (first["conversations"], first["handoffs"], first["csat_response_rate"]) == (3, 1, 1.0)
    _, empty = await report(gw, "from=2026-11-01&to=2026-11-03")
    assert empty["conversations"] == 0 and empty["containment_rate"] is None and len(empty["by_day"]) == 3


async def test_csv_gives_the_same_figures(played: tuple[Gateway, Clock]) -> None:
    gw, _ = played
    status, text = await report(gw, "from=2026-11-20&to=2026-11-21&format=csv")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    period = rows[0]
    assert (period["scope"], period["conversations"], period["containment_rate"], period["csat_score"]) == (
        "period",
        "5",
        "0.4",
        "0.5",
    )
    assert [(r["key"], r["handoffs"]) for r in rows if r["scope"] == "day"] == [
        ("2026-11-20", "1"),
        ("2026-11-21", "2"),
    ]
    assert [(r["key"], r["claimed"]) for r in rows if r["scope"] == "agent"] == [("alice", "2"), ("bob", "1")]
    assert [(r["key"], r["count"]) for r in rows if r["scope"] == "handoff_reason"] == [("customer_request", "3")]
    assert [r["examples"] for r in rows if r["scope"] == "unserved"] == [MASH]


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-11-31",
        "from=20261120",
        "from=2026-11-21&to=2026-11-20",
        "from=2024-01-01&to=2026-01-01",
        "format=xml",
    ],
)
async def test_a_bad_period_or_format_is_a_400(played: tuple[Gateway, Clock], query: str) -> None:
    status, body = await report(played[0], query)
    assert status == 400 and body["error"]["code"] == "invalid_field"


async def test_reports_need_a_supervisor(played: tuple[Gateway, Clock]) -> None:
    gw, _ = played
    async with gw.http.get("/api/agent/reports") as resp:
        assert resp.status == 401
    assert (await report(gw, "", token="forged"))[0] == 401
    status, body = await report(gw, "", token=await login(gw, "alice"))
    assert status == 403 and body["error"]["code"] == "supervisors_only"


async def test_metrics_count_messages_escalations_replies_and_sockets(played: tuple[Gateway, Clock]) -> None:
    gw, _ = played
    async with gw.http.get("/metrics") as resp:
        assert resp.status == 200 and resp.content_type == "text/plain"
        text = await resp.text()
    lines = set(text.splitlines())
    assert 'shopdesk_messages_total{author="customer",channel="web"} 7.0' in lines
    assert 'shopdesk_messages_total{author="agent",channel="web"} 3.0' in lines
    assert 'shopdesk_escalations_total{reason="customer_request"} 3.0' in lines
    assert "shopdesk_queue_length 0.0" in lines
    assert "shopdesk_bot_reply_seconds_count 7.0" in lines  # each message the bot answered
    assert 'shopdesk_websocket_connections{kind="agent"} 0.0' in lines


async def test_metrics_from_another_host_need_the_token(stack: Stack, tmp_path: Path) -> None:
    config = replace(gateway_config(database_url("sqlite", tmp_path), stack), metrics_token="scrape-secret")
    async with running_gateway(config) as gw:
        async with gw.http.get("/metrics") as resp:
            assert resp.status == 401
        async with gw.http.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}) as resp:
            assert resp.status == 200


def test_messages_are_grouped_with_the_encoder_the_bot_uses() -> None:
    config = yaml.safe_load((Path(__file__).resolve().parent.parent / "config.yml").read_text())
    featurizer = next(c for c in config["pipeline"] if c["name"].endswith("SentenceFeaturizer"))
    assert featurizer["encoder"] == topics.ENCODER


async def test_messages_of_one_meaning_share_a_group_in_either_language() -> None:
    texts = [
        "can I pay with bitcoin",
        "do you accept crypto payments",
        "I want to change the delivery address",
        "能改收货地址吗",
        "change my shipping address please",
        "will it rain tomorrow",
        "can I pay with bitcoin",
    ]
    groups = await topics.Topics().group(texts)
    assert [g["count"] for g in groups] == [3, 3, 1]
    assert {tuple(sorted(g["examples"])) for g in groups} == {
        ("can I pay with bitcoin", "do you accept crypto payments"),
        ("I want to change the delivery address", "change my shipping address please", "能改收货地址吗"),
        ("will it rain tomorrow",),
    }


def test_a_customers_words_never_run_as_a_spreadsheet_formula() -> None:
    empty = {"from": "2026-11-20", "to": "2026-11-20", **reports.figures([]), "by_day": [], "by_channel": {}}
    report = {**empty, "by_language": {}, "by_agent": {}, "handoffs_by_reason": {}, "top_intents": []}
    report["unserved"] = [{"count": 2, "examples": ['=HYPERLINK("http://evil")', "+1 call me", "fine"]}]
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert rows[-1]["examples"] == '\'=HYPERLINK("http://evil") | +1 call me | fine'
