"""The /api/v1 blueprint: one transaction per request, JSON in and out, X-Api-Key required.

Texts are written in the language Accept-Language prefers (`i18n.preferred`): English or Chinese.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse, json

from bot.errors import json_body
from bot.platform import service, views
from bot.platform.i18n import CONTENT_LANGUAGE, Lang, Text, preferred
from bot.platform.models import ComplaintTicket, Refund, ReturnRequest
from bot.platform.refusals import Refusal
from bot.platform.schemas import ComplaintIn, FreezeIn, ReturnIn, VerifyIn, parse
from bot.tokens import same_secret

api = Blueprint("platform_api", url_prefix="/api/v1")


async def require_api_key(request: Request) -> None:
    """Rejects any /api call without the configured key (even to unknown paths), in constant time."""
    if not request.path.startswith(api.url_prefix or "/api"):
        return
    given = request.headers.get("X-Api-Key", "")
    expected = request.app.ctx.config.api_key
    if not same_secret(given, expected):
        raise Refusal(
            401, "unauthorized", Text("A valid X-Api-Key header is required.", "需要有效的 X-Api-Key 请求头。")
        )


async def say_language(request: Request, response: BaseHTTPResponse) -> None:
    """Tells which language an /api answer is written in, and that it depends on Accept-Language."""
    if request.path.startswith(api.url_prefix or "/api"):
        response.headers["Content-Language"] = CONTENT_LANGUAGE[_lang(request)]
        response.headers["Vary"] = "Accept-Language"


def _lang(request: Request) -> Lang:
    return preferred(request.headers.get("Accept-Language"))


def _tx(request: Request) -> Any:
    """One transaction for the request: committed when the handler returns, rolled back on error."""
    return request.app.ctx.sessions.begin()


def _now(request: Request) -> Any:
    return request.app.ctx.clock()


@api.get("/orders/<number>")
async def get_order(request: Request, number: str) -> HTTPResponse:
    with _tx(request) as session:
        return json(views.order(service.get_order(session, number), _now(request), _lang(request)))


@api.get("/customers/<customer_id>")
async def get_customer(request: Request, customer_id: str) -> HTTPResponse:
    with _tx(request) as session:
        return json(views.customer(service.get_customer(session, customer_id), _lang(request)))


@api.get("/customers/<customer_id>/orders")
async def list_customer_orders(request: Request, customer_id: str) -> HTTPResponse:
    now = _now(request)
    with _tx(request) as session:
        customer = service.get_customer(session, customer_id)
        orders = service.customer_orders(session, customer)
        lang = _lang(request)
        return json({"customer_id": customer.id, "orders": [views.order(o, now, lang) for o in orders]})


@api.post("/orders/<number>/verify")
async def verify_owner(request: Request, number: str) -> HTTPResponse:
    body = parse(VerifyIn, json_body(request))
    with _tx(request) as session:
        order = service.get_order(session, number)
        ok = service.verify_owner(session, order, body.email, body.phone, _now(request))
        return json(
            {
                "order_number": order.number,
                "verified": ok,
                "method": "email" if body.email is not None else "phone",
                "customer_id": order.customer_id if ok else None,
            }
        )


@api.get("/orders/<number>/return-eligibility")
async def return_eligibility(request: Request, number: str) -> HTTPResponse:
    with _tx(request) as session:
        order = service.get_order(session, number)
        return json(views.eligibility(order, service.eligibility(order, _now(request)), _lang(request)))


@api.post("/orders/<number>/returns")
async def create_return(request: Request, number: str) -> HTTPResponse:
    raw = json_body(request)
    if request.args.get("dry_run") in ("1", "true"):
        return preview_return(request, number, parse(ReturnIn, raw))
    key = service.require_key(request.headers.get("Idempotency-Key"))
    req = parse(ReturnIn, raw)
    now = _now(request)
    with _tx(request) as session:
        order = service.get_order(session, number)

        def produce() -> tuple[int, service.Render]:
            ret = service.create_return(session, order, req, now)
            session.flush()
            session.refresh(ret)
            return 201, lambda lang: views.return_request(ret, lang)

        lang = _lang(request)
        status, body = service.idempotent(session, f"returns:{order.number}", key, raw, produce, now, lang)
        return json(body, status=status)


def preview_return(request: Request, number: str, req: ReturnIn) -> HTTPResponse:
    """What filing would do (items, amount, deadlines), computed by the same code and rolled back."""
    with request.app.ctx.sessions() as session:
        try:
            order = service.get_order(session, number)
            ret = service.create_return(session, order, req, _now(request))
            session.flush()
            return json(views.return_preview(ret, _lang(request)))
        finally:
            session.rollback()


@api.get("/orders/<number>/returns")
async def list_returns(request: Request, number: str) -> HTTPResponse:
    with _tx(request) as session:
        order = service.get_order(session, number)
        returns = [views.return_request(r, _lang(request)) for r in order.returns]
        return json({"order_number": order.number, "returns": returns})


@api.get("/returns/<return_number>")
async def get_return(request: Request, return_number: str) -> HTTPResponse:
    with _tx(request) as session:
        found = service.get_by_number(session, ReturnRequest, return_number, "return")
        return json(views.return_request(found, _lang(request)))


@api.get("/orders/<number>/refunds")
async def list_refunds(request: Request, number: str) -> HTTPResponse:
    with _tx(request) as session:
        order = service.get_order(session, number)
        refunds = [views.refund(r, _lang(request)) for r in order.refunds]
        return json({"order_number": order.number, "refunds": refunds})


@api.get("/refunds/<refund_number>")
async def get_refund(request: Request, refund_number: str) -> HTTPResponse:
    with _tx(request) as session:
        return json(views.refund(service.get_by_number(session, Refund, refund_number, "refund"), _lang(request)))


@api.get("/orders/<number>/tracking")
async def tracking(request: Request, number: str) -> HTTPResponse:
    now = _now(request)
    with _tx(request) as session:
        order = service.get_order(session, number)
        return json(
            {
                "order_number": order.number,
                "order_status": order.status.value,
                "items": [{"name": views.item(i, _lang(request))["name"]} for i in order.items],
                "shipments": [views.tracking(s, now, _lang(request)) for s in order.shipments],
            }
        )


@api.post("/complaints")
async def create_complaint(request: Request) -> HTTPResponse:
    raw = json_body(request)
    req = parse(ComplaintIn, raw)
    key = request.headers.get("Idempotency-Key")
    now = _now(request)
    with _tx(request) as session:

        def produce() -> tuple[int, service.Render]:
            ticket = views.complaint(service.create_complaint(session, req, now))
            return 201, lambda _: ticket

        status, body = service.idempotent(session, "complaints", key, raw, produce, now, _lang(request))
        return json(body, status=status)


@api.get("/complaints/<ticket_number>")
async def get_complaint(request: Request, ticket_number: str) -> HTTPResponse:
    with _tx(request) as session:
        ticket = service.get_by_number(session, ComplaintTicket, ticket_number, "complaint")
        return json(views.complaint(ticket))


@api.post("/customers/<customer_id>/freeze")
async def freeze_account(request: Request, customer_id: str) -> HTTPResponse:
    body = parse(FreezeIn, json_body(request))
    with _tx(request) as session:
        customer = service.get_customer(session, customer_id)
        changed = service.freeze(customer, body.reason, _now(request))
        return json({**views.customer(customer, _lang(request)), "changed": changed})
