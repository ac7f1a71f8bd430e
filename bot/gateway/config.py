"""Settings of the gateway, read from the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from bot.settings import DEMO_PLATFORM_KEY, DEMO_RASA_TOKEN, demo_mode, port, secret


@dataclass(frozen=True)
class GatewayConfig:
    database_url: str
    rasa_url: str
    rasa_token: str
    platform_url: str
    platform_api_key: str
    demo: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    telegram_token: str | None = None
    telegram_webhook_url: str | None = None
    telegram_secret: str | None = None
    telegram_api_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> GatewayConfig:
        demo = demo_mode(env)
        token = secret(env, "RASA_TOKEN", DEMO_RASA_TOKEN)
        key = secret(env, "PLATFORM_API_KEY", DEMO_PLATFORM_KEY)
        port_number = port(env, "GATEWAY_PORT", 8000)
        return cls(
            database_url=env.get("DATABASE_URL", "sqlite:///var/app.db"),
            rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005"),
            rasa_token=token,
            platform_url=env.get("PLATFORM_URL", "http://127.0.0.1:8100"),
            platform_api_key=key,
            demo=demo,
            host=env.get("GATEWAY_HOST", "127.0.0.1"),
            port=port_number,
            telegram_token=env.get("TELEGRAM_TOKEN") or None,
            telegram_webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            # Registered with Telegram by the gateway itself, so a random one per start is enough.
            telegram_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or secrets.token_urlsafe(32),
            telegram_api_url=env.get("TELEGRAM_API_URL") or None,
        )
