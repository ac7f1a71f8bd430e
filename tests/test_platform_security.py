"""Abuse of the platform API: ownership guessing is rate limited, and no input gives a 5xx."""

from __future__ import annotations

import asyncio
import itertools
import json as jsonlib
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json
from sqlalchemy import func, select

from bot.db import make_engine, make_sessionmaker
from bot.errors import install_error_handlers, json_body
from bot.platform import models, policy
from bot.platform.app import create_app
from bot.platform.config import PlatformConfig
from bot.platform.models import ComplaintTicket, Customer, IdempotencyRecord, ReturnRequest
from tests.conftest import API_KEY, SEEDED_AT, Platform
from tests.servers import serve
from tests.test_platform_api import count_rows

_names = itertools.count()
RIGHT = {"email": "li.wei@example.com"}
WRONG = {"email": "zhang.min@example.com"}
WRONG_PHONE = {"phone": "13900002002"}


async def post(p: Platform, path: str, body: Any) -> tuple[int, Any, CIMultiDictProxy[str]]:
    async with p.http.post(path, json=body) as resp:
        return resp.status, await resp.json(), resp.headers


async def post_raw(p: Platform, path: str, raw: bytes, key: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    async with p.http.post(path, data=raw, headers=headers) as resp:
        return resp.status, await resp.json()


async def verify(p: Platform, body: dict[str, str], number: str = "80000001") -> tuple[int, Any, str | None]:
    status, result, headers = await post(p, f"/api/v1/orders/{number}/verify", body)
    return status, result, headers.get("Retry-After")


def frozen_customers(p: Platform) -> int:
    engine = make_engine(p.db_url)
    try:
        with make_sessionmaker(engine)() as session:
            stmt = select(func.count()).select_from(Customer).where(Customer.frozen_at.is_not(None))
            return int(session.scalar(stmt))
    finally:
        engine.dispose()


def written(p: Platform) -> list[int]:
    """Row counts of everything a write endpoint may add or change."""
    tables = (ComplaintTicket, ReturnRequest, IdempotencyRecord, models.VerificationFailure)
    return [*(count_rows(p, t) for t in tables), frozen_customers(p)]


async def customer_id(p: Platform, number: str = "80000001") -> int:
    async with p.http.get(f"/api/v1/orders/{number}") as resp:
        return int((await resp.json())["customer"]["id"])


# --- failed verifications are limited per order -------------------------------------------------


async def test_five_failures_lock_the_order_even_for_the_right_contact(platform: Platform) -> None:
    t0 = platform.clock.now
    assert (await verify(platform, WRONG))[0] == 200
    platform.clock.now = t0 + timedelta(minutes=10)
    for body in (WRONG, WRONG_PHONE, WRONG, WRONG_PHONE):  # email and phone guesses count alike
        status, result, _ = await verify(platform, body)
        assert status == 200 and result["verified"] is False
    assert count_rows(platform, models.VerificationFailure) == 5

    platform.clock.now = t0 + timedelta(minutes=20)
    status, result, retry_after = await verify(platform, RIGHT)
    assert status == 429
    assert result["error"]["code"] == "too_many_attempts"
    assert "Too many failed" in result["error"]["message"]
    assert retry_after == "2400"  # until the first failure, at t0, leaves the hour
    assert (await verify(platform, WRONG))[0] == 429
    assert count_rows(platform, models.VerificationFailure) == 5  # refused checks are not failures

    platform.clock.now = t0 + timedelta(hours=1) - timedelta(seconds=1)
    assert (await verify(platform, RIGHT))[::2] == (429, "1")
    platform.clock.now = t0 + timedelta(hours=1)
    status, result, _ = await verify(platform, RIGHT)
    assert status == 200 and result["verified"] is True
    assert (await verify(platform, WRONG))[0] == 200  # the fifth failure in the window again
    status, _, retry_after = await verify(platform, RIGHT)
    assert status == 429 and retry_after == "600"  # the failures of t0 + 10 min are the oldest now


async def test_other_orders_are_not_affected(platform: Platform) -> None:
    for _ in range(policy.MAX_FAILED_VERIFICATIONS):
        await verify(platform, WRONG)
    assert (await verify(platform, RIGHT))[0] == 429
    status, result, _ = await verify(platform, RIGHT, "80000005")  # Li Wei's other order
    assert status == 200 and result["verified"] is True
    status, result, _ = await verify(platform, WRONG, "80000005")
    assert status == 200 and result["verified"] is False


async def test_a_success_does_not_erase_earlier_failures(platform: Platform) -> None:
    for _ in range(policy.MAX_FAILED_VERIFICATIONS - 1):
        await verify(platform, WRONG)
    assert (await verify(platform, RIGHT))[1]["verified"] is True
    assert (await verify(platform, WRONG))[0] == 200
    assert (await verify(platform, RIGHT))[0] == 429


async def test_only_failed_checks_count(platform: Platform) -> None:
    for _ in range(policy.MAX_FAILED_VERIFICATIONS + 1):
        assert (await verify(platform, {"phone": "1"}))[0] == 400  # malformed, not a guess
        assert (await verify(platform, RIGHT, "89999999"))[0] == 404
    assert (await verify(platform, RIGHT))[1]["verified"] is True
    assert count_rows(platform, models.VerificationFailure) == 0


async def test_failures_survive_a_restart(platform: Platform) -> None:
    for _ in range(policy.MAX_FAILED_VERIFICATIONS):
        await verify(platform, WRONG)
    config = PlatformConfig(database_url=platform.db_url, api_key=API_KEY)
    restarted = create_app(config, platform.clock, "platform_restarted")
    async with (
        serve(restarted) as url,
        aiohttp.ClientSession(url, headers={"X-Api-Key": API_KEY}) as http,
        http.post("/api/v1/orders/80000001/verify", json=RIGHT) as resp,
    ):
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "3600"


@pytest.mark.parametrize(
    ("ages_minutes", "expected"),
    [
        ([], None),
        ([1, 2, 3, 4], None),
        ([1, 2, 3, 4, 50], 600),  # the oldest, 50 minutes ago, leaves in 10
        ([1, 2, 3, 4, 5, 50], 55 * 60),  # six: the count drops below five when the 5-minute one leaves
        ([1, 2, 3, 4, 60], None),  # an hour old is out of the window
        ([1, 2, 3, 4, 61, 90], None),
    ],
)
def test_verify_retry_after(ages_minutes: list[int], expected: int | None) -> None:
    now = SEEDED_AT
    failures = [now - timedelta(minutes=m) for m in ages_minutes]
    assert policy.verify_retry_after(failures, now) == expected


def test_verify_retry_after_rounds_up_to_at_least_one_second() -> None:
    now: datetime = SEEDED_AT
    oldest = now - policy.VERIFY_WINDOW + timedelta(milliseconds=200)
    failures = [oldest] + [now] * (policy.MAX_FAILED_VERIFICATIONS - 1)
    assert policy.verify_retry_after(failures, now) == 1
    oldest = now - policy.VERIFY_WINDOW + timedelta(seconds=9, milliseconds=1)
    assert policy.verify_retry_after([oldest, *failures[1:]], now) == 10


# --- strings that are not valid Unicode, or hold NUL, are 400 ------------------------------------

SURROGATE = b'"\\ud800"'  # JSON text with an escaped lone surrogate
RAW_SURROGATE = b'"\xed\xa0\x80"'  # the same surrogate as (invalid) UTF-8 bytes
NUL = b'"a\\u0000b"'

BAD_STRINGS = [
    pytest.param("/complaints", b'{"customer_id": CID, "category": "other", "description": BAD}', id="complaint"),
    pytest.param("/customers/CID/freeze", b'{"reason": BAD}', id="freeze"),
    pytest.param("/orders/80000001/returns", b'{"reason": "no_reason", "description": BAD}', id="return"),
    pytest.param("/orders/80000001/returns?dry_run=1", b'{"reason": "no_reason", "description": BAD}', id="preview"),
    pytest.param("/orders/80000001/verify", b'{"email": BAD}', id="verify"),
    pytest.param("/complaints", b'{BAD: 1, "customer_id": CID, "category": "other", "description": "x"}', id="key"),
    pytest.param("/customers/CID/freeze", b'{"reason": "x", "deep": [1, {"a": [BAD]}]}', id="nested"),
]


@pytest.mark.parametrize("bad", [SURROGATE, RAW_SURROGATE, NUL], ids=["surrogate", "raw-surrogate", "nul"])
@pytest.mark.parametrize(("path", "template"), BAD_STRINGS)
async def test_bad_strings_are_400_and_write_nothing(
    platform: Platform, path: str, template: bytes, bad: bytes
) -> None:
    cid = str(await customer_id(platform)).encode()
    raw = template.replace(b"CID", cid).replace(b"BAD", bad)
    before = written(platform)
    status, body = await post_raw(platform, "/api/v1" + path.replace("CID", cid.decode()), raw, "k1")
    assert status == 400, body
    assert body["error"]["code"] == "invalid_json"
    assert "Unicode" in body["error"]["message"] or "NUL" in body["error"]["message"]
    assert written(platform) == before


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"reason": "\\udfff"}', "reason"),
        (b'{"reason": "x", "deep": [1, {"a": ["ok", "\\u0000"]}]}', "deep.1.a.1"),
        (b'{"reason": "x", "deep": {"\\ud800": 1}}', "deep"),
        (b'{"\\ud800": "x"}', "body"),
    ],
)
async def test_json_body_names_where_the_bad_string_is(raw: bytes, field: str) -> None:
    """The shared json_body, as every app (platform and gateway) uses it."""
    app = Sanic(f"json_body_probe{next(_names)}")
    install_error_handlers(app)

    @app.post("/echo")
    async def echo(request: Request) -> HTTPResponse:
        return json(json_body(request))

    async with serve(app) as url:
        async with aiohttp.ClientSession() as http, http.post(f"{url}/echo", data=raw) as resp:
            assert resp.status == 400
            error = (await resp.json())["error"]
            assert (error["code"], error["field"]) == ("invalid_json", field)
        async with aiohttp.ClientSession() as http, http.post(f"{url}/echo", data='{"a": ["é", "中文 🙂"]}') as resp:
            assert resp.status == 200 and await resp.json() == {"a": ["é", "中文 🙂"]}


