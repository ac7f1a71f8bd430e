"""Customers' HTTP API and websocket (a contract): open, write, read the transcript, rate."""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot import tokens
from bot.errors import ApiError, bad_request, json_body, parse_body
from bot.gateway.desk import Desk
from bot.gateway.schemas import MessageIn, RatingIn

customer_api = Blueprint("customer_api")
AFTER = re.compile(r"[0-9]{1,9}")  # ASCII digits only ("²".isdigit() is true), bounded to fit any integer column


def desk(request: Request) -> Desk:
    return request.app.ctx.desk


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


@customer_api.on_request
async def check_websocket_token(request: Request) -> None:
    """Refuses a widget's websocket before the handshake when its ?token= does not open the conversation."""
    if is_route(request, ".customer_api.live"):
        desk(request).authorize(str(request.match_info.get("conv_id", "")), request.args.get("token"))


@customer_api.post("/api/conversations")
async def open_conversation(request: Request) -> HTTPResponse:
    conv_id, token = desk(request).open("web")
    return json({"conversation_id": conv_id, "token": token}, status=201)


@customer_api.post("/api/conversations/<conv_id>/messages")
async def post_message(request: Request, conv_id: str) -> HTTPResponse:
    desk(request).authorize(conv_id, bearer(request))
    body = parse_body(MessageIn, json_body(request))
    return json(await desk(request).customer_message(conv_id, body.text, label=body.label))


@customer_api.get("/api/conversations/<conv_id>/messages")
async def get_messages(request: Request, conv_id: str) -> HTTPResponse:
    desk(request).authorize(conv_id, bearer(request))
    raw = request.args.get("after", "0")
    if not AFTER.fullmatch(raw):
        raise bad_request("after", "after must be a sequence number (0 to 999999999).")
    return json(desk(request).views.transcript(conv_id, int(raw)))


@customer_api.post("/api/conversations/<conv_id>/rating")
async def rate(request: Request, conv_id: str) -> HTTPResponse:
    desk(request).authorize(conv_id, bearer(request))
    body = parse_body(RatingIn, json_body(request))
    desk(request).rate(conv_id, body.rating, body.comment.strip())
    return json({"conversation_id": conv_id, "rating": body.rating})


@customer_api.websocket("/ws/conversations/<conv_id>")
async def live(request: Request, ws: Any, conv_id: str) -> None:
    """Pushes the conversation's new messages and status changes (the token was checked before)."""
    hub = desk(request).hub
    hub.customers[conv_id].add(ws)
    try:
        while True:
            await ws.recv()  # the widget sends pings only; messages go through the HTTP API
    except asyncio.CancelledError:
        raise
    except Exception:
        pass
    finally:
        hub.drop_customer(conv_id, ws)
