"""What several gateway instances share through Redis (`REDIS_URL`), or the in-process parts without it.

Live events and presence (`bus.SharedHub`), each conversation's turn lock (`ordering.SharedLocks`), the
login limits (`ratelimit.SharedFailureLimiter`) and who polls Telegram (`Leadership`). `make run` has no
Redis and one gateway: the same interfaces, in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.gateway.bus import SharedHub
from bot.gateway.hub import Hub, LiveEvents
from bot.gateway.logins import FAILURE_WINDOW, FAILURES_PER_CLIENT, FAILURES_PER_USERNAME
from bot.gateway.ordering import ConversationLocks, SharedLocks, TurnLocks
from bot.gateway.ratelimit import Limiter, SharedFailureLimiter

log = logging.getLogger(__name__)

# Takes the key when nobody holds it and extends it when this instance does (after a Redis error too,
# so a leader that lost touch for a moment takes its own key back at once); 0 when another holds it.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) and 1 end
return 0
"""
# Gives the key up, if this instance still holds it.
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class Leadership:
    """One instance at a time does a job: the one holding a Redis key that expires unless renewed.

    Without Redis (one gateway) this instance leads at once. When Redis cannot be reached the leader
    stops, since it can no longer tell whether another instance took over; the job waits, it is not done
    twice (Telegram keeps the updates nobody fetched).
    """

    def __init__(self, redis: Redis | None, name: str, ttl: float = 15.0) -> None:
        self.redis = redis
        self.key = f"shopdesk:leader:{name}"
        self.ttl = ttl
        self.me = uuid.uuid4().hex
        self.leading = False

    async def run(self, gained: Callable[[], Awaitable[None]], lost: Callable[[], Awaitable[None]]) -> None:
        """Forever: calls `gained` when this instance becomes the leader, `lost` when it stops being one."""
        if self.redis is None:
            self.leading = True
            try:
                await gained()
            except Exception:
                log.exception("%s: the job failed to start", self.key)
            return
        ttl_ms = int(self.ttl * 1000)
        while True:
            try:
                holds = bool(await self.redis.eval(_HOLD, 1, self.key, self.me, ttl_ms))
            except (RedisError, OSError) as exc:
                log.warning("leadership of %s unknown, redis unavailable: %s", self.key, exc)
                holds = False
            if holds != self.leading:
                self.leading = holds
                log.info("%s %s", "leading" if holds else "no longer leading", self.key)
                try:
                    await (gained() if holds else lost())
                except Exception:  # the job could not start (or stop): let another instance try
                    log.exception("%s: the job failed to %s", self.key, "start" if holds else "stop")
                    if holds:
                        await self.resign()
            await asyncio.sleep(self.ttl / 3)

    async def resign(self) -> None:
        """Gives the job up at once (a clean stop), so another instance need not wait for the key to expire."""
        if self.redis is not None and self.leading:
            with contextlib.suppress(RedisError, OSError):  # unreachable: the key expires by itself
                await self.redis.eval(_RELEASE, 1, self.key, self.me)
        self.leading = False


@dataclass
class Cluster:
    """The parts a gateway instance shares with the others, built on the running event loop."""

    hub: LiveEvents
    locks: TurnLocks
    telegram: Leadership
    limiters: tuple[Limiter, Limiter] | None = None  # login limits; None: this process's own
    redis: Redis | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def halt(self) -> None:
        """Ends this instance's background work (sweeps, the Telegram lease's loop): nothing new starts."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def close(self) -> None:
        """Gives up the lease and the live events, and closes the Redis client (after `halt`)."""
        await self.halt()
        await self.telegram.resign()
        await self.hub.stop()
        if self.redis is not None:
            await self.redis.close()


def join(redis_url: str | None, clock: Callable[[], datetime]) -> Cluster:
    """The shared parts for `redis_url`, or this process's own without it."""
    if not redis_url:
        return Cluster(hub=Hub(), locks=ConversationLocks(), telegram=Leadership(None, "telegram"))
    redis = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    return Cluster(
        hub=SharedHub(redis),
        locks=SharedLocks(redis),
        telegram=Leadership(redis, "telegram"),
        limiters=(
            SharedFailureLimiter(redis, "username", FAILURES_PER_USERNAME, FAILURE_WINDOW, clock),
            SharedFailureLimiter(redis, "client", FAILURES_PER_CLIENT, FAILURE_WINDOW, clock),
        ),
        redis=redis,
    )
