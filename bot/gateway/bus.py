"""Live events across several gateway instances, through Redis pub/sub (`REDIS_URL`).

Each instance delivers an event to its own sockets and channels at once, and publishes it; the other
instances deliver it to their widgets and consoles. A channel such as Telegram delivers only where the
event happened, so a message goes out once. Agents' presence travels the same way (each instance says which
agents have a console open on it, on every change and every few seconds), so "no agent online" is decided from all
instances. When Redis is away, an instance goes on serving its own sockets; the others' widgets catch up
from the transcript when they reconnect.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.gateway.hub import Hub, Listener

log = logging.getLogger(__name__)
CHANNEL = "shopdesk:live"
HEARTBEAT = 5.0  # seconds between presence reports
FRESH = 3 * HEARTBEAT  # an instance not heard from for this long counts no agents


class SharedHub:
    """`LiveEvents` for one instance among several: a local `Hub`, and Redis for the others."""

    def __init__(self, redis: Redis, instance: str | None = None) -> None:
        self.local = Hub()
        self.redis = redis
        self.instance = instance or uuid.uuid4().hex[:12]
        self.peers: dict[str, tuple[set[int], float]] = {}  # instance -> (agents with a console, when last heard)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Listens to the other instances and reports this one's presence, until `stop`."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen()), loop.create_task(self._heartbeat())]

    async def stop(self) -> None:
        """Stops listening and reporting, and tells the others this instance holds no consoles any more
        (the Redis client belongs to the cluster, which closes it)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._publish({"to": "presence", "agents": []})

    async def _publish(self, message: dict[str, Any]) -> None:
        try:
            await self.redis.publish(CHANNEL, json.dumps({**message, "from": self.instance}))
        except (RedisError, OSError) as exc:
            log.warning("redis unavailable, event kept to this instance: %s", exc)

    async def to_customer(self, conversation_id: str, channel: str, event: dict[str, Any]) -> None:
        await self.local.to_customer(conversation_id, channel, event)
        await self._publish({"to": "customer", "conversation_id": conversation_id, "event": event})

    async def to_agents(self, event: dict[str, Any]) -> None:
        await self.local.to_agents(event)
        await self._publish({"to": "agents", "event": event})

    def add_customer(self, conversation_id: str, ws: Any) -> None:
        self.local.add_customer(conversation_id, ws)

    def drop_customer(self, conversation_id: str, ws: Any) -> None:
        self.local.drop_customer(conversation_id, ws)

    def add_channel(self, channel: str, listener: Listener) -> None:
        self.local.add_channel(channel, listener)

    def add_agent(self, ws: Any, agent_id: int) -> None:
        self.local.add_agent(ws, agent_id)
        self._report()

    def drop_agent(self, ws: Any, agent_id: int) -> None:
        self.local.drop_agent(ws, agent_id)
        self._report()

    def sockets(self) -> dict[str, int]:
        return self.local.sockets()

    def connected_agents(self) -> set[int]:
        """Agents with a console open on this instance or on the others heard from lately."""
        now = time.monotonic()
        heard = [ids for ids, seen in self.peers.values() if now - seen < FRESH]
        return self.local.connected_agents().union(*heard)

    def _report(self) -> None:
        message = {"to": "presence", "agents": sorted(self.local.connected_agents())}
        task = asyncio.get_running_loop().create_task(self._publish(message))
        self._tasks.append(task)
        task.add_done_callback(lambda done: self._tasks.remove(done) if done in self._tasks else None)

    async def _heartbeat(self) -> None:
        while True:
            await self._publish({"to": "presence", "agents": sorted(self.local.connected_agents())})
            await asyncio.sleep(HEARTBEAT)

    async def _listen(self) -> None:
        """Delivers the other instances' events to this one's sockets; subscribes again after an outage.

        Reads with a timeout of its own: a blocking read would hit the client's socket timeout whenever
        the channel is quiet, and each new subscription would miss what was published meanwhile.
        """
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    while True:
                        raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                        if raw is not None and raw.get("type") == "message":
                            await self._deliver(raw["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("redis subscription lost, retrying: %s", exc)
                await asyncio.sleep(1.0)

    async def _deliver(self, data: bytes | str) -> None:
        """One event from another instance; a malformed one is logged and dropped, never fatal."""
        try:
            message = json.loads(data)
            sender = message.get("from")
            if sender == self.instance or not isinstance(sender, str):
                return
            if message.get("to") == "customer":
                await self.local.to_widgets(str(message["conversation_id"]), message["event"])
            elif message.get("to") == "agents":
                await self.local.to_agents(message["event"])
            elif message.get("to") == "presence":
                self.peers[sender] = ({int(a) for a in message.get("agents", [])}, time.monotonic())
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("malformed live event ignored: %r", exc)
