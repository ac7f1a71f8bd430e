"""Settings of the platform stub, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bot.settings import DEMO_PLATFORM_KEY, port, secret


@dataclass(frozen=True)
class PlatformConfig:
    database_url: str
    api_key: str
    host: str = "127.0.0.1"
    port: int = 8100

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PlatformConfig:
        """Reads PLATFORM_*; outside demo mode an API key must be given."""
        key = secret(env, "PLATFORM_API_KEY", DEMO_PLATFORM_KEY)
        port_number = port(env, "PLATFORM_PORT", 8100)
        return cls(
            database_url=env.get("PLATFORM_DATABASE_URL", "sqlite:///var/platform.db"),
            api_key=key,
            host=env.get("PLATFORM_HOST", "127.0.0.1"),
            port=port_number,
        )
