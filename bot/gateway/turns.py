"""A customer's turn: stored with a pending-turn row, then sent to the bot in order, answered or escalated.

Turns of one conversation are taken one at a time, oldest first, whoever received them; a turn
goes on if the customer's connection drops, and a gateway that starts finishes what a stopped
one left (docs/architecture.md, "Conversation states").
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot.errors import conflict
from bot.gateway import escalation, states
from bot.gateway.hub import publish
from bot.gateway.inputs import CustomerInput, offered_buttons, read_input
from bot.gateway.models import Message, PendingTurn, Status
from bot.gateway.notices import say
from bot.gateway.rasa import BotReply, RasaUnavailable
from bot.gateway.states import BotSync
from bot.gateway.views import message_view
from bot.language import base, follow

if TYPE_CHECKING:
    from bot.gateway.desk import Desk

log = logging.getLogger(__name__)
FALLBACK_INTENT = "nlu_fallback"  # Rasa's intent for a message its fallback classifier did not understand


def _done(s: Session, turn_id: int) -> bool:
    """Removes a pending turn in the transaction that stores its outcome; False if it was gone already.

    The fence behind the turn locks: should two instances ever answer one turn (a lock that lapsed),
    the answer stored second is dropped, so the customer hears one answer.
    """
    return bool(s.execute(_DONE, {"turn_id": turn_id}).rowcount)


# Built once: these run for every message, and building a statement costs more than running it.
_TURNS_UP_TO = (
    select(PendingTurn.id)
    .where(PendingTurn.conversation_id == bindparam("conv_id"), PendingTurn.id <= bindparam("turn_id"))
    .order_by(PendingTurn.id)
)
_RECENT_TEXTS = (  # the customer's last three messages, newest first (for the anger assessment)
    select(Message.text)
    .where(Message.conversation_id == bindparam("conv_id"), Message.author == "customer")
    .order_by(Message.seq.desc())
    .limit(3)
)
_DONE = delete(PendingTurn).where(PendingTurn.id == bindparam("turn_id"))
_KEEP_UNDERSTOOD = (
    update(Message)
    .where(Message.id == bindparam("mid"))
    .values(intent=bindparam("intent"), confidence=bindparam("confidence"), fallback=bindparam("fallback"))
)


def _understood(s: Session, message_id: int, reply: BotReply) -> None:
    """Keeps what the bot read in the customer's message, and whether it answered with its fallback."""
    assert reply.understood is not None
    intent, confidence = reply.understood.intent, reply.understood.confidence
    fallback = reply.misses > 0 or intent == FALLBACK_INTENT
    s.execute(_KEEP_UNDERSTOOD, {"mid": message_id, "intent": intent, "confidence": confidence, "fallback": fallback})


def _seen(s: Session, client_id: str, conv_id: str | None) -> bool:
    owner = s.scalar(select(Message.conversation_id).where(Message.client_id == client_id))
    if owner is not None and conv_id is not None and owner != conv_id:
        raise conflict("client_id_reused", "This client_id belongs to another conversation's message.")
    return owner is not None


