"""One turn at a time per conversation, in arrival order: inside one gateway process, or across several."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)


class TurnLocks(Protocol):
    """One holder at a time per conversation, served in the order they asked.

    `shared`: hold it across every instance or not at all (`Unshared`), for work that may be in
    progress on another instance, such as the sweep of turns left pending.
    """

    def hold(self, key: str, shared: bool = False) -> AbstractAsyncContextManager[None]: ...


class Unshared(Exception):
    """The lock could be held within this instance only (Redis away) and the caller asked for more."""


class ConversationLocks:
    """FIFO locks keyed by conversation id, dropped when nobody holds or waits for them.

    `hold` takes its place in the queue before its first await, so callers that enter it
    without awaiting in between are served in the order they entered.
    """

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: Counter[str] = Counter()

    @asynccontextmanager
    async def hold(self, key: str, shared: bool = False) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


class SharedLocks:
    """One turn at a time per conversation across every gateway instance: this instance's FIFO queue
    first, then a Redis lock per conversation (REDIS_URL).

    The Redis lock lives `ttl` seconds and is extended while its holder works (a turn may wait 30 s for
    the bot), so the turns of an instance that died are taken by another within `ttl` seconds. When Redis
    cannot be reached the turn goes on under this instance's lock alone, and says so in the log, unless
    the holder asked for a `shared` lock.
    """

    def __init__(self, redis: Redis, ttl: float = 10.0) -> None:
        self.local = ConversationLocks()
        self.redis = redis
        self.ttl = ttl

    @asynccontextmanager
    async def hold(self, key: str, shared: bool = False) -> AsyncIterator[None]:
        async with self.local.hold(key):
            lock = self.redis.lock(f"shopdesk:turns:{key}", timeout=self.ttl, sleep=0.02, thread_local=False)
            try:
                acquired = await lock.acquire()
            except (RedisError, OSError) as exc:
                if shared:
                    raise Unshared(f"redis unavailable, {key} not locked across instances") from exc
                log.warning("redis unavailable: %s is ordered within this instance only (%s)", key, exc)
                acquired = False
            keeper = asyncio.get_running_loop().create_task(self._keep(lock)) if acquired else None
            try:
                yield
            finally:
                if keeper is not None:
                    keeper.cancel()
                    await asyncio.gather(keeper, return_exceptions=True)
                    try:
                        await lock.release()
                    except (LockError, RedisError, OSError) as exc:  # expired or Redis away: it lapses by itself
                        log.warning("could not release the lock of %s: %s", key, exc)

    async def _keep(self, lock: Lock) -> None:
        """Extends the lock to a full `ttl` every third of it, while its turn runs."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await lock.reacquire()
            except (LockError, RedisError, OSError) as exc:
                log.warning("could not extend the lock %s: %s", lock.name, exc)

    def __len__(self) -> int:
        return len(self.local)
