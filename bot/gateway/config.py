"""Settings of the gateway, read from the environment."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

from bot.settings import DEMO_PLATFORM_KEY, DEMO_RASA_TOKEN, ConfigError, demo_mode, port, secret


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
    redis_url: str | None = None  # several instances share live events, locks, presence, limits through it
    proxies: int = 0  # trusted proxies in front (nginx: 1): the client address comes from X-Forwarded-For
    skill_wait: int = 60  # seconds a queued conversation is offered only to agents with its skill
    metrics_token: str | None = None  # GET /metrics with this bearer token; without one, loopback clients only

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
            # Registered with Telegram by the gateway itself; without one it is derived from the bot's token,
            # so every instance behind the load balancer checks the same secret.
            telegram_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or webhook_secret(env.get("TELEGRAM_TOKEN") or ""),
            telegram_api_url=env.get("TELEGRAM_API_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            proxies=count(env, "GATEWAY_PROXIES"),
            metrics_token=env.get("METRICS_TOKEN") or None,
            skill_wait=seconds(env, "SKILL_WAIT_SECONDS", 60),
        )


def webhook_secret(token: str) -> str:
    """A webhook secret only the bot's token holder can derive (Telegram allows A-Z, a-z, 0-9, _ and -)."""
    return hmac.new(token.encode(), b"shopdesk telegram webhook", hashlib.sha256).hexdigest()


def count(env: Mapping[str, str], name: str) -> int:
    """A small whole number from the environment (0 when unset)."""
    raw = env.get(name, "0").strip() or "0"
    if not raw.isascii() or not raw.isdigit() or int(raw) > 8:
        raise ConfigError(f"{name} must be a number from 0 to 8, not {raw!r}")
    return int(raw)


def seconds(env: Mapping[str, str], name: str, default: int) -> int:
    """A number of seconds from the environment, 0 to a day."""
    raw = env.get(name, "").strip() or str(default)
    if not raw.isascii() or not raw.isdigit() or int(raw) > 86_400:
        raise ConfigError(f"{name} must be a number of seconds from 0 to 86400, not {raw!r}")
    return int(raw)
