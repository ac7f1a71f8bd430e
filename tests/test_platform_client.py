"""The actions' platform client: timeouts, one retry on connection errors, typed failures, its language."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot import platform_client
from bot.platform.policy import MAX_FAILED_VERIFICATIONS
from bot.platform_client import PlatformClient, PlatformRejected, PlatformUnavailable, client_from_env
from bot.settings import DEMO_PLATFORM_KEY
from tests.conftest import API_KEY, Platform
from tests.servers import serve


def answer(status: str, body: bytes, headers: str = "") -> bytes:
    """A raw HTTP/1.1 response with a JSON body."""
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
    return head.encode() + body


OK = answer("200 OK", b'{"verified": true, "customer_id": 7}')


@asynccontextmanager
async def raw_server(
    handle: Callable[[int, asyncio.StreamWriter], bytes | None], heads: list[bytes] | None = None
) -> AsyncIterator[str]:
    """A loopback TCP server; `handle(n, writer)` gives the bytes for connection n, or None to hang.

    The request heads it reads are appended to `heads` when given.
    """
    count = 0

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        count += 1
        head = await reader.readuntil(b"\r\n\r\n")
        if heads is not None:
            heads.append(head)
        answer = handle(count, writer)
        if answer is None:
            await asyncio.sleep(5)
        else:
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def test_timeout_is_unavailable() -> None:
    async with raw_server(lambda n, w: None) as url:
        with pytest.raises(PlatformUnavailable):
            await PlatformClient(url, "k", timeout=0.3).verify("80000001", email="a@b.c")


async def test_one_retry_after_a_dropped_connection() -> None:
    async with raw_server(lambda n, w: b"" if n == 1 else OK) as url:
        assert await PlatformClient(url, "k").verify("80000001", email="a@b.c") == "7"
    async with raw_server(lambda n, w: b"") as url:
        with pytest.raises(PlatformUnavailable):
            await PlatformClient(url, "k").verify("80000001", email="a@b.c")


async def test_unreachable_platform_is_unavailable() -> None:
    with pytest.raises(PlatformUnavailable, match="unreachable"):
        await PlatformClient("http://127.0.0.1:9", "k").order("80000001")


async def test_4xx_is_rejected_with_the_platforms_code(platform: Platform) -> None:
    client = PlatformClient(platform.url, API_KEY)
    with pytest.raises(PlatformRejected) as err:
        await client.order("89999999")
    assert (err.value.status, err.value.code) == (404, "not_found")
    with pytest.raises(PlatformRejected) as err:
        await PlatformClient(platform.url, "wrong").order("80000001")
    assert err.value.code == "unauthorized"
    assert err.value.retry_after is None


async def test_verify_gives_the_customer_id_or_none(platform: Platform) -> None:
    client = PlatformClient(platform.url, API_KEY)
    owner = str((await client.order("80000001"))["customer"]["id"])
    assert await client.verify("80000001", email="li.wei@example.com") == owner
    assert await client.verify("80000001", phone="+86 138 0000 1001") == owner
    assert await client.verify("80000001", email="zhang.min@example.com") is None


async def test_too_many_failed_verifications_is_rejected_with_retry_after(platform: Platform) -> None:
    client = PlatformClient(platform.url, API_KEY)
    for _ in range(MAX_FAILED_VERIFICATIONS):
        assert await client.verify("80000001", email="zhang.min@example.com") is None
    with pytest.raises(PlatformRejected) as err:
        await client.verify("80000001", email="li.wei@example.com")
    assert (err.value.status, err.value.code, err.value.retry_after) == (429, "too_many_attempts", 3600)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(answer("429 Too", b'{"error": {"code": "x"}}', "Retry-After: 30\r\n"), (429, 30), id="429"),
        pytest.param(answer("429 Too", b"{}", "Retry-After: soon\r\n"), (429, None), id="429-not-seconds"),
        pytest.param(answer("429 Too", b"{}", "Retry-After: -5\r\n"), (429, None), id="429-negative"),
        pytest.param(answer("503 Down", b"{}", "Retry-After: 30\r\n"), None, id="503"),
        pytest.param(answer("200 OK", b'{"verified": true}'), (200, None), id="verified-without-id"),
        pytest.param(answer("200 OK", b'["verified"]'), None, id="not-an-object"),
    ],
)
async def test_verify_answers(raw: bytes, expected: tuple[int, int | None] | None) -> None:
    async with raw_server(lambda n, w: raw) as url:
        client = PlatformClient(url, "k", retries=0)
        if expected is None:
            with pytest.raises(PlatformUnavailable):
                await client.verify("80000001", email="a@b.c")
        elif expected[0] == 200:
            assert await client.verify("80000001", email="a@b.c") is None
        else:
            with pytest.raises(PlatformRejected) as err:
                await client.verify("80000001", email="a@b.c")
            assert (err.value.status, err.value.retry_after) == expected


def test_demo_mode_gives_the_actions_the_demo_key_whatever_its_spelling() -> None:
    """DEMO_MODE=true once made the actions send an empty key (two copies of the demo key had drifted)."""
    for spelling in ("1", "true", "yes"):
        assert client_from_env({"DEMO_MODE": spelling}).api_key == DEMO_PLATFORM_KEY
    assert client_from_env({}).api_key == ""
    assert client_from_env({"DEMO_MODE": "true", "PLATFORM_API_KEY": "real"}).api_key == "real"


# --- language ----------------------------------------------------------------------------------


def accept_language(head: bytes) -> list[str]:
    lines = head.decode("latin-1").split("\r\n")
    return [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("accept-language:")]


@pytest.mark.parametrize(
    ("language", "header"),
    [
        (None, "en"),
        ("en", "en"),
        ("zh", "zh-CN"),
        ("zh-Hant", "zh-CN"),
        ("ZH-TW", "zh-CN"),
        ("fr", "en"),
        ("", "en"),
    ],
)
async def test_every_request_says_the_language(language: str | None, header: str) -> None:
    heads: list[bytes] = []
    async with raw_server(lambda n, w: OK, heads) as url:
        client = PlatformClient(url, "k") if language is None else PlatformClient(url, "k", language=language)
        await client.verify("80000001", email="a@b.c")
        await client.create_return("80000001", {"reason": "no_reason"}, "k")  # with a header of its own
    assert [accept_language(h) for h in heads] == [[header], [header]]


def test_client_from_env_takes_the_language() -> None:
    assert client_from_env({}).language == "en"
    assert client_from_env({"DEMO_MODE": "1"}, language="zh").language == "zh"


async def test_a_chinese_client_reads_chinese(platform: Platform) -> None:
    zh = PlatformClient(platform.url, API_KEY, language="zh")
    en = PlatformClient(platform.url, API_KEY)
    assert [i["name"] for i in (await zh.order("80000001"))["items"]] == ["纯棉圆领T恤", "修身牛仔裤"]
    assert [i["name"] for i in (await en.order("80000001"))["items"]] == ["Cotton T-shirt", "Slim denim jeans"]
    assert "七天无理由退货" in (await zh.eligibility("80000001"))[0]["no_reason"]["reason"]
    assert (await zh.tracking("80000007"))["shipments"][0]["exception"]["detail"] == "快递公司已确认包裹丢失。"
    assert "吊牌" in (await zh.refunds("80000013"))[0]["rejection_reason"]
    for client, words in ((zh, "生鲜食品不支持七天无理由退货"), (en, "Perishable food")):
        with pytest.raises(PlatformRejected) as err:
            await client.create_return("80000003", {"reason": "no_reason"}, "k")
        assert (err.value.status, err.value.code) == (409, "not_eligible")
        assert words in err.value.message


@asynccontextmanager
async def keep_alive_server(seen: list[int], keep_alive: float = 5.0) -> AsyncIterator[str]:
    """The platform's verify answer from a Sanic app that keeps connections, noting each request's client port."""
    app = Sanic(f"kept_{id(seen)}")
    app.config.KEEP_ALIVE_TIMEOUT = keep_alive

    @app.post("/api/v1/orders/<number>/verify")
    async def verify(request: Request, number: str) -> HTTPResponse:
        seen.append(request.conn_info.client_port if request.conn_info else 0)
        return json({"verified": True, "customer_id": 7})

    async with serve(app) as url:
        yield url


async def test_kept_connections_are_reused_until_released() -> None:
    seen: list[int] = []
    async with keep_alive_server(seen) as url:
        client = PlatformClient(url, API_KEY)
        platform_client.keep_connections()
        try:
            assert [await client.verify("80000001", email="a@b.c") for _ in range(3)] == ["7"] * 3
        finally:
            await platform_client.release_connections()
        assert len(set(seen)) == 1  # one connection for the three calls
        for _ in range(2):
            await client.verify("80000001", email="a@b.c")
        assert len(set(seen)) == 3  # without a kept session, a connection per call


async def test_a_kept_connection_the_platform_closed_is_not_an_outage() -> None:
    seen: list[int] = []
    async with keep_alive_server(seen, keep_alive=0.2) as url:
        client = PlatformClient(url, API_KEY)
        platform_client.keep_connections()
        try:
            for _ in range(3):
                assert await client.verify("80000001", email="a@b.c") == "7"
                await asyncio.sleep(0.4)  # the platform closes the idle connection first
        finally:
            await platform_client.release_connections()
    assert len(seen) == 3
