"""The help desk: what the gateway's parts share (database, bot client, live events, clock).

It opens conversations and checks customers' tokens; customers' turns are relayed by turns.py,
agents' moves made by assignments.py, reads served by views.py.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import ApiError, conflict, not_found
from bot.gateway import auth, escalation, states
from bot.gateway.anger import AngerDetector
from bot.gateway.hub import LiveEvents
from bot.gateway.inputs import offered_buttons
from bot.gateway.metrics import Metrics
from bot.gateway.models import Agent, Conversation, Status
from bot.gateway.ordering import ConversationLocks, TurnLocks
from bot.gateway.presence import effective
from bot.gateway.rasa import BotReply, RasaClient, RasaUnavailable
from bot.gateway.states import BotSync
from bot.gateway.turns import Turns
from bot.gateway.views import Views

log = logging.getLogger(__name__)


class Desk:
    """The parts every concern of the gateway shares, and the conversation operations that are not turns or moves."""

    def __init__(
        self,
        sessions: sessionmaker,
        rasa: RasaClient,
        hub: LiveEvents,
        clock: Callable[[], datetime],
        anger: AngerDetector | None = None,
        locks: TurnLocks | None = None,
        skill_wait: timedelta = timedelta(seconds=60),
    ) -> None:
        """`locks` order each conversation's turns: in this process unless shared ones are given;
        `skill_wait`: how long a queued conversation is offered only to agents with its skill."""
        self.sessions = sessions
        self.rasa = rasa
        self.hub = hub
        self.clock = clock
        self.locks = locks if locks is not None else ConversationLocks()  # (an empty one is falsy)
        self.anger = anger or AngerDetector()
        self.views = Views(sessions, clock, hub.connected_agents, skill_wait)
        self.metrics = Metrics(sessions, hub.sockets)
        self.turns = Turns(self)
        self._background: set[asyncio.Task[None]] = set()  # strong references to presence notices in flight

    # --- customers ------------------------------------------------------------------------------

    def open(
        self,
        channel: str = "web",
        external_id: str | None = None,
        customer_id: str | None = None,
        language: str = "en",
    ) -> tuple[str, str]:
        """A new conversation and the token that opens it (only its hash is stored).

        `language` is where the conversation starts (the page's or the app's language); the
        customer's own words decide it from their first message on.
        """
        token = secrets.token_urlsafe(24)
        conv_id = uuid.uuid4().hex
        conv = Conversation(
            id=conv_id,
            channel=channel,
            external_id=external_id,
            token_hash=auth.token_hash(token),
            customer_id=customer_id,
            language=language,
        )
        with self.sessions.begin() as s:
            states.open_conversation(s, conv, f"customer:{channel}", self.clock())
        return conv_id, token

    def authorize(self, conv_id: str, token: str | None) -> None:
        """A customer's token opens its own conversation and nothing else."""
        if not token:
            raise ApiError(401, "unauthorized", "An Authorization: Bearer <token> header is required.")
        with self.sessions() as s:
            token_hash = s.scalar(select(Conversation.token_hash).where(Conversation.id == conv_id))
            if token_hash is None:
                raise not_found("conversation", conv_id)
            if not hmac.compare_digest(token_hash, auth.token_hash(token)):
                raise ApiError(403, "forbidden", "This token does not open this conversation.")

    def offered(self, conv_id: str) -> list[dict[str, str]]:
        """The buttons the bot offered in the conversation, newest first."""
        with self.sessions() as s:
            return offered_buttons(s, states.load(s, conv_id))

    def online(self, s: Session) -> bool:
        return escalation.agents_online(s, self.hub.connected_agents())

    # --- agents' presence and typing -------------------------------------------------------------

    async def presence_changed(self, agent_id: int) -> None:
        """Tells the consoles an agent's presence (their choice while connected, else offline)."""
        with self.sessions() as s:
            agent = s.get(Agent, agent_id)
            if agent is None:
                return
            event = {
                "type": "presence",
                "agent": agent.username,
                "presence": effective(agent, self.hub.connected_agents()),
            }
        await self.hub.to_agents(event)

    def agent_left(self, ws: object, agent_id: int) -> None:
        """A console closed: its agent may now be offline, which the others are told."""
        self.hub.drop_agent(ws, agent_id)
        task = asyncio.get_running_loop().create_task(self.presence_changed(agent_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def typing_to_customer(self, conv_id: str, agent: Agent) -> None:
        """The agent is typing in a conversation of theirs: the customer's widget shows it."""
        with self.sessions() as s:
            conv = s.get(Conversation, conv_id)
            if conv is None or conv.status != Status.ASSIGNED or conv.assignee_id != agent.id:
                return
            channel = conv.channel
        await self.hub.to_customer(conv_id, channel, {"type": "typing", "who": "agent", "agent": agent.display_name})

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
            log.warning("could not %s the bot for %s", sync.value if sync else "reach", conv_id)
        return BotReply()

    def note(self, conv_id: str, text: str) -> None:
        """A system line in the transcript (e.g. what a channel could not deliver), seen by agents."""
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            states.append(s, conv, "system", text, self.clock())

    def language(self, conv_id: str) -> str:
        """The conversation's current language (bot/language.py's codes)."""
        with self.sessions() as s:
            return str(states.load(s, conv_id).language)

    def set_language(self, conv_id: str, language: str) -> None:
        """The customer chose a language (the widget's switch): the bot answers in it from the next turn."""
        with self.sessions.begin() as s:
            states.load(s, conv_id, lock=True).language = language

    def rate(self, conv_id: str, rating: int, comment: str) -> None:
        with self.sessions.begin() as s:
            conv = states.load(s, conv_id, lock=True)
            if conv.status != Status.RESOLVED:
                raise conflict("not_resolved", "Only a resolved conversation can be rated.")
            conv.rating, conv.rating_comment = rating, comment
