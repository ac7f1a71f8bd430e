"""Gateway settings and its command line: secrets from the environment, agents made by hand outside demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import make_engine, make_sessionmaker
from bot.gateway.config import GatewayConfig
from bot.gateway.models import Agent
from bot.settings import ConfigError


def test_secrets_are_required_outside_demo_mode() -> None:
    with pytest.raises(ConfigError, match="RASA_TOKEN"):
        GatewayConfig.from_env({"PLATFORM_API_KEY": "k"})
    with pytest.raises(ConfigError, match="PLATFORM_API_KEY"):
        GatewayConfig.from_env({"RASA_TOKEN": "t"})


def test_demo_secrets_are_refused_outside_demo_mode() -> None:
    with pytest.raises(ConfigError, match="DEMO_MODE"):
        GatewayConfig.from_env({"RASA_TOKEN": "demo-rasa-token", "PLATFORM_API_KEY": "real"})


def test_demo_mode_and_telegram_settings() -> None:
    demo = GatewayConfig.from_env({"DEMO_MODE": "1"})
    assert demo.demo and demo.rasa_token and demo.platform_api_key and demo.telegram_token is None
    env = {"RASA_TOKEN": "t", "PLATFORM_API_KEY": "k", "TELEGRAM_TOKEN": "1:x", "TELEGRAM_WEBHOOK_URL": "https://h/w"}
    config = GatewayConfig.from_env(env)
    assert (config.telegram_token, config.telegram_webhook_url) == ("1:x", "https://h/w")
    assert config.telegram_secret and len(config.telegram_secret) >= 32  # derived from the token when not given
    assert GatewayConfig.from_env({**env, "TELEGRAM_WEBHOOK_SECRET": "fixed"}).telegram_secret == "fixed"
    with pytest.raises(ConfigError, match="GATEWAY_PORT"):
        GatewayConfig.from_env({**env, "GATEWAY_PORT": "web"})


def run_cli(tmp_path: Path, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DEMO_", "RASA_", "PLATFORM_", "DATABASE_"))},
        "RASA_TOKEN": "t",
        "PLATFORM_API_KEY": "k",
        "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
        "AGENT_PASSWORD": password,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.gateway", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_add_agent_from_the_command_line(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "add-agent", "carol", "--skills", "refunds", password="short").returncode == 2
    created = run_cli(tmp_path, "add-agent", "carol", "--skills", "refunds", password="long-enough-pw")
    assert created.returncode == 0 and "created" in created.stdout
    again = run_cli(tmp_path, "add-agent", "carol", password="long-enough-pw")
    assert again.returncode == 1 and "already exists" in again.stdout
    wrong = run_cli(tmp_path, "add-agent", "dan", "--skills", "refunds,cooking", password="long-enough-pw")
    assert wrong.returncode == 2 and "unknown skill 'cooking'" in wrong.stderr
    boss = run_cli(tmp_path, "add-agent", "erin", "--skills", "Refunds, general,refunds", "--role", "supervisor",
                   password="long-enough-pw")  # fmt: skip
    assert boss.returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path}/app.db")
    with make_sessionmaker(engine)() as s:
        erin = s.scalars(select(Agent).where(Agent.username == "erin")).one()
        assert (erin.skills, erin.role) == ("refunds,general", "supervisor")
