"""Talks to the Rasa server: messages through the REST webhook, hand-back through its HTTP API."""

from __future__ import annotations

import asyncio
import logging
import zlib
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.contract import Signals

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa (or its action server, which makes Rasa answer 500) could not answer."""


class _Unreached(Exception):
    """This Rasa instance could not be reached, or dropped the connection before answering."""


@dataclass
class BotReply(Signals):
    """What Rasa said to one message: texts with buttons, and the contract's signals (bot/contract.py)."""

    messages: list[dict[str, Any]] = field(default_factory=list)


def parse_reply(raw: list[dict[str, Any]]) -> BotReply:
    reply = BotReply()
    for item in raw:
        custom = item.get("custom")
        if isinstance(custom, dict):
            reply.read(custom)
            continue
        if item.get("text"):
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in item.get("buttons") or []
            ]
            reply.messages.append({"text": item["text"], "buttons": buttons})
    return reply


class RasaClient:
    """At most `concurrency` calls in flight: a busy Rasa queues work here, and only the call itself is timed.

    A slow bot is not a dead bot: waiting for a free slot never counts towards `timeout`. Calls share one
    client session, so connections to Rasa are reused; idle ones are closed after `keepalive` seconds,
    before Rasa's server (Sanic: 5 s) would close them under a request.

    `url` may name several Rasa instances, comma-separated (they share a lock store and a tracker store,
    so any may answer for any conversation): a conversation goes to one of them, the same each time while
    it answers, and to the next when it cannot be reached.
    """

    def __init__(
        self, url: str, token: str, timeout: float = 30.0, concurrency: int = 8, keepalive: float = 2.0
    ) -> None:
        self.urls = [u.strip().rstrip("/") for u in url.split(",") if u.strip()]
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.slots = asyncio.Semaphore(concurrency)
        self.keepalive = keepalive
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            connector = aiohttp.TCPConnector(keepalive_timeout=self.keepalive)
            self._http = aiohttp.ClientSession(timeout=self.timeout, connector=connector)
        return self._http

    async def close(self) -> None:
        """Closes the kept connections (the gateway's shutdown)."""
        if self._http is not None:
            await self._http.close()

    async def _post(self, sender: str, path: str, body: Any, params: dict[str, str] | None = None) -> Any:
        async with self.slots:
            first = zlib.crc32(sender.encode()) % len(self.urls)
            for url in self.urls[first:] + self.urls[:first]:
                try:
                    return await self._call(url, path, body, params)
                except _Unreached as exc:
                    log.warning("rasa at %s unreachable, trying the next: %s", url, exc.__cause__)
            raise RasaUnavailable(f"no Rasa instance reachable for {path}")

    async def _call(self, url: str, path: str, body: Any, params: dict[str, str] | None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with self._session().post(f"{url}{path}", json=body, params=params, headers=headers) as resp:
                if resp.status >= 400:
                    raise RasaUnavailable(f"Rasa answered {resp.status} on {path}")
                return await resp.json(content_type=None)
        except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as exc:
            # Not reached, or gone before answering (a crash mid-message): another instance may answer.
            raise _Unreached() from exc
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RasaUnavailable(f"Rasa unreachable: {exc!r}") from exc

    async def wait_ready(self, seconds: float) -> bool:
        """Polls Rasa's /status until an instance answers (a model loaded), for at most `seconds`."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            for url in self.urls:
                try:
                    async with (
                        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
                        http.get(f"{url}/status", params={"token": self.token}) as resp,
                    ):
                        if resp.status == 200:
                            return True
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(1)

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> BotReply:
        raw = await self._post(
            sender, "/webhooks/gateway/webhook", {"sender": sender, "message": text, "metadata": metadata or {}}
        )
        return parse_reply(raw or [])

    async def set_language(self, sender: str, language: str, fresh: bool) -> None:
        """Sets the conversation's `language` slot (en or zh), which the bot's responses and actions follow.

        Rasa stamps an appended event when it reads it, and opens the session of a new conversation
        after that; a SQL tracker store, which replays events by time, would then put the slot before
        the session start, which resets slots. So a `fresh` conversation is told twice: the first call
        opens its session (Rasa refuses an empty list), the second comes after it in any store.
        """
        events = [{"event": "slot", "name": "language", "value": language}]
        for _ in range(2 if fresh else 1):
            await self._post(sender, f"/conversations/{sender}/tracker/events", events, {"token": self.token})

    async def hand_back(self, sender: str, note: str) -> BotReply:
        """Resumes the paused conversation, tells the bot what the agent did, and lets it greet again.

        Any form still open (e.g. the gateway escalated an outage mid-form) is ended, so the form
        does not swallow the hand-back or the customer's next message.
        """
        params = {"token": self.token}
        # The pause ended the bot's turn without a listen; add it so rules see a normal user turn next.
        events = [
            {"event": "resume"},
            {"event": "active_loop", "name": None},
            {"event": "slot", "name": "requested_slot", "value": None},
            {"event": "slot", "name": "pending_answer", "value": None},
            {"event": "action", "name": "action_listen"},
            {"event": "slot", "name": "agent_note", "value": note},
        ]
        await self._post(sender, f"/conversations/{sender}/tracker/events", events, params)
        result = await self._post(sender, f"/conversations/{sender}/trigger_intent", {"name": "handed_back"}, params)
        return parse_reply((result or {}).get("messages") or [])

    async def resume(self, sender: str) -> None:
        """Lets the bot answer again in a conversation that a person resolved."""
        events = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        await self._post(sender, f"/conversations/{sender}/tracker/events", events, {"token": self.token})

    async def pause(self, sender: str) -> None:
        """Pauses the bot for a conversation the gateway escalated on its own (anger, Rasa errors)."""
        await self._post(sender, f"/conversations/{sender}/tracker/events", [{"event": "pause"}], {"token": self.token})
