"""Customers' HTTP API and websocket (a contract): open, write, read the transcript, rate."""

from __future__ import annotations

import re
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.errors import bad_request, json_body, parse_body
from bot.gateway.http import bearer, desk, hold_open, is_route
from bot.gateway.schemas import LanguageIn, MessageIn, OpenIn, RatingIn

customer_api = Blueprint("customer_api")
AFTER = re.compile(r"[0-9]{1,9}")  # ASCII digits only ("²".isdigit() is true), bounded to fit any integer column


@customer_api.on_request
async def check_websocket_token(request: Request) -> None:
    """Refuses a widget's websocket before the handshake when its ?token= does not open the conversation."""
    if is_route(request, ".customer_api.live"):
        desk(request).authorize(str(request.match_info.get("conv_id", "")), request.args.get("token"))


@customer_api.post("/api/conversations")
async def open_conversation(request: Request) -> HTTPResponse:
    body = parse_body(OpenIn, json_body(request))
    conv_id, token = desk(request).open("web", language=body.language)
    return json({"conversation_id": conv_id, "token": token, "language": body.language}, status=201)


@customer_api.post("/api/conversations/<conv_id>/language")
async def set_language(request: Request, conv_id: str) -> HTTPResponse:
    desk(request).authorize(conv_id, bearer(request))
    body = parse_body(LanguageIn, json_body(request))
    desk(request).set_language(conv_id, body.language)
    return json({"conversation_id": conv_id, "language": body.language})


@customer_api.post("/api/conversations/<conv_id>/messages")
async def post_message(request: Request, conv_id: str) -> HTTPResponse:
    desk(request).authorize(conv_id, bearer(request))
    body = parse_body(MessageIn, json_body(request))
    return json(
        await desk(request).turns.customer_message(conv_id, body.text, label=body.label, client_id=body.client_id)
    )


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
    """Pushes the conversation's new messages, status changes and the agent's typing (the token was checked
    before); the widget may say `{"type": "typing"}`, which the agents' consoles show."""
    the_desk = desk(request)

    async def heard(event: dict[str, Any]) -> None:
        if event.get("type") == "typing":
            await the_desk.hub.to_agents({"type": "typing", "conversation_id": conv_id, "who": "customer"})

    the_desk.hub.add_customer(conv_id, ws)
    await hold_open(ws, lambda: the_desk.hub.drop_customer(conv_id, ws), heard)
