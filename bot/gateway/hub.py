"""Live delivery inside one gateway process: customers' widgets, agents' consoles, other channels."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)
Listener = Callable[[str, dict[str, Any]], Awaitable[None]]


class Hub:
    """Fans events out to websockets; a channel (e.g. Telegram) registers a listener for its conversations."""

    def __init__(self) -> None:
        self.customers: dict[str, set[Any]] = defaultdict(set)
        self.agents: set[Any] = set()
        self.channel_listeners: dict[str, Listener] = {}

    async def _send(self, sockets: set[Any], event: dict[str, Any]) -> None:
        data = json.dumps(event)
        for ws in list(sockets):
            try:
                await ws.send(data)
            except Exception:  # a closed socket must not stop delivery to the others
                sockets.discard(ws)

    async def to_customer(self, conversation_id: str, channel: str, event: dict[str, Any]) -> None:
        sockets = self.customers.get(conversation_id)  # .get: no entry kept for chats without a widget
        if sockets:
            await self._send(sockets, event)
        listener = self.channel_listeners.get(channel)
        if listener is not None:
            try:
                await listener(conversation_id, event)
            except Exception:
                log.exception("channel %s failed to deliver to %s", channel, conversation_id)

    def drop_customer(self, conversation_id: str, ws: Any) -> None:
        sockets = self.customers.get(conversation_id)
        if sockets is not None:
            sockets.discard(ws)
            if not sockets:
                del self.customers[conversation_id]

    async def publish(
        self,
        conv_id: str,
        channel: str,
        views: list[dict[str, Any]],
        status: str | None = None,
        echo_customer: bool = False,
    ) -> None:
        """New messages and a status change of a conversation, to its customer (channel) and to agents.

        The customer's own messages go back to their widget only with `echo_customer` (other tabs).
        """
        for view in views:
            event = {"type": "message", "conversation_id": conv_id, "message": view}
            if view["author"] != "customer" or echo_customer:
                await self.to_customer(conv_id, channel, event)
            await self.to_agents(event)
        if status is not None:
            event = {"type": "status", "conversation_id": conv_id, "status": status}
            await self.to_customer(conv_id, channel, event)
            await self.to_agents(event)

    async def to_agents(self, event: dict[str, Any]) -> None:
        await self._send(self.agents, event)

    def agents_connected(self) -> int:
        return len(self.agents)
