"""Agents' HTTP API and websocket (a contract): log in, queue, claim, reply, resolve, hand back, reports."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json, text

from bot.errors import ApiError, json_body, parse_body
from bot.gateway import reports
from bot.gateway.assignments import Assignments
from bot.gateway.http import agent, desk, hold_open, is_route, logins, supervisor
from bot.gateway.report_csv import to_csv
from bot.gateway.schemas import AgentMessageIn, HandBackIn, LoginIn

agent_api = Blueprint("agent_api", url_prefix="/api/agent")


def assignments(request: Request) -> Assignments:
    return cast(Assignments, request.app.ctx.assignments)


@agent_api.on_request
async def check_websocket_token(request: Request) -> None:
    """Refuses a console's websocket before the handshake unless ?token= is an agent's."""
    if is_route(request, ".agent_api.live"):
        logins(request).agent_for(request.args.get("token"))


@agent_api.post("/login")
async def login(request: Request) -> HTTPResponse:
    body = parse_body(LoginIn, json_body(request))
    client = request.remote_addr or request.ip or "unknown"  # remote_addr: the proxy's X-Forwarded-For
    return json(await logins(request).login(body.username, body.password, client))


@agent_api.get("/queue")
async def queue(request: Request) -> HTTPResponse:
    return json(desk(request).views.queue(agent(request)))


@agent_api.get("/conversations/<conv_id>")
async def detail(request: Request, conv_id: str) -> HTTPResponse:
    agent(request)
    found = desk(request).views.detail(conv_id)
    found["order"] = await request.app.ctx.orders.lookup(found["order_number"])
    found["customer_orders"] = await request.app.ctx.orders.of_customer(found["customer_id"])
    return json(found)


@agent_api.post("/conversations/<conv_id>/claim")
async def claim(request: Request, conv_id: str) -> HTTPResponse:
    return json(await assignments(request).claim(conv_id, agent(request)))


@agent_api.post("/conversations/<conv_id>/messages")
async def reply(request: Request, conv_id: str) -> HTTPResponse:
    me = agent(request)
    body = parse_body(AgentMessageIn, json_body(request))
    return json(await assignments(request).agent_message(conv_id, me, body.text), status=201)


@agent_api.post("/conversations/<conv_id>/resolve")
async def resolve(request: Request, conv_id: str) -> HTTPResponse:
    return json(await assignments(request).resolve(conv_id, agent(request)))


@agent_api.post("/conversations/<conv_id>/handback")
async def hand_back(request: Request, conv_id: str) -> HTTPResponse:
    me = agent(request)
    body = parse_body(HandBackIn, json_body(request))
    return json(await assignments(request).hand_back(conv_id, me, body.note))


@agent_api.get("/reports")
async def report(request: Request) -> HTTPResponse:
    """The service's figures over `from`..`to` (README, "Reports"), as JSON or `?format=csv`; supervisors'."""
    supervisor(request)
    form = request.args.get("format", "json")
    if form not in ("json", "csv"):
        raise ApiError(400, "invalid_field", "format must be json or csv.", "format")
    the_desk = desk(request)
    start, end = reports.period({k: request.args.get(k) for k in ("from", "to")}, the_desk.clock().date())
    async with request.app.ctx.report_slots:  # one report at a time, in a thread: the event loop serves on
        figures, unserved = await asyncio.to_thread(reports.read, the_desk.sessions, start, end)
        figures["unserved"] = await request.app.ctx.topics.group(unserved)
    if form == "json":
        return json(figures)
    name = f"shopdesk-report-{start.isoformat()}-{end.isoformat()}.csv"
    return text(
        to_csv(figures),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@agent_api.websocket("/ws")
async def live(request: Request, ws: Any) -> None:
    """Pushes every new message, status change, escalation and presence change to the console (token checked
    before); the console may say `{"type": "typing", "conversation_id"}` for a conversation that is its own."""
    me = logins(request).agent_for(request.args.get("token"))
    the_desk = desk(request)

    async def heard(event: dict[str, Any]) -> None:
        if event.get("type") == "typing" and isinstance(event.get("conversation_id"), str):
            await the_desk.typing_to_customer(event["conversation_id"], me)

    the_desk.hub.add_agent(ws, me.id)
    await the_desk.presence_changed(me.id)
    await hold_open(ws, lambda: the_desk.agent_left(ws, me.id), heard)
