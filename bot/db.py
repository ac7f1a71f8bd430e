"""Database plumbing shared by the services: UTC datetimes, engines, session factories."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC and hands them back aware, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def make_engine(url: str) -> Engine:
    """Creates a 2.0-style engine; SQLite files get their folder and foreign keys enforced.

    A SQLite file keeps its connections in a pool, as SQLAlchemy 2.0 does (1.4 opens and closes one per
    session, with the pragmas run again each time: a fifth of the gateway's CPU per message under load).
    A connection is used by one session at a time, so it may move between threads.
    """
    parsed = make_url(url)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options = {"poolclass": QueuePool, "connect_args": {"check_same_thread": False}}
    elif parsed.get_backend_name() != "sqlite":
        # A server that restarted closed the pooled connections: each is checked before use and replaced.
        options = {"pool_pre_ping": True}
    engine = create_engine(url, future=True, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on; WAL, so concurrent readers do not block the writer.

    `synchronous=NORMAL`, SQLite's advice for WAL: a commit is not flushed to the disk at once but at the
    next checkpoint, so it survives a crash of the process (even a kill) but the last commits may be
    lost if the machine itself loses power. Flushing every commit was most of the gateway's CPU per
    message. PostgreSQL is the path for data that must survive that too.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker:
    """Session factory whose `.begin()` gives one transaction: commit on success, rollback on error."""
    return sessionmaker(engine, future=True, expire_on_commit=False)


_SCHEMA_LOCK = 0x5D0E5C  # the advisory lock held while an instance creates or extends the schema


def create_schema(engine: Engine, metadata: MetaData) -> None:
    """Creates missing tables, and adds columns and indexes a newer version defined to tables an older one made.

    The only schema changes the services make are adding columns that are nullable or have a server
    default, and indexes, so a database from an earlier release keeps working without a migration tool.
    """
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # instances starting together: one changes the schema at a time
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        metadata.create_all(connection)
        existing = inspect(connection)
        for table in metadata.sorted_tables:
            present = {c["name"] for c in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                preparer = engine.dialect.identifier_preparer
                ddl = (
                    f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.format_column(column)} "
                    f"{column.type.compile(dialect=engine.dialect)}"
                )
                if column.server_default is not None:
                    ddl += f" DEFAULT '{column.server_default.arg}' NOT NULL"
                connection.execute(text(ddl))
        for table in metadata.sorted_tables:
            for index in table.indexes:  # an index a newer version declared on an older table
                index.create(connection, checkfirst=True)
