"""The actions' platform client: timeouts, one retry on connection errors, typed failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from bot.platform.client import PlatformClient, PlatformRejected, PlatformUnavailable
from tests.conftest import API_KEY, Platform

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{"verified": true}'


@asynccontextmanager
async def raw_server(handle: Callable[[int, asyncio.StreamWriter], bytes | None]) -> AsyncIterator[str]:
    """A loopback TCP server; `handle(n, writer)` gives the bytes for connection n, or None to hang."""
    count = 0

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        count += 1
        await reader.readuntil(b"\r\n\r\n")
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
        assert await PlatformClient(url, "k").verify("80000001", email="a@b.c") is True
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
