"""Which database errors are the database being away or busy (a 503 to retry) and which are our faults (500)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.errors import transient


class PgError(Exception):
    """Carries a SQLSTATE as psycopg2's errors do."""

    def __init__(self, pgcode: str) -> None:
        super().__init__(pgcode)
        self.pgcode = pgcode


def raised_by(sql: str) -> OperationalError:
    engine = create_engine("sqlite://")
    with pytest.raises(OperationalError) as caught, engine.connect() as c:
        c.execute(text(sql))
    return caught.value


def test_a_missing_table_is_our_fault() -> None:
    assert not transient(raised_by("SELECT * FROM nowhere"))


def test_a_locked_or_unreachable_database_is_transient() -> None:
    assert transient(OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked")))
    assert transient(OperationalError("connect", {}, Exception("could not connect to server: Connection refused")))
    assert transient(OperationalError("SELECT", {}, Exception("x"), connection_invalidated=True))


@pytest.mark.parametrize(
    ("pgcode", "expected"),
    [("08006", True), ("57P01", True), ("53300", True), ("40001", True), ("42P01", False), ("22001", False)],
)
def test_postgres_errors_are_told_apart_by_their_sqlstate_class(pgcode: str, expected: bool) -> None:
    assert transient(OperationalError("SELECT", {}, PgError(pgcode))) is expected
