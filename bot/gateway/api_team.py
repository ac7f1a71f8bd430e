"""Agents' working day (a contract, beside api_agent.py): presence, the team and its skills, transfers,
internal notes, canned replies. Supervisors change agents' skills and roles and add canned replies."""

from __future__ import annotations

from typing import Any, cast

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.errors import conflict, json_body, not_found, parse_body
from bot.gateway import canned, states
from bot.gateway.http import agent, desk, supervisor
from bot.gateway.logins import agent_view
from bot.gateway.models import Agent, CannedReply
from bot.gateway.presence import effective
from bot.gateway.schemas import AgentUpdateIn, CannedIn, NoteIn, PresenceIn, TransferIn
from bot.gateway.teamwork import Teamwork

team_api = Blueprint("team_api", url_prefix="/api/agent")


def teamwork(request: Request) -> Teamwork:
    return cast(Teamwork, request.app.ctx.teamwork)


@team_api.put("/presence")
async def set_presence(request: Request) -> HTTPResponse:
    """online or away; offline is what the gateway sees when the agent's last console closes."""
    me = agent(request)
    body = parse_body(PresenceIn, json_body(request))
    the_desk = desk(request)
    with the_desk.sessions.begin() as s:
        row = s.get(Agent, me.id)
        assert row is not None
        row.presence = body.presence
        shown = {"username": row.username, "presence": effective(row, the_desk.hub.connected_agents())}
    await the_desk.presence_changed(me.id)
    return json(shown)


@team_api.get("/agents")
async def team(request: Request) -> HTTPResponse:
    """Every agent with skills, role and presence (for transfers and the supervisor's view)."""
    agent(request)
    the_desk = desk(request)
    connected = the_desk.hub.connected_agents()
    with the_desk.sessions() as s:
        rows = s.scalars(select(Agent).order_by(Agent.username)).all()
        return json({"agents": [{**agent_view(a), "presence": effective(a, connected)} for a in rows]})


@team_api.put("/agents/<username>")
async def update_agent(request: Request, username: str) -> HTTPResponse:
    """A supervisor sets an agent's skills and role."""
    supervisor(request)
    body = parse_body(AgentUpdateIn, json_body(request))
    with desk(request).sessions.begin() as s:
        row = s.scalars(select(Agent).where(Agent.username == username)).first()
        if row is None:
            raise not_found("agent", username)
        if body.skills is not None:
            if not body.skills:
                raise conflict("no_skills", "An agent needs at least one skill.")
            row.skills = ",".join(dict.fromkeys(body.skills))
        if body.role is not None:
            others = s.scalars(select(Agent.id).where(Agent.role == "supervisor", Agent.id != row.id)).first()
            if body.role != "supervisor" and row.supervisor and others is None:
                raise conflict("last_supervisor", "The last supervisor cannot stop being one.")
            row.role = body.role
        s.flush()
        return json(agent_view(row))


@team_api.post("/conversations/<conv_id>/notes")
async def add_note(request: Request, conv_id: str) -> HTTPResponse:
    """An internal note: in the transcript for agents, never sent to the customer."""
    me = agent(request)
    body = parse_body(NoteIn, json_body(request))
    return json(await teamwork(request).note(conv_id, me, body.text), status=201)


@team_api.post("/conversations/<conv_id>/transfer")
async def transfer(request: Request, conv_id: str) -> HTTPResponse:
    """`{"to_agent": username}` or `{"to_skill": skill}`, with an optional internal `note`."""
    me = agent(request)
    body = parse_body(TransferIn, json_body(request))
    return json(await teamwork(request).transfer(conv_id, me, body.to_agent, body.to_skill, body.note))


@team_api.get("/conversations/<conv_id>/canned")
async def canned_replies(request: Request, conv_id: str) -> HTTPResponse:
    """The canned replies in the conversation's language, filled with its order, customer and agent."""
    me = agent(request)
    the_desk = desk(request)
    with the_desk.sessions() as s:
        conv = states.load(s, conv_id)
        language, number, verified = conv.language, conv.order_number, conv.customer_id
    order = await request.app.ctx.orders.lookup(number) if verified else None
    owner = (order or {}).get("customer") or {}
    # The order's owner is named only to the customer who proved to be them: an order number proves nothing.
    name = owner.get("name") if verified and str(owner.get("id")) == verified else None
    values = {"order_number": number, "customer_name": name, "agent_name": me.display_name}
    return json({"language": language, "replies": canned.replies(the_desk.sessions, language, values)})


@team_api.post("/canned")
async def add_canned(request: Request) -> HTTPResponse:
    """A supervisor adds a canned reply (a shortcut in one language; 409 if it exists)."""
    supervisor(request)
    body = parse_body(CannedIn, json_body(request))
    try:
        with desk(request).sessions.begin() as s:
            s.add(CannedReply(shortcut=body.shortcut, language=body.language, text=body.text.strip()))
    except IntegrityError as exc:
        raise conflict("exists", f"A canned reply {body.shortcut!r} in {body.language} exists.") from exc
    reply: dict[str, Any] = {"shortcut": body.shortcut, "language": body.language, "text": body.text.strip()}
    return json(reply, status=201)
