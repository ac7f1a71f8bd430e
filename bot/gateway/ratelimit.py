"""Counting failures per key in a sliding window: too many, and the key is refused for a while."""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta


class FailureLimiter:
    """At most `limit` failures per key within `window`; `retry_after` says how long a key must wait.

    In memory, per process: a restart forgets the counts (an attacker gains one window at most).
    """

    def __init__(self, limit: int, window: timedelta, clock: Callable[[], datetime]) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[datetime]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[datetime]:
        since = self.clock() - self.window
        found = self._failures.get(key)
        if found is None:
            return deque()
        while found and found[0] <= since:
            found.popleft()
        if not found:
            del self._failures[key]
        return found

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        recent = self._recent(key)
        if len(recent) < self.limit:
            return 0
        wait = (recent[-self.limit] + self.window - self.clock()).total_seconds()
        return max(1, math.ceil(wait))

    def fail(self, key: str) -> datetime:
        """Counts a failure (or an attempt not yet known to succeed); the stamp lets `undo` take it back."""
        stamp = self.clock()
        self._failures[key].append(stamp)
        return stamp

    def undo(self, key: str, stamp: datetime) -> None:
        found = self._failures.get(key)
        if found is not None and stamp in found:
            found.remove(stamp)

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)
