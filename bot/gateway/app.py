"""App factory of the gateway: database, desk, customer and agent APIs, the web pages."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, file, json, raw

from bot.clock import utcnow
from bot.db import create_schema, make_engine, make_sessionmaker
from bot.errors import ApiError, install_error_handlers
from bot.gateway import canned, cluster
from bot.gateway.api_agent import agent_api
from bot.gateway.api_customer import customer_api
from bot.gateway.api_team import team_api
from bot.gateway.assignments import Assignments
from bot.gateway.config import GatewayConfig
from bot.gateway.desk import Desk
from bot.gateway.logins import Logins
from bot.gateway.metrics import CONTENT_TYPE
from bot.gateway.models import Base
from bot.gateway.rasa import RasaClient
from bot.gateway.teamwork import Teamwork
from bot.gateway.telegram import TelegramChannel, TelegramSettings, telegram_api
from bot.gateway.topics import Topics
from bot.platform_client import PlatformClient, PlatformRejected, PlatformUnavailable
from bot.tokens import bearer, same_secret

log = logging.getLogger(__name__)
WEB = Path(__file__).resolve().parent.parent / "web"
STATIC_TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
LOOPBACK = {"127.0.0.1", "::1"}
STATIC_NAME = re.compile(r"[a-z][a-z0-9_-]{0,40}\.(?:js|css)")


def is_loopback(address: str | None) -> bool:
    return address in LOOPBACK


def install_page_headers(app: Sanic) -> None:
    """Security headers on every answer: no sniffing, no framing, scripts and connections from here only."""

    @app.on_response
    async def headers(request: Request, response: HTTPResponse) -> None:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'; object-src 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")


class OrderDetails:
    """The order behind an escalation, for the agent's side panel; failures become a note, not an error."""

    def __init__(self, client: PlatformClient) -> None:
        self.client = client

    async def lookup(self, number: str | None) -> dict[str, Any] | None:
        if not number:
            return None
        try:
            return await self.client.order(number)
        except (PlatformUnavailable, PlatformRejected) as exc:
            return {"number": number, "error": f"order details unavailable: {exc}"}

    async def of_customer(self, customer_id: str | None) -> dict[str, Any] | None:
        """The verified customer's orders in brief, for the panel beside the transcript."""
        if not customer_id:
            return None
        try:
            orders = await self.client.customer_orders(customer_id)
        except (PlatformUnavailable, PlatformRejected) as exc:
            return {"error": f"orders unavailable: {exc}"}
        keys = ("number", "status", "total", "currency", "placed_at")
        return {"orders": [{k: o.get(k) for k in keys} for o in orders]}


def create_app(config: GatewayConfig, clock: Callable[[], datetime] = utcnow, name: str = "gateway") -> Sanic:
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.WEBSOCKET_PING_INTERVAL = 20
    app.config.PROXIES_COUNT = config.proxies  # behind nginx: the client's address from X-Forwarded-For
    app.ctx.config = config
    app.ctx.orders = OrderDetails(PlatformClient(config.platform_url, config.platform_api_key))
    app.ctx.topics = Topics()
    app.ctx.report_slots = asyncio.Semaphore(1)
    install_error_handlers(app)
    app.blueprint(customer_api)
    app.blueprint(agent_api)
    app.blueprint(team_api)
    app.blueprint(telegram_api)
    install_page_headers(app)

    @app.before_server_start
    async def open_db(app: Sanic, _loop: object) -> None:
        engine = make_engine(config.database_url)
        create_schema(engine, Base.metadata)
        app.ctx.engine = engine
        sessions = make_sessionmaker(engine)
        app.ctx.cluster = cluster.join(config.redis_url, clock)
        app.ctx.hub = app.ctx.cluster.hub
        await app.ctx.hub.start()
        rasa = RasaClient(config.rasa_url, config.rasa_token)
        skill_wait = timedelta(seconds=config.skill_wait)
        app.ctx.desk = Desk(sessions, rasa, app.ctx.hub, clock, locks=app.ctx.cluster.locks, skill_wait=skill_wait)
        app.ctx.assignments = Assignments(app.ctx.desk)
        app.ctx.teamwork = Teamwork(app.ctx.desk)
        canned.seed(sessions)
        app.ctx.logins = Logins(sessions, clock, config.demo, app.ctx.cluster.limiters)
        for username in app.ctx.logins.prepare():
            log.info("demo agent %s %s", username, "created" if config.demo else "tokens revoked (not in demo mode)")
        app.ctx.telegram = None
        if not config.telegram_token:
            log.info("telegram: TELEGRAM_TOKEN is not set, running without Telegram")
            return
        settings = TelegramSettings(
            config.telegram_token, config.telegram_webhook_url, config.telegram_secret, config.telegram_api_url
        )
        app.ctx.telegram = TelegramChannel(app.ctx.desk, settings)
        await app.ctx.telegram.start()

    @app.after_server_stop
    async def close(app: Sanic, _loop: object) -> None:
        await app.ctx.cluster.halt()
        if app.ctx.telegram is not None:  # polling stops before the lease is given to another instance
            await app.ctx.telegram.stop()
        await app.ctx.cluster.close()
        await app.ctx.desk.rasa.close()
        app.ctx.engine.dispose()

    @app.after_server_start
    async def finish_pending(app: Sanic, _loop: object) -> None:
        # In the background, so the server is ready at once: messages a stopped gateway left unanswered,
        # then, forever, turns another instance left (or that a database outage held up).
        loop, turns = asyncio.get_running_loop(), app.ctx.desk.turns
        app.ctx.cluster.tasks.append(loop.create_task(turns.recover()))
        app.ctx.cluster.tasks.append(loop.create_task(turns.sweep()))
        telegram = app.ctx.telegram
        if telegram is not None and not config.telegram_webhook_url:  # long polling: one instance polls
            app.ctx.cluster.tasks.append(loop.create_task(app.ctx.cluster.telegram.run(telegram.poll, telegram.unpoll)))

    @app.get("/static/<name:str>")
    async def static(request: Request, name: str) -> HTTPResponse:
        """The pages' own scripts and styles only: a fixed set of names, never a path."""
        if not STATIC_NAME.fullmatch(name) or not (WEB / name).is_file():
            raise ApiError(404, "not_found", "No such file.")
        return await file(WEB / name, mime_type=STATIC_TYPES[name.rsplit(".", 1)[1]])

    @app.get("/")
    async def shop(request: Request) -> HTTPResponse:
        return await file(WEB / "index.html")

    @app.get("/agent")
    async def console(request: Request) -> HTTPResponse:
        return await file(WEB / "agent.html")

    @app.get("/agent/reports")
    async def reports_page(request: Request) -> HTTPResponse:
        return await file(WEB / "reports.html")

    @app.get("/metrics")
    async def metrics(request: Request) -> HTTPResponse:
        """Prometheus's scrape (bot/gateway/metrics.py): with METRICS_TOKEN its bearer, else loopback only."""
        if config.metrics_token:
            if not same_secret(bearer(request.headers.get("Authorization", "")), config.metrics_token):
                raise ApiError(401, "unauthorized", "A valid bearer token is required.")
        elif not is_loopback(request.remote_addr or request.ip):
            raise ApiError(403, "forbidden", "Set METRICS_TOKEN to scrape from another host.")
        body = await asyncio.to_thread(app.ctx.desk.metrics.exposition)
        return raw(body, content_type=CONTENT_TYPE)

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok", "service": "gateway"})

    return app
