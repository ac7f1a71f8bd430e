"""The state machine and the relay, fast: real SQLite, the real hub, a fake bot client in this process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.contract import Handoff
from bot.db import make_engine, make_sessionmaker
from bot.errors import ApiError
from bot.gateway import states
from bot.gateway.assignments import Assignments
from bot.gateway.chats import Chats
from bot.gateway.desk import Desk
from bot.gateway.hub import Hub
from bot.gateway.models import Agent, Base, StatusChange, TelegramLink
from bot.gateway.rasa import BotReply, RasaUnavailable
from bot.gateway.states import BotSync
from tests.conftest import SEEDED_AT
from tests.servers import Clock

pytestmark = pytest.mark.asyncio


class FakeBot:
    """Answers like Rasa would, from a script; records every call the gateway makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.next: BotReply | Exception = BotReply(messages=[{"text": "Hello!", "buttons": []}])

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> BotReply:
        self.calls.append(("send", text))
        if isinstance(self.next, Exception):
            raise self.next
        return self.next

    async def pause(self, sender: str) -> None:
        self.calls.append(("pause", sender))

    async def resume(self, sender: str) -> None:
        self.calls.append(("resume", sender))

    async def hand_back(self, sender: str, note: str) -> BotReply:
        self.calls.append(("hand_back", note))
        return BotReply(messages=[{"text": f"Back: {note}", "buttons": []}])

    async def wait_ready(self, seconds: float) -> bool:
        return True


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    engine = make_engine(f"sqlite:///{tmp_path}/app.db")
    Base.metadata.create_all(engine)
    made = Desk(make_sessionmaker(engine), FakeBot(), Hub(), Clock(SEEDED_AT))  # type: ignore[arg-type]
    yield made
    engine.dispose()


def bot(desk: Desk) -> FakeBot:
    return desk.rasa  # type: ignore[return-value]


def agent(desk: Desk) -> Agent:
    with desk.sessions.begin() as s:
        row = Agent(username="alice", display_name="Alice", password_hash="x", skills="general", created_at=SEEDED_AT)
        s.add(row)
        s.flush()
        s.expunge(row)
        return row


def history(desk: Desk, conv_id: str) -> list[tuple[str | None, str]]:
    with desk.sessions() as s:
        rows = s.scalars(select(StatusChange).where(StatusChange.conversation_id == conv_id).order_by(StatusChange.id))
        return [(r.from_status, r.to_status) for r in rows]


def test_every_move_has_its_bot_sync() -> None:
    assert states.bot_sync("bot", "queued") is BotSync.PAUSE
    assert states.bot_sync("resolved", "bot") is BotSync.RESUME
    assert states.bot_sync("assigned", "bot") is BotSync.HAND_BACK
    assert states.bot_sync("queued", "assigned") is None and states.bot_sync("bot", "bot") is None


async def test_a_whole_conversation_records_each_move_once(desk: Desk) -> None:
    conv_id, _ = desk.open("web")
    assert (await desk.turns.customer_message(conv_id, "hi"))["status"] == "bot"
    bot(desk).next = BotReply(
        messages=[{"text": "A person will help.", "buttons": []}], handoff=Handoff.for_reason("customer_request")
    )
    assert (await desk.turns.customer_message(conv_id, "a person please"))["status"] == "queued"
    alice = agent(desk)
    await Assignments(desk).claim(conv_id, alice)
    await Assignments(desk).hand_back(conv_id, alice, "sorted")
    assert history(desk, conv_id) == [(None, "bot"), ("bot", "queued"), ("queued", "assigned"), ("assigned", "bot")]
    # The bot paused itself when it handed off (its action's ConversationPaused); the gateway adds nothing.
    assert bot(desk).calls == [("send", "hi"), ("send", "a person please"), ("hand_back", "sorted")]


async def test_an_escalation_by_the_gateway_pauses_the_bot(desk: Desk) -> None:
    conv_id, _ = desk.open("web")
    bot(desk).next = BotReply(messages=[{"text": "Want a person?", "buttons": []}], misses=2)
    assert (await desk.turns.customer_message(conv_id, "blorp"))["status"] == "bot"  # offered, not queued
    bot(desk).next = BotReply(messages=[{"text": "Sorry?", "buttons": []}], misses=3)
    assert (await desk.turns.customer_message(conv_id, "blorp"))["status"] == "queued"
    assert bot(desk).calls == [("send", "blorp"), ("send", "blorp"), ("pause", conv_id)]
    assert history(desk, conv_id)[-1] == ("bot", "queued")


def test_only_a_private_chat_links_the_account(desk: Desk) -> None:
    """In a group, whoever verified is not known to be the account that opened the conversation."""
    chats = Chats(desk)
    private = chats.conversation(chat_id=501, user_id=501)
    group = chats.conversation(chat_id=-900, user_id=502)
    chats.link(private, "1")
    chats.link(group, "2")
    with desk.sessions() as s:
        links = {(row.telegram_user_id, row.customer_id) for row in s.scalars(select(TelegramLink))}
    assert links == {("501", "1")}
    assert chats.conversation(chat_id=501, user_id=501) == private and chats.chat_of(group) == -900


async def test_a_message_after_resolution_reopens_and_resumes_the_bot(desk: Desk) -> None:
    conv_id, _ = desk.open("web")
    bot(desk).next = BotReply(handoff=Handoff.for_reason("customer_request"))
    await desk.turns.customer_message(conv_id, "a person please")
    alice = agent(desk)
    await Assignments(desk).claim(conv_id, alice)
    await Assignments(desk).resolve(conv_id, alice)
    bot(desk).next = BotReply(messages=[{"text": "Hello again!", "buttons": []}])
    reply = await desk.turns.customer_message(conv_id, "one more thing")
    assert reply["status"] == "bot" and reply["messages"][0]["text"] == "Hello again!"
    assert bot(desk).calls[-2:] == [("resume", conv_id), ("send", "one more thing")]
    assert history(desk, conv_id)[-1] == ("resolved", "bot")


async def test_a_failing_bot_escalates_and_keeps_the_message(desk: Desk) -> None:
    conv_id, _ = desk.open("web")
    bot(desk).next = RasaUnavailable("down")
    reply = await desk.turns.customer_message(conv_id, "where is my order")
    assert reply["status"] == "queued"
    transcript = desk.views.transcript(conv_id)["messages"]
    assert [m["author"] for m in transcript] == ["customer", "system", "system"]


async def test_moves_the_table_does_not_allow_are_refused(desk: Desk) -> None:
    conv_id, _ = desk.open("web")
    alice = agent(desk)
    with pytest.raises(ApiError) as refused:
        await Assignments(desk).resolve(conv_id, alice)
    assert refused.value.status == 409
    with desk.sessions.begin() as s, pytest.raises(ApiError) as invalid:
        states.transition(s, states.load(s, conv_id), states.Status.ASSIGNED, "test", "no", SEEDED_AT)
    assert invalid.value.code == "invalid_transition"
