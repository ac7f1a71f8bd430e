"""Settings every service shares: demo mode, the demo secrets, config errors, numbers from the environment.

Each service reads its own variables (see README "Configuration"); what they have in common lives
here, outside the platform stub, so a deployment without `bot/platform` still starts.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from typing import TypeVar

DEMO_PLATFORM_KEY = "demo-platform-key"
DEMO_RASA_TOKEN = "demo-rasa-token"
DEMO_ACTION_TOKEN = "demo-action-token"


Config = TypeVar("Config")


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def demo_mode(env: Mapping[str, str]) -> bool:
    """DEMO_MODE=1 (or true, yes): the demo secrets and accounts are accepted."""
    return env.get("DEMO_MODE", "0").strip().lower() in ("1", "true", "yes")


def secret(env: Mapping[str, str], name: str, demo_value: str) -> str:
    """A secret from `name`; in demo mode the demo value when unset; the demo value is refused outside it."""
    demo = demo_mode(env)
    value = env.get(name) or (demo_value if demo else "")
    if not value:
        raise ConfigError(f"{name} must be set (or DEMO_MODE=1 for the demo value).")
    if value == demo_value and not demo:
        raise ConfigError(f"The demo {name} is accepted only with DEMO_MODE=1; set a real one.")
    return value


def port(env: Mapping[str, str], name: str, default: int) -> int:
    """A TCP port from `name`, or `default` when unset."""
    raw = env.get(name, str(default))
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a port number (1 to 65535).")
    return int(raw)


def startup(service: str, load: Callable[[], Config]) -> Config | None:
    """Sets up logging and reads the service's settings; None, after saying why on stderr, if they are wrong."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return load()
    except ConfigError as exc:
        print(f"{service}: {exc}", file=sys.stderr)
        return None
