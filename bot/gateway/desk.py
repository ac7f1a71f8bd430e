"""The help desk: customers' messages go to the bot or wait for a person; agents claim, reply, resolve."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import ApiError, conflict
from bot.gateway import auth, escalation, states
from bot.gateway.anger import AngerDetector
from bot.gateway.hub import LiveEvents
from bot.gateway.inputs import CustomerInput, read_input
from bot.gateway.models import (
    Conversation,
    Message,
    PendingTurn,
    Status,
)
from bot.gateway.ordering import ConversationLocks
from bot.gateway.rasa import BotReply, RasaClient, RasaUnavailable
from bot.gateway.states import BotSync
from bot.gateway.views import Views, message_view

log = logging.getLogger(__name__)


def offered_buttons(s: Session, conv: Conversation, latest: bool = False) -> list[dict[str, str]]:
    """The buttons the bot offered in the conversation, newest first; `latest`: since the customer last wrote."""
    since = 0
    if latest:
        since = (
            s.scalar(
                select(func.max(Message.seq)).where(Message.conversation_id == conv.id, Message.author == "customer")
            )
            or 0
        )
    rows = s.scalars(
        select(Message.buttons_json)
        .where(
            Message.conversation_id == conv.id,
            Message.author == "bot",
            Message.seq > since,
            Message.buttons_json.is_not(None),
        )
        .order_by(Message.seq.desc())
    )
    return [b for raw in rows for b in json.loads(raw)]


def _done(s: Session, turn_id: int) -> None:
    """Removes a pending turn in the transaction that stores its outcome."""
    turn = s.get(PendingTurn, turn_id)
    if turn is not None:
        s.delete(turn)


class Desk:
    """All conversation logic of the gateway; channels and HTTP handlers only translate to and from it."""

    def __init__(
        self,
        sessions: sessionmaker,
        rasa: RasaClient,
        hub: LiveEvents,
        clock: Callable[[], datetime],
        anger: AngerDetector | None = None,
    ) -> None:
        self.sessions = sessions
        self.rasa = rasa
        self.hub = hub
        self.clock = clock
        self.anger = anger or AngerDetector()
        self.locks = ConversationLocks()
        self.views = Views(sessions, clock)
        self._running: set[asyncio.Task[Any]] = set()  # strong references to turns and syncs in flight

    # --- customers ------------------------------------------------------------------------------

    def open(
        self, channel: str = "web", external_id: str | None = None, customer_id: str | None = None
    ) -> tuple[str, str]:
        """A new conversation and the token that opens it (only its hash is stored)."""
        token = secrets.token_urlsafe(24)
        conv_id = uuid.uuid4().hex
        conv = Conversation(
            id=conv_id,
            channel=channel,
            external_id=external_id,
            token_hash=auth.token_hash(token),
            customer_id=customer_id,
        )
        with self.sessions.begin() as s:
            states.open_conversation(s, conv, f"customer:{channel}", self.clock())
        return conv_id, token

    def authorize(self, conv_id: str, token: str | None) -> None:
        """A customer's token opens its own conversation and nothing else."""
        if not token:
            raise ApiError(401, "unauthorized", "An Authorization: Bearer <token> header is required.")
        with self.sessions() as s:
            conv = states.load(s, conv_id)
            if not hmac.compare_digest(conv.token_hash, auth.token_hash(token)):
                raise ApiError(403, "forbidden", "This token does not open this conversation.")

    async def customer_message(
        self,
        conv_id: str,
        text: str,
        metadata: dict[str, Any] | None = None,
        label: str | None = None,
        vouched: bool = False,
    ) -> dict[str, Any]:
        """Stores the message and its pending turn first (nothing is lost), then answers turns in order.

        `label` is the title of a pressed button. `vouched`: the channel itself resolved `text` (a
        Telegram command, or an inline button it matched to an offered one), so it goes to the bot as is.
        """
        turn_id, channel, posted = self._store(conv_id, text, metadata or {}, label, vouched)
        # Tasks start in creation order, and each takes its place in the conversation's queue first,
        # so turns are answered in the order they were stored. Shielded: a customer who disconnects
        # does not cancel the turn, whose answer is stored and pushed anyway.
        task = asyncio.get_running_loop().create_task(self._turns_until(conv_id, turn_id, (channel, posted)))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return await asyncio.shield(task)

    def _store(
        self, conv_id: str, text: str, metadata: dict[str, Any], label: str | None, vouched: bool
    ) -> tuple[int, str, dict[str, Any]]:
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            if vouched:
                said = CustomerInput(text, label or text)
            else:
                said = read_input(text, label, offered_buttons(s, conv), offered_buttons(s, conv, latest=True))
            msg = states.append(s, conv, "customer", said.shown, self.clock())
            turn = PendingTurn(
                conversation_id=conv_id, text=said.for_bot, metadata_json=json.dumps(metadata), created_at=self.clock()
            )
            s.add(turn)
            s.flush()
            return turn.id, conv.channel, message_view(msg)

    def offered(self, conv_id: str) -> list[dict[str, str]]:
        """The buttons the bot offered in the conversation, newest first."""
        with self.sessions() as s:
            return offered_buttons(s, states.load(s, conv_id))

    async def _turns_until(
        self, conv_id: str, turn_id: int, echo: tuple[str, dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Under the conversation's lock, takes its pending turns up to `turn_id`, oldest first; the last answer."""
        async with self.locks.hold(conv_id):
            if echo is not None:
                await self.hub.publish(conv_id, echo[0], [echo[1]], echo_customer=True)
            with self.sessions() as s:
                ids = s.scalars(
                    select(PendingTurn.id)
                    .where(PendingTurn.conversation_id == conv_id, PendingTurn.id <= turn_id)
                    .order_by(PendingTurn.id)
                ).all()
            result: dict[str, Any] = {"messages": [], "status": self._status(conv_id)}
            for pending in ids:
                result = await self._take_turn(conv_id, pending)
            return result

    def _status(self, conv_id: str) -> Status:
        with self.sessions() as s:
            return Status(states.load(s, conv_id).status)

    async def recover(self, wait_for_bot: float = 180.0) -> int:
        """Finishes the turns a stopped gateway left pending, once Rasa is up (answered, or escalated if not)."""
        with self.sessions() as s:
            last = s.execute(
                select(PendingTurn.conversation_id, func.max(PendingTurn.id))
                .group_by(PendingTurn.conversation_id)
                .order_by(func.min(PendingTurn.id))
            ).all()
        if not last:
            return 0
        if not await self.rasa.wait_ready(wait_for_bot):
            log.warning("rasa not ready after %.0f s; pending turns go to agents", wait_for_bot)
        for conv_id, turn_id in last:
            await self._turns_until(conv_id, turn_id)
        log.info("finished the pending turns of %d conversation(s) left by a previous run", len(last))
        return len(last)

    async def _take_turn(self, conv_id: str, turn_id: int) -> dict[str, Any]:
        """Sends one pending turn to the bot, or tells the customer to wait when a person has the conversation."""
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            turn = s.get(PendingTurn, turn_id)
            if turn is None:  # already taken (the start-up recovery), its answer published
                return {"messages": [], "status": conv.status}
            channel, text = conv.channel, turn.text
            reopened = conv.status == Status.RESOLVED
            if reopened:
                states.transition(s, conv, Status.BOT, "customer", "new message after resolution", self.clock())
            if conv.status != Status.BOT:
                s.delete(turn)
            status, customer_id = conv.status, conv.customer_id
            meta = {**json.loads(turn.metadata_json), **({"customer_id": customer_id} if customer_id else {})}
            recent = list(
                s.scalars(
                    select(Message.text)
                    .where(Message.conversation_id == conv_id, Message.author == "customer")
                    .order_by(Message.seq.desc())
                    .limit(3)
                )
            )[::-1]
        if status != Status.BOT:
            return await self._while_waiting(conv_id, channel, status)
        if reopened:
            await self.sync_bot(conv_id, BotSync.RESUME)
        try:
            reply = await self.rasa.send(conv_id, text, meta)
        except RasaUnavailable as exc:
            log.warning("rasa unavailable for %s: %s", conv_id, exc)
            return await self._bot_down(conv_id, channel, turn_id)
        if not reply.messages and reply.handoff is None:
            # Rasa swallows a failed custom action (e.g. the action server is down) and says nothing.
            log.warning("rasa gave no answer for %s; treating the bot as down", conv_id)
            return await self._bot_down(conv_id, channel, turn_id)
        return await self._bot_answered(conv_id, channel, reply, recent, turn_id)

    async def _bot_answered(
        self, conv_id: str, channel: str, reply: BotReply, recent: list[str], turn_id: int
    ) -> dict[str, Any]:
        now = self.clock()
        assessment = self.anger.assess(recent)
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            _done(s, turn_id)
            out = [states.append(s, conv, "bot", m["text"], now, buttons=m["buttons"] or None) for m in reply.messages]
            if reply.verified_customer_id:
                conv.customer_id = reply.verified_customer_id
            decided = escalation.decide(reply, assessment, recent)
            if decided is not None:
                actor, handoff = decided
                conv.order_number = handoff.order_number or conv.order_number
                out += escalation.escalate(s, conv, actor, handoff, now, self._online(s))
            s.flush()
            views = [message_view(m) for m in out]
            status = conv.status
        if reply.verified_customer_id:
            event = {"type": "verified", "conversation_id": conv_id, "customer_id": reply.verified_customer_id}
            await self.hub.to_customer(conv_id, channel, event)
        await self.hub.publish(conv_id, channel, views, status=status)
        await self.sync_bot(conv_id, states.bot_sync(Status.BOT, Status(status)))
        return {"messages": views, "status": status}

    async def _bot_down(self, conv_id: str, channel: str, turn_id: int) -> dict[str, Any]:
        """Rasa or the action server failed: the message is kept and a person takes over."""
        now = self.clock()
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            _done(s, turn_id)
            out = [
                states.append(s, conv, "system", "Sorry, our assistant is not available right now.", now),
                *escalation.escalate(s, conv, "gateway", escalation.BOT_DOWN, now, self._online(s)),
            ]
            s.flush()
            views, status = [message_view(m) for m in out], conv.status
        await self.hub.publish(conv_id, channel, views, status=status)
        # Rasa just failed: tell it in the background, so the customer's answer does not wait on it.
        task = asyncio.get_running_loop().create_task(
            self.sync_bot(conv_id, states.bot_sync(Status.BOT, Status(status)))
        )
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return {"messages": views, "status": status}

    async def _while_waiting(self, conv_id: str, channel: str, status: str) -> dict[str, Any]:
        if status != Status.QUEUED:
            return {"messages": [], "status": status}
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            note = states.append(s, conv, "system", escalation.waiting_text(s, conv, self._online(s)), self.clock())
            s.flush()
            view = message_view(note)
        await self.hub.publish(conv_id, channel, [view], status=status)
        return {"messages": [view], "status": status}

    def _online(self, s: Session) -> bool:
        return escalation.agents_online(s, self.hub.agents_connected(), self.clock())

    async def sync_bot(self, conv_id: str, sync: states.BotSync | None, note: str = "") -> BotReply:
        """Tells Rasa what a move means for it (states.MOVES); the hand-back's answer comes back.

        If Rasa cannot be told, the gateway keeps the bot silent anyway: it sends nothing to Rasa
        unless the conversation is with the bot, and resumes it on the next hand-back or reopening.
        """
        try:
            if sync is BotSync.PAUSE:
                await self.rasa.pause(conv_id)
            elif sync is BotSync.RESUME:
                await self.rasa.resume(conv_id)
            elif sync is BotSync.HAND_BACK:
                return await self.rasa.hand_back(conv_id, note)
        except RasaUnavailable:
            log.warning("could not %s the bot for %s", sync, conv_id)
        return BotReply()

    def note(self, conv_id: str, text: str) -> None:
        """A system line in the transcript (e.g. what a channel could not deliver), seen by agents."""
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            states.append(s, conv, "system", text, self.clock())

    def rate(self, conv_id: str, rating: int, comment: str) -> None:
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            if conv.status != Status.RESOLVED:
                raise conflict("not_resolved", "Only a resolved conversation can be rated.")
            conv.rating, conv.rating_comment = rating, comment