class Turns:
    """The relay between customers and the bot, for one gateway process."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.sessions = desk.sessions
        self.clock = desk.clock
        self.hub = desk.hub
        self.rasa = desk.rasa
        self.anger = desk.anger
        self.locks = desk.locks
        self._running: set[asyncio.Task[Any]] = set()  # strong references to turns and syncs in flight

    async def customer_message(
        self,
        conv_id: str,
        text: str,
        metadata: dict[str, Any] | None = None,
        label: str | None = None,
        vouched: bool = False,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Stores the message and its pending turn first (nothing is lost), then answers turns in order.

        `label` is the title of a pressed button. `vouched`: the channel itself resolved `text` (a
        Telegram command, or an inline button it matched to an offered one), so it goes to the bot as is.
        `client_id`: the sender's id for the message; a message sent again with it (a retry after a lost
        answer, an update delivered twice) is stored once, and the second time nothing is sent to the bot.
        """
        stored = self.store(conv_id, text, metadata or {}, label, vouched, client_id)
        if stored is None:
            return {"messages": [], "status": self._status(conv_id), "duplicate": True}
        turn_id, channel, posted = stored
        # Tasks start in creation order, and each takes its place in the conversation's queue first,
        # so turns are answered in the order they were stored. Shielded: a customer who disconnects
        # does not cancel the turn, whose answer is stored and pushed anyway.
        task = asyncio.get_running_loop().create_task(self._turns_until(conv_id, turn_id, (channel, posted)))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return await asyncio.shield(task)

    def store(
        self, conv_id: str, text: str, metadata: dict[str, Any], label: str | None, vouched: bool, client_id: str | None
    ) -> tuple[int, str, dict[str, Any]] | None:
        """The message and its pending turn, in one transaction; None when `client_id` was stored before."""
        try:
            return self._store(conv_id, text, metadata, label, vouched, client_id)
        except IntegrityError:
            if client_id is not None and self.seen(client_id, conv_id):
                return None  # the same message, stored meanwhile by a request racing this one
            raise

    def seen(self, client_id: str, conv_id: str | None = None) -> bool:
        """Whether a message with this sender's id is stored; another conversation's is a 409."""
        with self.sessions() as s:
            return _seen(s, client_id, conv_id)

    def _store(
        self, conv_id: str, text: str, metadata: dict[str, Any], label: str | None, vouched: bool, client_id: str | None
    ) -> tuple[int, str, dict[str, Any]] | None:
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)  # stores of one conversation wait for each other
            if client_id is not None and _seen(s, client_id, conv_id):
                return None
            if vouched:
                said = CustomerInput(text, label or text)
            else:
                said = read_input(
                    text, label, lambda: offered_buttons(s, conv), lambda: offered_buttons(s, conv, latest=True)
                )
            msg = states.append(s, conv, "customer", said.shown, self.clock())
            msg.client_id = client_id
            s.flush()  # the message's id, for its turn
            typed = label is None and not said.for_bot.startswith("/")
            conv.language = follow(conv.language, said.shown) if typed else conv.language
            metadata = {**metadata, "language": conv.language}  # the language this turn is answered in
            turn = PendingTurn(
                conversation_id=conv_id,
                text=said.for_bot,
                metadata_json=json.dumps(metadata),
                created_at=self.clock(),
                message_id=msg.id,
            )
            s.add(turn)
            s.flush()
            return turn.id, conv.channel, message_view(msg)

    async def _turns_until(
        self, conv_id: str, turn_id: int, echo: tuple[str, dict[str, Any]] | None = None, shared: bool = False
    ) -> dict[str, Any]:
        """Under the conversation's lock, takes its pending turns up to `turn_id`, oldest first; the last answer.

        `shared`: only under a lock every instance honours (a sweep, for turns that may be in progress
        elsewhere); otherwise, with Redis away, under this instance's lock alone.
        """
        async with self.locks.hold(conv_id, shared=shared):
            if echo is not None:
                await publish(self.hub, conv_id, echo[0], [echo[1]], echo_customer=True)
            with self.sessions() as s:
                ids = s.scalars(_TURNS_UP_TO, {"conv_id": conv_id, "turn_id": turn_id}).all()
            if not ids:  # answered already (the start-up recovery took them)
                return {"messages": [], "status": self._status(conv_id)}
            for pending in ids:
                result = await self._take_turn(conv_id, pending)
            return result

    def _status(self, conv_id: str) -> Status:
        with self.sessions() as s:
            return Status(states.load(s, conv_id).status)

    def _pending(self, older_than: float = 0.0) -> list[tuple[str, int]]:
        """Each conversation with pending turns stored more than `older_than` seconds ago, and its last one."""
        since = self.clock() - timedelta(seconds=older_than)
        with self.sessions() as s:
            return [
                (str(conv_id), int(turn_id))
                for conv_id, turn_id in s.execute(
                    select(PendingTurn.conversation_id, func.max(PendingTurn.id))
                    .where(PendingTurn.created_at <= since)
                    .group_by(PendingTurn.conversation_id)
                    .order_by(func.min(PendingTurn.id))
                )
            ]

    async def recover(self, wait_for_bot: float = 180.0) -> int:
        """Finishes the turns a stopped gateway left pending, once Rasa is up (answered, or escalated if not)."""
        if not self._pending():
            return 0
        if not await self.rasa.wait_ready(wait_for_bot):
            log.warning("rasa not ready after %.0f s; pending turns go to agents", wait_for_bot)
        finished = await self._finish_pending(older_than=0.0)
        log.info("finished the pending turns of %d conversation(s) left by a previous run", finished)
        return finished

    async def sweep(self, every: float = 2.0, older_than: float = 5.0) -> None:
        """Forever: turns left pending for `older_than` seconds are taken here, in order, under their lock.

        A turn is normally answered by the gateway that stored it, within seconds. One still pending much
        later was left by an instance that died (several gateways behind a load balancer) or a database
        that was away while it was answered; whoever holds the conversation's lock finishes it first, so a
        turn in progress elsewhere is waited for, found done, and not sent to the bot twice. While Redis
        is away nothing is swept (the lock would not be shared); the turns wait for it.
        """
        while True:
            await asyncio.sleep(every)
            await self._finish_pending(older_than)

    async def _finish_pending(self, older_than: float) -> int:
        """Takes the turns pending for `older_than` seconds under shared locks; the conversations finished."""
        try:
            left = self._pending(older_than)
        except OperationalError as exc:  # the database is away: the turns stay pending until it is back
            log.warning("pending turns not taken, the database is unavailable: %s", exc.orig)
            return 0
        done = await asyncio.gather(*(self._turns_until(c, t, shared=True) for c, t in left), return_exceptions=True)
        for (conv_id, _), outcome in zip(left, done, strict=True):
            if isinstance(outcome, Exception):
                log.warning("pending turns of %s not finished yet: %r", conv_id, outcome)
        return sum(not isinstance(outcome, Exception) for outcome in done)

    async def _take_turn(self, conv_id: str, turn_id: int) -> dict[str, Any]:
        """Sends one pending turn to the bot, or tells the customer to wait when a person has the conversation."""
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            turn = s.get(PendingTurn, turn_id)
            if turn is None:  # already taken (the start-up recovery), its answer published
                return {"messages": [], "status": conv.status}
            channel, text, message_id = conv.channel, turn.text, turn.message_id
            reopened = conv.status == Status.RESOLVED
            if reopened:
                states.transition(s, conv, Status.BOT, "customer", "new message after resolution", self.clock())
            if conv.status != Status.BOT:
                s.delete(turn)
            status, customer_id, known = conv.status, conv.customer_id, conv.bot_language
            meta = {**json.loads(turn.metadata_json), **({"customer_id": customer_id} if customer_id else {})}
            language = str(meta.get("language") or conv.language)
            recent = list(s.scalars(_RECENT_TEXTS, {"conv_id": conv_id}))[::-1]
        if status != Status.BOT:
            return await self._while_waiting(conv_id, channel, status)
        if reopened:
            await self.desk.sync_bot(conv_id, BotSync.RESUME)
        try:
            if base(language) != (known or "en"):
                await self._tell_language(conv_id, base(language), fresh=known is None)
            with self.desk.metrics.bot_reply.time():
                reply = await self.rasa.send(conv_id, text, meta)
        except RasaUnavailable as exc:
            log.warning("rasa unavailable for %s: %s", conv_id, exc)
            return await self._bot_down(conv_id, channel, turn_id)
        if not reply.messages and reply.handoff is None:
            # Rasa swallows a failed custom action (e.g. the action server is down) and says nothing.
            log.warning("rasa gave no answer for %s; treating the bot as down", conv_id)
            return await self._bot_down(conv_id, channel, turn_id)
        return await self._bot_answered(conv_id, channel, reply, recent, (turn_id, message_id), language)

    async def _tell_language(self, conv_id: str, language: str, fresh: bool) -> None:
        """Sets the bot's language slot when this turn's language differs from the one it knows."""
        await self.rasa.set_language(conv_id, language, fresh)
        with self.sessions.begin() as s:
            states.load(s, conv_id, lock=True).bot_language = language

    async def _bot_answered(
        self,
        conv_id: str,
        channel: str,
        reply: BotReply,
        recent: list[str],
        turn: tuple[int, int | None],
        language: str,
    ) -> dict[str, Any]:
        now = self.clock()
        assessment = self.anger.assess(recent)
        turn_id, message_id = turn
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            if not _done(s, turn_id):
                log.warning("turn %d of %s was answered elsewhere; this answer is dropped", turn_id, conv_id)
                return {"messages": [], "status": conv.status}
            if message_id is not None and reply.understood is not None:
                _understood(s, message_id, reply)
            out = states.append_bot(s, conv, reply.messages, now, language)
            if reply.verified_customer_id:
                conv.customer_id = reply.verified_customer_id
            decided = escalation.decide(reply, assessment, recent)
            if decided is not None:
                actor, handoff = decided
                conv.order_number = handoff.order_number or conv.order_number
                out += escalation.escalate(s, conv, actor, handoff, now, self.desk.online(s))
            s.flush()
            views = [message_view(m) for m in out]
            status = conv.status
        if reply.verified_customer_id:
            event = {"type": "verified", "conversation_id": conv_id, "customer_id": reply.verified_customer_id}
            await self.hub.to_customer(conv_id, channel, event)
        await publish(self.hub, conv_id, channel, views, status=status)
        if decided is not None and decided[0] == "gateway":  # the bot pauses itself when it hands off (contract)
            await self.desk.sync_bot(conv_id, states.bot_sync(Status.BOT, status))
        return {"messages": views, "status": status}

    async def _bot_down(self, conv_id: str, channel: str, turn_id: int) -> dict[str, Any]:
        """Rasa or the action server failed: the message is kept and a person takes over."""
        now = self.clock()
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            if not _done(s, turn_id):
                return {"messages": [], "status": conv.status}
            out = [
                states.append(s, conv, "system", say(conv.language, "bot_down"), now),
                *escalation.escalate(s, conv, "gateway", escalation.BOT_DOWN, now, self.desk.online(s)),
            ]
            s.flush()
            views, status = [message_view(m) for m in out], conv.status
        # Rasa just failed, so it is not told: the gateway sends it nothing while people have the
        # conversation, and the hand-back resumes it.
        await publish(self.hub, conv_id, channel, views, status=status)
        return {"messages": views, "status": status}

    async def _while_waiting(self, conv_id: str, channel: str, status: str) -> dict[str, Any]:
        if status != Status.QUEUED:
            return {"messages": [], "status": status}
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            note = states.append(s, conv, "system", escalation.waiting_text(s, conv, self.desk.online(s)), self.clock())
            s.flush()
            view = message_view(note)
        await publish(self.hub, conv_id, channel, [view], status=status)
        return {"messages": [view], "status": status}
