"""The cached SQL tracker store against Rasa's own, on real SQLite files and PostgreSQL: the same rows, each
event written once, another writer noticed, and a kept tracker handed out only when it is what is stored."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.pool import QueuePool

from bot.db import make_engine
from bot.tracker_store import CachedSQLTrackerStore
from tests.conftest import DATABASES, database_url

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, order_status]
slots:
  order_number: {type: text, mappings: [{type: custom}]}
  language: {type: categorical, values: [en, zh], mappings: [{type: custom}]}
responses:
  utter_greet: [{text: "Hello!"}]
"""
)
COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
OpenStore = Callable[..., SQLTrackerStore]
_clock = iter(range(1_000_000, 2_000_000))


def turn(text: str, intent: str, order: str | None = None) -> list[Event]:
    """One customer message and the bot's answer, timestamped in order."""
    at = float(next(_clock))
    parse_data = {"text": text, "intent": {"name": intent, "confidence": 0.98}, "entities": []}
    events: list[Event] = [UserUttered(text, parse_data["intent"], parse_data=parse_data, timestamp=at)]
    if order is not None:
        events.append(SlotSet("order_number", order, timestamp=at + 0.1))
    return [
        *events,
        ActionExecuted("utter_greet", timestamp=at + 0.2),
        BotUttered("Hello!", {"elements": None}, timestamp=at + 0.3),
        ActionExecuted("action_listen", timestamp=at + 0.4),
    ]


def session() -> list[Event]:
    at = float(next(_clock))
    return [
        ActionExecuted("action_session_start", timestamp=at),
        SessionStarted(timestamp=at),
        SlotSet("language", "en", timestamp=at),
        ActionExecuted("action_listen", timestamp=at),
    ]


def tracker(sender: str, *events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, list(events), DOMAIN.slots)


def add(tracker: DialogueStateTracker | None, events: list[Event]) -> None:
    """Appends events as Rasa does during a message, keeping their timestamps."""
    assert tracker is not None
    tracker.update_with_events(events, DOMAIN, override_timestamp=False)


def dicts(tracker: DialogueStateTracker | None) -> list[dict[str, Any]]:
    assert tracker is not None
    return [event.as_dict() for event in tracker.events]


def rows(store: SQLTrackerStore, sender: str) -> list[tuple[Any, ...]]:
    table = store.SQLEvent.__table__
    query = sa.select(*(table.c[name] for name in COLUMNS)).where(table.c.sender_id == sender).order_by(table.c.id)
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def stored(store: SQLTrackerStore, sender: str) -> list[dict[str, Any]]:
    """The events of a conversation as the table holds them, in order."""
    return [json.loads(row[-1]) for row in rows(store, sender)]


