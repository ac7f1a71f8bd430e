"""Platform settings and the command line: secrets from the environment, demo key only in demo mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.platform.config import PlatformConfig
from bot.settings import DEMO_PLATFORM_KEY as DEMO_API_KEY
from bot.settings import ConfigError


def test_key_is_required_outside_demo_mode() -> None:
    with pytest.raises(ConfigError, match="PLATFORM_API_KEY"):
        PlatformConfig.from_env({})


def test_demo_mode_supplies_the_demo_key() -> None:
    assert PlatformConfig.from_env({"DEMO_MODE": "1"}).api_key == DEMO_API_KEY


def test_demo_key_is_refused_outside_demo_mode() -> None:
    with pytest.raises(ConfigError, match="DEMO_MODE"):
        PlatformConfig.from_env({"PLATFORM_API_KEY": DEMO_API_KEY})


def test_settings_from_the_environment() -> None:
    env = {"PLATFORM_API_KEY": "s3cret", "PLATFORM_PORT": "9100", "PLATFORM_DATABASE_URL": "sqlite:///x.db"}
    config = PlatformConfig.from_env(env)
    assert (config.api_key, config.port, config.database_url) == ("s3cret", 9100, "sqlite:///x.db")
    with pytest.raises(ConfigError, match="PLATFORM_PORT"):
        PlatformConfig.from_env({**env, "PLATFORM_PORT": "eighty"})


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PLATFORM_", "DEMO_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.platform", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_refuses_to_start_without_a_key() -> None:
    result = run_cli({})
    assert result.returncode == 2
    assert "PLATFORM_API_KEY must be set" in result.stderr


def test_cli_reseeds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    result = run_cli({"PLATFORM_API_KEY": "k", "PLATFORM_DATABASE_URL": url}, "--reseed")
    assert result.returncode == 0, result.stderr
    assert "reseeded" in result.stdout
    assert (tmp_path / "p.db").stat().st_size > 100_000
