"""App factory of the gateway: database, desk, customer and agent APIs, the web pages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, file, json
from sqlalchemy import select

from bot.db import make_engine, make_sessionmaker
from bot.errors import install_error_handlers
from bot.gateway import auth
from bot.gateway.api_agent import agent_api
from bot.gateway.api_customer import customer_api
from bot.gateway.config import GatewayConfig
from bot.gateway.desk import Desk
from bot.gateway.hub import Hub
from bot.gateway.models import Agent, Base
from bot.gateway.rasa import RasaClient
from bot.gateway.telegram import TelegramChannel, TelegramSettings, telegram_api
from bot.platform.app import utcnow
from bot.platform.client import PlatformClient, PlatformRejected, PlatformUnavailable

log = logging.getLogger(__name__)
WEB = Path(__file__).resolve().parent.parent / "web"
# username, display name, password, skills: created only in demo mode.
DEMO_AGENTS = [
    ("alice", "Alice", "alice-demo", "general,refunds,complaints"),
    ("bob", "Bob", "bob-demo", "logistics,security,general"),
]


def ensure_agent(sessions: Any, username: str, name: str, password: str, skills: str, now: datetime) -> bool:
    """Creates the agent unless the username exists; says whether it did."""
    with sessions.begin() as s:
        if s.scalars(select(Agent).where(Agent.username == username)).first():
            return False
        s.add(
            Agent(
                username=username,
                display_name=name,
                password_hash=auth.hash_password(password),
                skills=skills,
                created_at=now,
            )
        )
        return True


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


def create_app(
    config: GatewayConfig, clock: Callable[[], datetime] = utcnow, name: str = "gateway", hub: Hub | None = None
) -> Sanic:
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.WEBSOCKET_PING_INTERVAL = 20
    app.ctx.config = config
    app.ctx.hub = hub or Hub()
    app.ctx.orders = OrderDetails(PlatformClient(config.platform_url, config.platform_api_key))
    install_error_handlers(app)
    app.blueprint(customer_api)
    app.blueprint(agent_api)
    app.blueprint(telegram_api)
    app.static("/static", str(WEB))

    @app.before_server_start
    async def open_db(app: Sanic, _loop: object) -> None:
        engine = make_engine(config.database_url)
        Base.metadata.create_all(engine)
        app.ctx.engine = engine
        sessions = make_sessionmaker(engine)
        app.ctx.desk = Desk(sessions, RasaClient(config.rasa_url, config.rasa_token), app.ctx.hub, clock)
        if config.demo:
            for username, display, password, skills in DEMO_AGENTS:
                if ensure_agent(sessions, username, display, password, skills, clock()):
                    log.info("demo agent %s created", username)
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
        if app.ctx.telegram is not None:
            await app.ctx.telegram.stop()
        app.ctx.engine.dispose()

    @app.get("/")
    async def shop(request: Request) -> HTTPResponse:
        return await file(WEB / "index.html")

    @app.get("/agent")
    async def console(request: Request) -> HTTPResponse:
        return await file(WEB / "agent.html")

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok", "service": "gateway"})

    return app
