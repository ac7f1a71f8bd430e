"""The real clock; services take a clock argument so that tests can move time by hand."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(timezone.utc)
