"""`python -m bot.action_server`: Rasa's action server, on loopback and only for callers holding its token.

`rasa run actions` listens on every interface and runs any forged tracker it is sent. This wraps the
same rasa_sdk app: it binds ACTION_SERVER_HOST (127.0.0.1 by default) and answers 401 to any call
but /health that lacks ACTION_SERVER_TOKEN, which Rasa sends from endpoints.yml (`token:`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from rasa_sdk.endpoint import create_app as create_sdk_app
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot import platform_client
from bot.errors import bad_request, install_error_handlers, json_body
from bot.settings import DEMO_ACTION_TOKEN, ConfigError, port, secret, startup
from bot.tokens import same_secret


@dataclass(frozen=True)
class ActionServerConfig:
    token: str
    host: str = "127.0.0.1"
    port: int = 5055
    workers: int = 1  # processes serving the port (Sanic's workers); the actions keep no state between calls

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ActionServerConfig:
        """Reads ACTION_SERVER_*; outside demo mode a real token must be given."""
        token = secret(env, "ACTION_SERVER_TOKEN", DEMO_ACTION_TOKEN)
        workers = env.get("ACTION_SERVER_WORKERS", "1").strip() or "1"
        if not workers.isascii() or not workers.isdigit() or not 1 <= int(workers) <= 32:
            raise ConfigError(f"ACTION_SERVER_WORKERS must be a number from 1 to 32, not {workers!r}")
        return cls(
            token=token,
            host=env.get("ACTION_SERVER_HOST", "127.0.0.1"),
            port=port(env, "ACTION_SERVER_PORT", 5055),
            workers=int(workers),
        )


def check_action_call(body: dict[str, Any]) -> None:
    """The shape rasa_sdk expects of an action call, so a malformed one is a 400, not a crash."""
    tracker = body.get("tracker")
    if not isinstance(body.get("next_action"), str):
        raise bad_request("next_action", "next_action must be an action name.")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("sender_id"), str):
        raise bad_request("tracker", "tracker must be an object with a sender_id.")
    for key, kind in (("slots", dict), ("events", list), ("latest_message", dict)):
        if not isinstance(tracker.get(key, kind()), kind):
            raise bad_request(f"tracker.{key}", f"tracker.{key} has the wrong type.")
    if not isinstance(body.get("domain", {}), dict):
        raise bad_request("domain", "domain must be an object.")


def create_app(config: ActionServerConfig, package: str = "actions") -> Sanic:
    """The rasa_sdk app for `package`: no CORS, JSON errors, a token check before every route but /health."""
    app = create_sdk_app(package, cors_origins=None)
    install_error_handlers(app)  # replaces rasa_sdk's handler, which answers 500 with the request echoed

    @app.before_server_start
    async def connect(_app: Sanic, _loop: object) -> None:
        platform_client.keep_connections()

    @app.after_server_stop
    async def disconnect(_app: Sanic, _loop: object) -> None:
        await platform_client.release_connections()

    @app.on_request
    async def check(request: Request) -> HTTPResponse | None:
        if request.route is not None and request.route.name.endswith(".health"):
            return None
        if not same_secret(request.args.get("token") or "", config.token):
            return json({"error": {"code": "unauthorized", "message": "A valid token is required."}}, status=401)
        if request.route is not None and request.route.name.endswith(".webhook"):
            check_action_call(json_body(request))
        return None

    return cast(Sanic, app)


def main() -> int:
    config = startup("action server", ActionServerConfig.from_env)
    if config is None:
        return 2
    create_app(config).run(host=config.host, port=config.port, workers=config.workers, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
