"""Settings of the platform stub, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEMO_API_KEY = "demo-platform-key"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def demo_mode(env: Mapping[str, str]) -> bool:
    return env.get("DEMO_MODE", "0").lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class PlatformConfig:
    database_url: str
    api_key: str
    host: str = "127.0.0.1"
    port: int = 8100

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PlatformConfig:
        """Reads PLATFORM_*; outside demo mode an API key must be given."""
        key = env.get("PLATFORM_API_KEY", "")
        if not key:
            if not demo_mode(env):
                raise ConfigError("PLATFORM_API_KEY is not set (or set DEMO_MODE=1 for the demo key).")
            key = DEMO_API_KEY
        elif key == DEMO_API_KEY and not demo_mode(env):
            raise ConfigError("The demo PLATFORM_API_KEY is accepted only with DEMO_MODE=1; set a real key.")
        try:
            port = int(env.get("PLATFORM_PORT", "8100"))
        except ValueError as exc:
            raise ConfigError("PLATFORM_PORT must be a number.") from exc
        return cls(
            database_url=env.get("PLATFORM_DATABASE_URL", "sqlite:///var/platform.db"),
            api_key=key,
            host=env.get("PLATFORM_HOST", "127.0.0.1"),
            port=port,
        )
