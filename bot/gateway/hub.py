"""Live events: customers' widgets, agents' consoles and other channels get what happens as it happens.

`LiveEvents` is the interface the desk and the edges use; `Hub` delivers inside one gateway
process (what `make run` needs); `bot.gateway.bus.SharedHub` adds the other gateways through Redis.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)
Listener = Callable[[str, dict[str, Any]], Awaitable[None]]


class LiveEvents(Protocol):
    """Who receives a conversation's events, and who is online."""

    async def to_customer(self, conversation_id: str, channel: str, event: dict[str, Any]) -> None: ...

    async def to_agents(self, event: dict[str, Any]) -> None: ...

    def add_customer(self, conversation_id: str, ws: Any) -> None: ...

    def drop_customer(self, conversation_id: str, ws: Any) -> None: ...

    def add_agent(self, ws: Any, agent_id: int) -> None: ...

    def drop_agent(self, ws: Any, agent_id: int) -> None: ...

    def add_channel(self, channel: str, listener: Listener) -> None: ...

    def connected_agents(self) -> set[int]: ...

    def sockets(self) -> dict[str, int]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def publish(
    live: LiveEvents,
    conv_id: str,
    channel: str,
    views: list[dict[str, Any]],
    status: str | None = None,
    echo_customer: bool = False,
) -> None:
    """New messages and a status change of a conversation, to its customer (channel) and to agents.

    The routing rule lives here, once, for any LiveEvents: the customer's own messages go back to
    their widget only with `echo_customer` (other tabs); agents' internal notes never reach the customer.
    """
    for view in views:
        event = {"type": "message", "conversation_id": conv_id, "message": view}
        if view["author"] == "note":
            pass
        elif view["author"] != "customer" or echo_customer:
            await live.to_customer(conv_id, channel, event)
        await live.to_agents(event)
    if status is not None:
        event = {"type": "status", "conversation_id": conv_id, "status": status}
        await live.to_customer(conv_id, channel, event)
        await live.to_agents(event)


class Hub:
    """Fans events out to websockets; a channel (e.g. Telegram) registers a listener for its conversations."""

    def __init__(self) -> None:
        self.customers: dict[str, set[Any]] = defaultdict(set)
        self.agents: set[Any] = set()
        self.agent_of: dict[Any, int] = {}  # each console's agent
        self.channel_listeners: dict[str, Listener] = {}

    async def _send(self, sockets: set[Any], event: dict[str, Any]) -> None:
        data = json.dumps(event)
        for ws in list(sockets):
            try:
                await ws.send(data)
            except Exception:  # a closed socket must not stop delivery to the others
                sockets.discard(ws)
                self.agent_of.pop(ws, None)

    async def to_customer(self, conversation_id: str, channel: str, event: dict[str, Any]) -> None:
        await self.to_widgets(conversation_id, event)
        listener = self.channel_listeners.get(channel)
        if listener is not None:
            try:
                await listener(conversation_id, event)
            except Exception:
                log.exception("channel %s failed to deliver to %s", channel, conversation_id)

    async def to_widgets(self, conversation_id: str, event: dict[str, Any]) -> None:
        """The conversation's widgets connected to this process."""
        sockets = self.customers.get(conversation_id)  # .get: no entry kept for chats without a widget
        if sockets:
            await self._send(sockets, event)

    def add_customer(self, conversation_id: str, ws: Any) -> None:
        """A widget's websocket now receives its conversation's events."""
        self.customers[conversation_id].add(ws)

    def add_channel(self, channel: str, listener: Listener) -> None:
        """A channel (e.g. Telegram) that delivers its own conversations' events."""
        self.channel_listeners[channel] = listener

    def add_agent(self, ws: Any, agent_id: int) -> None:
        """An authenticated console's websocket: it receives every event, and its agent is connected."""
        self.agents.add(ws)
        self.agent_of[ws] = agent_id

    def drop_agent(self, ws: Any, agent_id: int) -> None:
        self.agents.discard(ws)
        self.agent_of.pop(ws, None)

    def drop_customer(self, conversation_id: str, ws: Any) -> None:
        sockets = self.customers.get(conversation_id)
        if sockets is not None:
            sockets.discard(ws)
            if not sockets:
                del self.customers[conversation_id]

    async def to_agents(self, event: dict[str, Any]) -> None:
        await self._send(self.agents, event)

    def connected_agents(self) -> set[int]:
        """The agents with a console open on this process."""
        return {self.agent_of[ws] for ws in self.agents if ws in self.agent_of}

    def sockets(self) -> dict[str, int]:
        """Websockets open on this process: customers' widgets and agents' consoles."""
        return {"customer": sum(len(s) for s in self.customers.values()), "agent": len(self.agents)}

    async def start(self) -> None:
        """Nothing to connect to in one process."""

    async def stop(self) -> None:
        """Nothing to disconnect from in one process."""
