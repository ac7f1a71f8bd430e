"""What the gateway's HTTP and websocket edges share: the desk and logins of the app, bearer tokens,
route checks, and holding a websocket open until it closes."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

from sanic.request import Request

from bot import tokens
from bot.errors import ApiError
from bot.gateway.desk import Desk
from bot.gateway.logins import Logins
from bot.gateway.models import Agent

log = logging.getLogger(__name__)
TYPING_EVERY = 2.0  # seconds: a peer's typing signals pass at most this often


def desk(request: Request) -> Desk:
    return cast(Desk, request.app.ctx.desk)


def logins(request: Request) -> Logins:
    return cast(Logins, request.app.ctx.logins)


def bearer(request: Request) -> str | None:
    return tokens.bearer(request.headers.get("Authorization", "")) or None


def is_route(request: Request, handler: str) -> bool:
    """Whether the request was routed to `handler` of this app: true for every spelling of its path.

    A websocket route also needs a complete upgrade request; anything else is a 400 (Sanic's own
    handshake would fail with a 500).
    """
    if request.route is None or not request.route.name.endswith(handler):
        return False
    if not is_handshake(request):
        raise ApiError(400, "not_websocket", "This address takes websocket connections only.")
    return True


def is_handshake(request: Request) -> bool:
    """A complete websocket opening handshake (RFC 6455 4.1): what Sanic 21.12 needs to answer without a 500."""
    headers = request.headers
    connection = {part.strip().lower() for part in headers.get("connection", "").split(",")}
    try:
        key = base64.b64decode(headers.get("sec-websocket-key", ""), validate=True)
    except ValueError:
        return False
    return (
        request.method == "GET"
        and headers.get("upgrade", "").lower() == "websocket"
        and "upgrade" in connection
        and headers.get("sec-websocket-version") == "13"
        and len(key) == 16
    )


async def hold_open(
    ws: Any, leave: Callable[[], None], heard: Callable[[dict[str, Any]], Awaitable[None]] | None = None
) -> None:
    """Keeps a subscribed websocket until the peer closes it, then unsubscribes it. What the peer sends
    (a typing signal) goes to `heard` as a JSON object, at most one every `TYPING_EVERY` seconds; anything
    else it sends is ignored."""
    last = 0.0
    try:
        while True:
            data = await ws.recv()
            now = asyncio.get_running_loop().time()
            if heard is None or now - last < TYPING_EVERY or not isinstance(data, str) or len(data) > 200:
                continue
            try:
                event = json.loads(data)
            except ValueError:
                continue
            if isinstance(event, dict):
                last = now
                try:
                    await heard(event)
                except Exception:  # a database blip must not close the console or the widget
                    log.exception("websocket event not handled: %r", event)
    except asyncio.CancelledError:
        raise
    except Exception:
        pass
    finally:
        leave()


def agent(request: Request) -> Agent:
    """The agent whose bearer token came with the request (401 without one)."""
    return logins(request).agent_for(bearer(request))


def supervisor(request: Request) -> Agent:
    """The agent, if a supervisor (403 for other agents)."""
    found = agent(request)
    if not found.supervisor:
        raise ApiError(403, "supervisors_only", "Only a supervisor can do this.")
    return found
