"""`python -m bot.action_server`: Rasa's action server, on loopback and only for callers holding its token.

`rasa run actions` listens on every interface and runs any forged tracker it is sent. This wraps the
same rasa_sdk app: it binds ACTION_SERVER_HOST (127.0.0.1 by default) and answers 401 to any call
but /health that lacks ACTION_SERVER_TOKEN, which Rasa sends from endpoints.yml (`token:`).
"""

from __future__ import annotations

import hmac
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from rasa_sdk.endpoint import create_app as create_sdk_app
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.platform.config import ConfigError, demo_mode

DEMO_ACTION_TOKEN = "demo-action-token"


@dataclass(frozen=True)
class ActionServerConfig:
    token: str
    host: str = "127.0.0.1"
    port: int = 5055

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ActionServerConfig:
        """Reads ACTION_SERVER_*; outside demo mode a real token must be given."""
        demo = demo_mode(env)
        token = env.get("ACTION_SERVER_TOKEN") or (DEMO_ACTION_TOKEN if demo else "")
        if not token:
            raise ConfigError("ACTION_SERVER_TOKEN must be set (or DEMO_MODE=1).")
        if token == DEMO_ACTION_TOKEN and not demo:
            raise ConfigError("The demo ACTION_SERVER_TOKEN is accepted only with DEMO_MODE=1.")
        try:
            port = int(env.get("ACTION_SERVER_PORT", "5055"))
        except ValueError as exc:
            raise ConfigError("ACTION_SERVER_PORT must be a number.") from exc
        return cls(token=token, host=env.get("ACTION_SERVER_HOST", "127.0.0.1"), port=port)


def create_app(config: ActionServerConfig, package: str = "actions") -> Sanic:
    """The rasa_sdk app for `package`, with no CORS and a token check before every route but /health."""
    app = create_sdk_app(package, cors_origins=None)

    @app.on_request
    async def check_token(request: Request) -> HTTPResponse | None:
        if request.route is not None and request.route.name.endswith(".health"):
            return None
        given = request.args.get("token") or ""
        if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), config.token.encode()):
            return json({"error": "A valid token is required."}, status=401)
        return None

    return app


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = ActionServerConfig.from_env()
    except ConfigError as exc:
        print(f"action server: {exc}", file=sys.stderr)
        return 2
    create_app(config).run(host=config.host, port=config.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
