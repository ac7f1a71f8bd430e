"""A fake Telegram Bot API on loopback: enough of it for python-telegram-bot, with failures on demand."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

BOT_USER = {"id": 777, "is_bot": True, "first_name": "Shop", "username": "shop_test_bot"}


class FakeBotApi:
    def __init__(self, name: str) -> None:
        self.app = Sanic(name)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.failures: dict[int, list[int]] = defaultdict(list)  # chat id -> statuses to answer first
        self.webhook: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self.app.add_route(self.handle, "/<bot>/<method>", methods=["GET", "POST"])

    async def handle(self, request: Request, bot: str, method: str) -> HTTPResponse:
        params = self._params(request)
        self.calls.append((method, params))
        if method == "getMe":
            return self._ok(BOT_USER)
        if method == "setWebhook":
            self.webhook = params
            return self._ok(True)
        if method == "getUpdates":
            return self._ok(
                await self._updates(int(params.get("offset", 0) or 0), float(params.get("timeout", 0) or 0))
            )
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            if self.failures[chat_id]:
                status = self.failures[chat_id].pop(0)
                if status == 429:
                    return self._error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
                return self._error(403, "Forbidden: bot was blocked by the user")
            markup = params.get("reply_markup")
            self.sent.append(
                {"chat_id": chat_id, "text": params["text"], "reply_markup": markup, "at": time.monotonic()}
            )
            message = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": params["text"],
            }
            if markup:
                message["reply_markup"] = markup
            return self._ok(message)
        return self._ok(True)  # deleteWebhook, answerCallbackQuery, ...

    @staticmethod
    def _params(request: Request) -> dict[str, Any]:
        if request.content_type.startswith("application/json"):
            raw = dict(request.json or {})
        else:
            raw = {k: v[0] if isinstance(v, list) else v for k, v in (request.form or {}).items()}
        for key in ("reply_markup", "allowed_updates"):
            if isinstance(raw.get(key), str):
                raw[key] = json.loads(raw[key])
        return raw

    async def _updates(self, offset: int, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + min(timeout, 2)
        while True:
            ready = [u for u in self.updates if u["update_id"] >= offset]
            if ready or time.monotonic() >= deadline:
                return ready
            self._arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), max(0.01, deadline - time.monotonic()))

    @staticmethod
    def _ok(result: Any) -> HTTPResponse:
        return json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> HTTPResponse:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return json_response(body, status=code)

    # --- what tests use -------------------------------------------------------------------------

    def update(self, chat_id: int, language_code: str | None = None, **message: Any) -> dict[str, Any]:
        """Builds an update from a user whose id equals the chat id (a private chat), in an app of `language_code`."""
        update_id = next(self._ids)
        user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": "Li"}
        if language_code:
            user["language_code"] = language_code
        if "callback_data" in message:
            return {
                "update_id": update_id,
                "callback_query": {
                    "id": str(update_id),
                    "from": user,
                    "chat_instance": "ci",
                    "data": message["callback_data"],
                    "message": {
                        "message_id": update_id,
                        "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private"},
                        "from": BOT_USER,
                        "text": "buttons",
                        "reply_markup": message.get("reply_markup"),
                    },
                },
            }
        body = {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": user,
        }
        body.update(message)
        if isinstance(body.get("text"), str) and body["text"].startswith("/"):
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(body["text"].split()[0])}]
        return {"update_id": update_id, "message": body}

    def push(self, update: dict[str, Any]) -> None:
        """Queues an update for long polling."""
        self.updates.append(update)
        self._arrived.set()

    def texts_to(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent if m["chat_id"] == chat_id]

    async def wait_for(self, chat_id: int, fragment: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.sent:
                if m["chat_id"] == chat_id and fragment in m["text"]:
                    return m
            await asyncio.sleep(0.05)
        raise AssertionError(f"nothing with {fragment!r} sent to {chat_id}; sent: {self.texts_to(chat_id)}")
