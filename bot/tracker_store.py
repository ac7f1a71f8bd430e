"""Rasa's SQL tracker store, keeping each conversation's tracker between its messages (`endpoints.yml`).

Rasa's `SQLTrackerStore` rebuilds the tracker from every event of the session on each message (a query,
a JSON parse and a replay per event) and, to save, counts the stored events again and adds the rest
through the ORM; with SQLite it also opens a new connection per session. Under load that was a quarter
of the Rasa process's CPU. This store writes the same rows to the same table, so either class reads
what the other wrote, but:

- it keeps the last tracker it saved for each conversation (`cache_size` conversations, least recently
  used dropped) and hands it back as long as the table holds no newer event for that conversation than
  the ones it wrote: one indexed `max(id)` query per message, so another Rasa instance writing to the
  same database (several instances share it behind a lock store) is noticed and the tracker is read
  again. A tracker that spans two sessions is not kept: Rasa reads only the latest session.
- it knows how many events of each tracker it handed out are stored, and appends only the rest in one
  multi-row insert (Rasa's count of the stored events is used only for trackers made elsewhere);
- SQLite files are opened through `bot.db.make_engine` (pooled connections, WAL); a database server's
  pooled connections are checked before use, so a restart of PostgreSQL costs no failed message later.

A kept tracker is lent to one caller at a time: a second `retrieve` while it is out (an HTTP API read
during a message) reads the database, as Rasa's store would. It is lent again after its holder saves it.
"""

from __future__ import annotations

import json
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker

from bot import understood
from bot.db import make_engine


def _create_table_once(url: str) -> None:
    """Rasa's events table, created under an advisory lock: several Rasa instances starting together on one
    PostgreSQL would otherwise race to create it (one fails and logs the error)."""
    engine = sa.create_engine(url, **create_engine_kwargs(url))
    try:
        for attempt in range(30):  # a server still starting refuses connections a little while (as Rasa waits)
            try:
                with engine.begin() as connection:
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _TABLE_LOCK})
                    SQLTrackerStore.Base.metadata.create_all(connection)
                return
            except sa.exc.OperationalError:
                if attempt == 29:
                    raise
                time.sleep(1)
    finally:
        engine.dispose()


_TABLE_LOCK = 0x5D0E5D


@dataclass
class _Kept:
    """A conversation's last saved tracker and the id of the last row written for it."""

    tracker: DialogueStateTracker
    last_id: int
    lent: bool = False


class CachedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that keeps trackers between messages and appends only new events."""

    engine: sa.engine.Engine

    def __init__(self, *args: Any, cache_size: int = 2000, **kwargs: Any) -> None:
        """Rasa's settings (`dialect`, `db`, `host`, ...), plus how many conversations to keep in memory."""
        if kwargs.get("dialect", "sqlite") == "sqlite" and not kwargs.get("host") and kwargs.get("db"):
            Path(kwargs["db"]).parent.mkdir(parents=True, exist_ok=True)  # before Rasa creates the table
        if str(kwargs.get("host") or "").startswith("postgresql"):
            _create_table_once(str(kwargs["host"]))
        super().__init__(*args, **kwargs)
        engine = self.engine
        url = engine.url.render_as_string(hide_password=False)
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            engine.dispose()
            self.engine = make_engine(url)
            self.sessionmaker = sessionmaker(bind=self.engine)
        elif engine.dialect.name != "sqlite":  # a database server that restarted: stale connections replaced
            engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            self.sessionmaker = sessionmaker(bind=self.engine)
        self.cache_size = int(cache_size)
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._stored: dict[int, int] = {}  # id of a tracker handed out or saved -> how many of its events are stored
        self._events = self.SQLEvent.__table__
        # Built once: making a statement anew costs more than running it (one or two per message).
        self._insert = self._events.insert()
        self._max_id = sa.select(sa.func.max(self._events.c.id)).where(
            self._events.c.sender_id == sa.bindparam("sender_id")
        )

    def _last_id(self, connection: sa.engine.Connection, sender_id: str) -> int | None:
        last: int | None = connection.execute(self._max_id, {"sender_id": sender_id}).scalar()
        return last

    def _note_stored(self, tracker: DialogueStateTracker) -> None:
        """Records that every event of `tracker` is stored, for as long as the tracker lives."""
        if id(tracker) not in self._stored:
            weakref.finalize(tracker, self._stored.pop, id(tracker), None)
        self._stored[id(tracker)] = len(tracker.events)

    async def exists(self, conversation_id: str) -> bool:
        """Whether the conversation has any event, without reading (or lending) its tracker."""
        with self.engine.connect() as connection:
            return self._last_id(connection, conversation_id) is not None

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The kept tracker when the table has nothing newer for the conversation, else Rasa's reading."""
        with self.engine.connect() as connection:
            last_id = self._last_id(connection, sender_id)
        kept = self._kept.get(sender_id)
        if (
            kept is not None
            and not kept.lent
            and kept.last_id == last_id
            and self._stored.get(id(kept.tracker)) == len(kept.tracker.events)  # nothing added since its save
        ):
            kept.lent = True
            self._kept.move_to_end(sender_id)
            return kept.tracker
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self._note_stored(tracker)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Appends the events added since the tracker was read or saved, then keeps it for the next message."""
        stored = self._stored.get(id(tracker))
        if tracker.latest_message is not None:
            understood.note(tracker.latest_message.intent)
        await self.stream_events(tracker)
        if stored is not None:
            new = list(tracker.events)[stored:]
        else:  # a tracker this store did not hand out: Rasa's way, count what is stored
            with self.session_scope() as session:
                new = list(self._additional_events(session, tracker))
        with self.engine.begin() as connection:
            if new:
                connection.execute(self._insert, [self._row(tracker.sender_id, e) for e in new])
            last_id = self._last_id(connection, tracker.sender_id)
        self._note_stored(tracker)
        if last_id is None or sum(isinstance(e, SessionStarted) for e in tracker.events) > 1:
            self._kept.pop(tracker.sender_id, None)  # nothing stored, or more than what Rasa reads (one session)
            return
        self._kept[tracker.sender_id] = _Kept(tracker, last_id)
        self._kept.move_to_end(tracker.sender_id)
        while len(self._kept) > self.cache_size:
            self._kept.popitem(last=False)

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """The row Rasa's `SQLTrackerStore.save` writes for an event."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