@pytest.fixture(params=DATABASES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or the shared PostgreSQL one with Rasa's `events` table dropped."""
    url = database_url(request.param, tmp_path)
    if request.param == "postgresql":
        engine = make_engine(url)
        SQLTrackerStore.Base.metadata.drop_all(engine)
        engine.dispose()
    return url


@pytest.fixture
def open_store(url: str) -> Iterator[OpenStore]:
    """Opens stores as `endpoints.yml` does (`dialect` and `db`, or a full URL in `host`), by default on `url`."""
    opened: list[SQLTrackerStore] = []

    def open_(kind: type[SQLTrackerStore] = CachedSQLTrackerStore, on: str = url, **kwargs: Any) -> SQLTrackerStore:
        if on.startswith("sqlite:///"):
            store = kind(domain=DOMAIN, dialect="sqlite", db=on.removeprefix("sqlite:///"), **kwargs)
        else:
            store = kind(domain=DOMAIN, dialect="postgresql", host=on, **kwargs)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.engine.dispose()


async def test_writes_the_rows_rasa_writes_and_rasa_reads_them_back(open_store: OpenStore, tmp_path: Path) -> None:
    events = [*session(), *turn("hi", "greet"), *turn("where is 80000005", "order_status", "80000005")]
    cached, rasa = open_store(), open_store(SQLTrackerStore, on=f"sqlite:///{tmp_path}/rasa.db")
    await cached.save(tracker("ann", *events))
    await rasa.save(tracker("ann", *events))
    assert rows(cached, "ann") == rows(rasa, "ann")
    assert [row[3] for row in rows(cached, "ann")].count("order_status") == 1  # intent_name is filled in
    assert dicts(await open_store(SQLTrackerStore).retrieve("ann")) == [event.as_dict() for event in events]


async def test_a_conversation_keeps_its_tracker_and_writes_each_event_once(open_store: OpenStore) -> None:
    store = open_store()
    kept = tracker("ann", *session())
    await store.save(kept)
    for number in range(3):
        current = await store.retrieve("ann")
        assert current is kept
        add(current, turn(f"message {number}", "greet", f"8000000{number}"))
        await store.save(current)
    assert len(kept.events) == 4 + 3 * 5
    assert stored(store, "ann") == dicts(kept)
    assert dicts(await open_store(SQLTrackerStore).retrieve("ann")) == dicts(kept)


@pytest.mark.parametrize("other", [CachedSQLTrackerStore, SQLTrackerStore])
async def test_events_another_writer_added_are_read(open_store: OpenStore, other: type[SQLTrackerStore]) -> None:
    store, elsewhere = open_store(), open_store(other)
    kept = tracker("ann", *session(), *turn("hi", "greet"))
    await store.save(kept)
    theirs = await elsewhere.retrieve("ann")
    assert theirs is not None
    add(theirs, turn("where is 80000005", "order_status", "80000005"))
    await elsewhere.save(theirs)
    current = await store.retrieve("ann")
    assert current is not kept
    assert dicts(current) == dicts(theirs)
    assert current is not None and current.get_slot("order_number") == "80000005"
    add(current, turn("thanks", "greet"))
    await store.save(current)
    assert stored(store, "ann") == dicts(current)


async def test_a_tracker_is_lent_to_one_caller_at_a_time(open_store: OpenStore) -> None:
    store = open_store()
    await store.save(tracker("ann", *session(), *turn("hi", "greet")))
    first, second = await store.retrieve("ann"), await store.retrieve("ann")
    assert first is not None and second is not None and first is not second
    assert dicts(first) == dicts(second)
    add(first, turn("where is 80000005", "order_status", "80000005"))
    await store.save(first)  # not the tracker the store holds now: Rasa's way, counting the stored events
    assert stored(store, "ann") == dicts(first)
    assert dicts(await store.retrieve("ann")) == dicts(first)


async def test_a_tracker_changed_since_its_save_is_not_handed_out(open_store: OpenStore) -> None:
    store = open_store()
    saved = tracker("ann", *session(), *turn("hi", "greet"))
    await store.save(saved)
    stored = dicts(saved)
    add(saved, turn("where is 80000005", "order_status", "80000005"))
    current = await store.retrieve("ann")
    assert current is not saved
    assert dicts(current) == stored
    assert current is not None and current.get_slot("order_number") is None


async def test_the_least_recently_used_conversation_is_read_again(open_store: OpenStore) -> None:
    store = open_store(cache_size=2)
    saved = {sender: tracker(sender, *session(), *turn(f"hi from {sender}", "greet")) for sender in ("a", "b", "c")}
    for kept in saved.values():
        await store.save(kept)
    first = await store.retrieve("a")
    assert first is not saved["a"]
    assert dicts(first) == dicts(saved["a"])
    assert await store.retrieve("c") is saved["c"]


async def test_a_new_conversation_is_created_and_saved(open_store: OpenStore) -> None:
    store = open_store()
    assert await store.retrieve("new") is None
    created = await store.get_or_create_tracker("new")
    assert dicts(created) == [ActionExecuted("action_listen", timestamp=created.events[0].timestamp).as_dict()]
    assert dicts(await open_store(SQLTrackerStore).retrieve("new")) == dicts(created)
    assert len(rows(store, "new")) == 1


def test_a_sqlite_file_is_opened_pooled_in_wal_mode(tmp_path: Path) -> None:
    store = CachedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    with store.engine.connect() as connection:
        modes = [connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "synchronous")]
    assert isinstance(store.engine.pool, QueuePool)
    assert modes == ["wal", 1]  # synchronous=NORMAL
    store.engine.dispose()


async def test_a_kept_tracker_after_a_new_session_is_what_rasa_reads(open_store: OpenStore) -> None:
    store = open_store()
    kept = tracker("ann", *session(), *turn("my parcel is damaged", "order_status"))
    await store.save(kept)
    add(kept, [*session(), *turn("hi", "greet")])  # back after the session expired
    await store.save(kept)
    rasa_reads = await open_store(SQLTrackerStore).retrieve("ann")
    assert dicts(await store.retrieve("ann")) == dicts(rasa_reads)  # what the policies and actions get


async def test_a_tracker_of_two_sessions_lent_twice_writes_each_event_once(open_store: OpenStore) -> None:
    store = open_store()
    before, after = [*session(), *turn("hi", "greet")], [*session(), *turn("hi again", "greet")]
    answer = turn("where is 80000005", "order_status", "80000005")
    kept = tracker("ann", *before)
    await store.save(kept)
    add(kept, after)  # back after the session expired
    await store.save(kept)
    first = await store.retrieve("ann")
    assert first is not None
    await store.retrieve("ann")  # e.g. Rasa's HTTP API checking the conversation exists, during the message
    add(first, answer)
    await store.save(first)
    assert stored(store, "ann") == [event.as_dict() for event in [*before, *after, *answer]]


async def test_asking_whether_a_conversation_exists_neither_reads_nor_lends_it(open_store: OpenStore) -> None:
    store = open_store()
    assert not await store.exists("ann")
    kept = tracker("ann", *session())
    await store.save(kept)
    assert await store.exists("ann")
    assert await store.retrieve("ann") is kept


async def test_a_tracker_saved_without_events_is_not_found(open_store: OpenStore) -> None:
    store = open_store()
    await store.save(tracker("ann"))
    assert await store.retrieve("ann") is None
    assert await open_store(SQLTrackerStore).retrieve("ann") is None
