"""What the gateway's HTTP and websocket edges share: the desk and logins of the app, bearer tokens,
route checks, and holding a websocket open until it closes."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any, cast

from sanic.request import Request

from bot import tokens
from bot.errors import ApiError
from bot.gateway.desk import Desk
from bot.gateway.logins import Logins


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


async def hold_open(ws: Any, leave: Callable[[], None]) -> None:
    """Keeps a subscribed websocket until the peer closes it (peers only ping), then unsubscribes it."""
    try:
        while True:
            await ws.recv()
    except asyncio.CancelledError:
        raise
    except Exception:
        pass
    finally:
        leave()
