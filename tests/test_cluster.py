"""What gateway instances share through a real Redis on loopback: events, presence, turn locks, login
limits, the Telegram lease; and what each does alone while Redis is away."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.gateway import bus
from bot.gateway.bus import SharedHub
from bot.gateway.cluster import Leadership
from bot.gateway.ordering import SharedLocks
from bot.gateway.ratelimit import SharedFailureLimiter
from tests.conftest import SEEDED_AT
from tests.servers import Clock, free_port

pytestmark = pytest.mark.asyncio


class RedisServer:
    """A redis-server of this test's own, which a test may stop and start again on the same port."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("redis-server") is None:
            pytest.fail("no redis-server; .ci/run installs it (apt-get install redis-server)")
        self.port, self.folder = free_port(), folder
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(self.folder),
        ]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while (
            subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout.strip() != b"PONG"
        ):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    running = RedisServer(tmp_path)
    running.start()
    yield running
    running.stop()


@pytest.fixture
async def redis(server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(server.url, socket_timeout=1, socket_connect_timeout=1)
    yield client
    await client.close()


class Socket:
    """Stands for a websocket: keeps what it was sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, data: str) -> None:
        self.sent.append(data)


async def eventually(check: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within time"
        await asyncio.sleep(0.02)


async def test_events_reach_the_widgets_and_consoles_of_the_other_instance_and_channels_once(
    redis: Redis,
) -> None:
    one, two = SharedHub(redis), SharedHub(redis)
    await one.start()
    await two.start()
    try:
        widget, console = Socket(), Socket()
        two.add_customer("c1", widget)
        two.add_agent(console, 1)
        delivered: list[str] = []

        async def telegram(conv_id: str, event: dict[str, Any]) -> None:
            delivered.append(event["message"]["text"])

        one.add_channel("telegram", telegram)
        two.add_channel("telegram", telegram)
        await asyncio.sleep(0.2)  # both subscribed
        event = {"type": "message", "conversation_id": "c1", "message": {"text": "Hello from Alice"}}
        await one.to_customer("c1", "telegram", event)
        await one.to_agents(event)
        await eventually(lambda: widget.sent and console.sent)
        assert "Hello from Alice" in widget.sent[0] and "Hello from Alice" in console.sent[-1]
        await asyncio.sleep(0.2)
        assert delivered == ["Hello from Alice"]  # the channel delivered where the event happened, once
    finally:
        await one.stop()
        await two.stop()


async def test_a_quiet_channel_keeps_its_subscription_and_a_malformed_event_harms_nothing(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    one, two = SharedHub(redis), SharedHub(redis)
    await one.start()
    await two.start()
    try:
        widget = Socket()
        two.add_customer("c1", widget)
        await asyncio.sleep(2.5)  # quiet for longer than the client's socket timeout (1 s)
        await redis.publish(bus.CHANNEL, "not json")
        await redis.publish(bus.CHANNEL, '{"from": "x", "to": "customer"}')
        await one.to_customer("c1", "web", {"type": "message", "message": {"text": "still here"}})
        await eventually(lambda: widget.sent)
        assert "still here" in widget.sent[0]
        assert not [r for r in caplog.records if "subscription lost" in r.getMessage()]
    finally:
        await one.stop()
        await two.stop()


async def test_agents_online_are_counted_over_every_instance_heard_from_lately(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus, "HEARTBEAT", 0.1)
    monkeypatch.setattr(bus, "FRESH", 0.5)
    one, two = SharedHub(redis), SharedHub(redis)
    await one.start()
    await two.start()
    try:
        await asyncio.sleep(0.2)
        assert one.connected_agents() == set()
        console, other = Socket(), Socket()
        two.add_agent(console, 7)
        one.add_agent(other, 8)
        await eventually(lambda: one.connected_agents() == {7, 8})
        two.drop_agent(console, 7)
        await eventually(lambda: one.connected_agents() == {8})
        two.add_agent(console, 7)
        await eventually(lambda: one.connected_agents() == {7, 8})
        await two.stop()  # a stopped instance says so; one that died stops counting once no longer heard from
        await eventually(lambda: one.connected_agents() == {8}, 2.0)
    finally:
        await one.stop()


async def test_a_conversation_lock_is_held_by_one_instance_at_a_time(redis: Redis) -> None:
    one, two = SharedLocks(redis, ttl=1.0), SharedLocks(redis, ttl=1.0)
    inside: list[str] = []

    async def turn(locks: SharedLocks, name: str) -> None:
        async with locks.hold("c1"):
            inside.append(f"{name} in")
            await asyncio.sleep(0.5 if name == "one" else 0.0)  # longer than a third of the lock's life: extended
            inside.append(f"{name} out")

    first = asyncio.ensure_future(turn(one, "one"))
    await asyncio.sleep(0.05)
    await asyncio.gather(first, turn(two, "two"))
    assert inside == ["one in", "one out", "two in", "two out"]


async def test_a_lock_held_by_an_instance_that_died_lapses(redis: Redis) -> None:
    lock = redis.lock("shopdesk:turns:c1", timeout=0.5)
    assert await lock.acquire()  # held by an instance that then died without releasing it
    started = time.monotonic()
    async with SharedLocks(redis, ttl=0.5).hold("c1"):
        assert time.monotonic() - started >= 0.3


async def test_without_redis_turns_are_ordered_within_the_instance(server: RedisServer, redis: Redis) -> None:
    server.stop()
    locks = SharedLocks(redis)
    order: list[int] = []

    async def turn(n: int) -> None:
        async with locks.hold("c1"):
            order.append(n)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(turn(n) for n in range(5)))
    assert order == [0, 1, 2, 3, 4]


async def test_login_attempts_are_counted_for_every_instance(server: RedisServer, redis: Redis) -> None:
    clock = Clock(SEEDED_AT)
    one = SharedFailureLimiter(redis, "username", 3, timedelta(minutes=15), clock)
    two = SharedFailureLimiter(redis, "username", 3, timedelta(minutes=15), clock)
    admitted = await asyncio.gather(*(limiter.admit("user:alice") for limiter in (one, two, one, two, one)))
    assert [stamp is not None for stamp, _ in admitted] == [True, True, True, False, False]
    assert admitted[-1][1] == 15 * 60  # the wait is until the oldest of the three leaves the window
    clock.now += timedelta(minutes=15, seconds=1)
    assert (await two.admit("user:alice"))[0] is not None
    stamp, _ = await one.admit("user:bob")
    assert stamp is not None
    await one.undo("user:bob", stamp)
    await one.forget("user:alice")
    assert [(await two.admit("user:alice"))[0] is not None for _ in range(3)] == [True] * 3
    server.stop()  # Redis away: this instance counts alone, and still limits
    alone = [(await one.admit("user:carol"))[0] is not None for _ in range(4)]
    assert alone == [True, True, True, False]


async def test_one_instance_at_a_time_holds_the_telegram_lease(redis: Redis) -> None:
    events: list[str] = []
    one, two = Leadership(redis, "telegram", ttl=0.6), Leadership(redis, "telegram", ttl=0.6)

    def note(name: str, what: str) -> Any:
        async def record() -> None:
            events.append(f"{name} {what}")

        return record

    runs = [
        asyncio.ensure_future(one.run(note("one", "leads"), note("one", "stops"))),
        asyncio.ensure_future(two.run(note("two", "leads"), note("two", "stops"))),
    ]
    try:
        await eventually(lambda: len(events) == 1, 2.0)
        await asyncio.sleep(1.0)
        assert len(events) == 1  # renewed, never both
        leader, other = (one, two) if events[0] == "one leads" else (two, one)
        runs[0 if leader is one else 1].cancel()  # the leader dies without resigning
        await eventually(lambda: other.leading, 3.0)
        assert events[-1] == ("two leads" if other is two else "one leads")
    finally:
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)


async def test_a_leader_whose_job_fails_to_start_gives_the_lease_up(redis: Redis) -> None:
    attempts: list[str] = []

    async def failing() -> None:
        attempts.append("one")
        raise RuntimeError("cannot reach Telegram")

    async def starts() -> None:
        attempts.append("two")

    async def nothing() -> None:
        return None

    one, two = Leadership(redis, "telegram", ttl=0.6), Leadership(redis, "telegram", ttl=0.6)
    first = asyncio.ensure_future(one.run(failing, nothing))
    await eventually(lambda: attempts == ["one"], 2.0)
    second = asyncio.ensure_future(two.run(starts, nothing))
    try:
        await eventually(lambda: "two" in attempts, 3.0)  # the lease was free again at once, not after 15 s
        assert not one.leading and two.leading
    finally:
        for run in (first, second):
            run.cancel()
        await asyncio.gather(first, second, return_exceptions=True)


async def test_a_leader_cut_off_from_redis_for_a_moment_takes_its_lease_back(server: RedisServer) -> None:
    client = Redis.from_url(server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    events: list[str] = []

    async def gained() -> None:
        events.append("leads")

    async def lost() -> None:
        events.append("stops")

    leader = Leadership(client, "telegram", ttl=6.0)
    run = asyncio.ensure_future(leader.run(gained, lost))
    try:
        await eventually(lambda: events == ["leads"], 2.0)
        real = client.eval
        calls = 0

        async def broken(*args: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ConnectionError("redis away for a moment")
            return await real(*args)

        client.eval = broken  # type: ignore[method-assign]
        await eventually(lambda: events == ["leads", "stops", "leads"], 5.0)  # its own key, before it expired
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
        await client.close()
