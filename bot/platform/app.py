"""App factory of the platform stub: wires config, database, seed data and the API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.clock import utcnow
from bot.db import make_engine, make_sessionmaker
from bot.errors import install_error_handlers
from bot.platform import schema, seed
from bot.platform.api import api, require_api_key, say_language
from bot.platform.config import PlatformConfig
from bot.platform.refusals import install_refusal_handler

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(days=1)


def create_app(config: PlatformConfig, clock: Callable[[], datetime] = utcnow, name: str = "platform") -> Sanic:
    """Builds the stub; the database is opened, created and seeded before the server starts."""
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.config = config
    app.ctx.clock = clock
    install_error_handlers(app)
    install_refusal_handler(app)
    app.register_middleware(require_api_key, "request")
    app.register_middleware(say_language, "response")
    app.blueprint(api)

    @app.before_server_start
    async def open_db(app: Sanic, _loop: object) -> None:
        engine = make_engine(config.database_url)
        schema.prepare(engine)
        app.ctx.engine = engine
        app.ctx.sessions = make_sessionmaker(engine)
        with app.ctx.sessions.begin() as session:
            if seed.ensure_seeded(session, clock()):
                log.info("seeded the demo data")
            seeded = seed.seeded_at(session)
        if seeded is not None and clock() - seeded > STALE_AFTER:
            log.warning(
                "demo data was seeded on %s; scenario dates have drifted: run `make reseed`",
                f"{seeded:%Y-%m-%d}",
            )

    @app.after_server_stop
    async def close_db(app: Sanic, _loop: object) -> None:
        app.ctx.engine.dispose()

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok", "service": "platform"})

    return app