# --- ids: out of range is not found (path) or a 400 naming the field (body) ---------------------

HUGE = "9223372036854775808"  # 2**63, past SQLite's INTEGER
PAST_INT4 = "2147483648"  # 2**31, past PostgreSQL's INTEGER


@pytest.mark.parametrize(
    ("method", "path", "status", "field"),
    [
        ("GET", f"/customers/{HUGE}", 404, None),
        ("GET", f"/customers/{HUGE}/orders", 404, None),
        ("POST", f"/customers/{HUGE}/freeze", 404, None),
        ("GET", f"/customers/{PAST_INT4}", 404, None),
        pytest.param("GET", f"/customers/{'9' * 5000}", 404, None, id="5000-digits"),
        pytest.param("GET", f"/customers/{'0' * 4400}99999", 404, None, id="4400-leading-zeros"),
        ("GET", "/customers/0", 404, None),
        ("GET", "/customers/-1", 400, "customer_id"),
        ("GET", "/customers/1_0", 400, "customer_id"),
        ("GET", "/customers/+1", 400, "customer_id"),
        ("POST", "/customers/-1/freeze", 400, "customer_id"),
    ],
)
async def test_path_ids(platform: Platform, method: str, path: str, status: int, field: str | None) -> None:
    body = {"reason": "test"} if method == "POST" else None
    async with platform.http.request(method, f"/api/v1{path}", json=body) as resp:
        assert resp.status == status
        error = (await resp.json())["error"]
    assert error["code"] == ("not_found" if status == 404 else "invalid_field")
    assert error.get("field") == field
    assert frozen_customers(platform) == 0


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"customer_id": int(HUGE)}, "customer_id"),
        ({"customer_id": int(PAST_INT4)}, "customer_id"),
        ({"customer_id": -1}, "customer_id"),
        ({"customer_id": 0}, "customer_id"),
        ({"customer_id": 1e300}, "customer_id"),
        ({"order_number": "٨٠٠٠٠٠٠١"}, "order_number"),  # Arabic-Indic digits are not an order number
        ({"order_number": "８０００００01"}, "order_number"),
    ],
)
async def test_complaint_body_ids(platform: Platform, patch: dict[str, Any], field: str) -> None:
    body = {"customer_id": await customer_id(platform), "category": "other", "description": "Hi.", **patch}
    status, result, _ = await post(platform, "/api/v1/complaints", body)
    assert status == 400, result
    assert result["error"]["field"] == field
    assert count_rows(platform, ComplaintTicket) == 0


