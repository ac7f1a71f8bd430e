"""Counting attempts per key in a sliding window: too many, and the key is refused for a while.

`FailureLimiter` counts in this process (`make run`); `SharedFailureLimiter` counts in Redis, so several
gateway instances behind a load balancer give an attacker no more tries than one. Admitting an attempt
and counting it are one step, so a burst of parallel guesses gets no more tries than a sequence.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class Limiter(Protocol):
    async def admit(self, key: str) -> tuple[str | None, int]:
        """Counts an attempt and gives its stamp, or refuses it: (None, seconds to wait)."""
        ...

    async def undo(self, key: str, stamp: str) -> None:
        """Takes back one attempt (it succeeded, or another limit refused it)."""
        ...

    async def forget(self, key: str) -> None:
        """Forgets every attempt of `key`."""
        ...


class FailureLimiter:
    """At most `limit` attempts per key within `window`, in memory: a restart forgets the counts."""

    def __init__(self, limit: int, window: timedelta, clock: Callable[[], datetime]) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._attempts: dict[str, deque[tuple[datetime, str]]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[tuple[datetime, str]]:
        since = self.clock() - self.window
        found = self._attempts.get(key)
        if found is None:
            return deque()
        while found and found[0][0] <= since:
            found.popleft()
        if not found:
            del self._attempts[key]
        return found

    async def admit(self, key: str) -> tuple[str | None, int]:
        recent = self._recent(key)
        if len(recent) >= self.limit:
            wait = (recent[-self.limit][0] + self.window - self.clock()).total_seconds()
            return None, max(1, math.ceil(wait))
        stamp = uuid.uuid4().hex
        self._attempts[key].append((self.clock(), stamp))
        return stamp, 0

    async def undo(self, key: str, stamp: str) -> None:
        found = self._attempts.get(key)
        if found is not None:
            for entry in found:
                if entry[1] == stamp:
                    found.remove(entry)
                    break

    async def forget(self, key: str) -> None:
        self._attempts.pop(key, None)


# KEYS[1]: the key's sorted set; ARGV: now (ms), window (ms), limit, stamp. Returns {stamp or "", wait in ms}.
_ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local n = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[3])
if n >= limit then
  local nth = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  return {'', tostring(tonumber(nth[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1]))}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {ARGV[4], '0'}
"""


class SharedFailureLimiter:
    """The same limit counted in Redis for every instance; while Redis is away, this instance counts alone."""

    def __init__(self, redis: Redis, name: str, limit: int, window: timedelta, clock: Callable[[], datetime]) -> None:
        self.redis = redis
        self.prefix = f"shopdesk:attempts:{name}:"
        self.limit = limit
        self.window = window
        self.clock = clock
        self.fallback = FailureLimiter(limit, window, clock)

    async def admit(self, key: str) -> tuple[str | None, int]:
        stamp = uuid.uuid4().hex
        now_ms = int(self.clock().timestamp() * 1000)
        window_ms = int(self.window.total_seconds() * 1000)
        try:
            got, wait_ms = await self.redis.eval(_ADMIT, 1, self.prefix + key, now_ms, window_ms, self.limit, stamp)
        except (RedisError, OSError) as exc:
            log.warning("redis unavailable, attempts counted in this instance: %s", exc)
            return await self.fallback.admit(key)
        if not got:
            return None, max(1, math.ceil(float(wait_ms) / 1000))
        return stamp, 0

    async def undo(self, key: str, stamp: str) -> None:
        try:
            await self.redis.zrem(self.prefix + key, stamp)
        except (RedisError, OSError):
            await self.fallback.undo(key, stamp)

    async def forget(self, key: str) -> None:
        await self.fallback.forget(key)
        try:
            await self.redis.delete(self.prefix + key)
        except (RedisError, OSError) as exc:
            log.warning("redis unavailable, attempts of %s not forgotten there: %s", key, exc)