@pytest.mark.parametrize("item_id", [int(HUGE), int(PAST_INT4), -1, 0, 10**30])
@pytest.mark.parametrize("dry_run", ["", "?dry_run=1"])
async def test_return_item_ids(platform: Platform, item_id: int, dry_run: str) -> None:
    path = f"/api/v1/orders/80000001/returns{dry_run}"
    async with platform.http.post(
        path, json={"reason": "no_reason", "item_ids": [item_id]}, headers={"Idempotency-Key": "k"}
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["field"] == "item_ids.0"


async def test_a_number_too_long_for_json_is_400(platform: Platform) -> None:
    raw = b'{"customer_id": 1' + b"0" * 5000 + b', "category": "other", "description": "x"}'
    status, body = await post_raw(platform, "/api/v1/complaints", raw)
    assert status == 400 and body["error"]["code"] == "invalid_json"


# --- headers: Sanic hands undecodable bytes on as lone surrogates -------------------------------


async def raw_request(p: Platform, head: bytes, body: bytes = b"") -> tuple[int, Any]:
    """One request written byte for byte, so a header can hold what no HTTP client would send."""
    host, port = p.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    length = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    writer.write(head + b"\r\nHost: x\r\n" + length.encode() + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), jsonlib.loads(rest.partition(b"\r\n\r\n")[2])


KEY_LINE = b"X-Api-Key: " + API_KEY.encode()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/complaints", b'{"customer_id": 1, "category": "other", "description": "x"}'),
        ("/api/v1/orders/80000001/returns", b'{"reason": "no_reason"}'),
    ],
)
async def test_an_undecodable_idempotency_key_is_400(platform: Platform, path: str, body: bytes) -> None:
    before = written(platform)
    head = b"POST " + path.encode() + b" HTTP/1.1\r\n" + KEY_LINE + b"\r\nIdempotency-Key: k\xffey"
    status, answer = await raw_request(platform, head, body)
    assert status == 400, answer
    assert answer["error"]["field"] == "Idempotency-Key"
    assert written(platform) == before


async def test_an_undecodable_api_key_is_401(platform: Platform) -> None:
    status, answer = await raw_request(platform, b"GET /api/v1/orders/80000001 HTTP/1.1\r\nX-Api-Key: \xff")
    assert status == 401 and answer["error"]["code"] == "unauthorized"
