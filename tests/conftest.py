"""Shared fixtures: the real platform stub on loopback over a real SQLite file."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.db import make_engine, make_sessionmaker
from bot.gateway.app import create_app as create_gateway
from bot.gateway.config import GatewayConfig
from bot.gateway.models import Base as GatewayBase
from bot.platform.app import create_app
from bot.platform.config import PlatformConfig
from bot.platform.db import Base
from bot.platform.seed import ensure_seeded
from tests.servers import Clock, serve
from tests.stack import PLATFORM_KEY, RASA_TOKEN, Stack, start_stack

API_KEY = "test-platform-key"
# A Wednesday, so refund dates in the tests cross a known weekend.
SEEDED_AT = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
_names = itertools.count()


@dataclass
class Platform:
    url: str
    http: aiohttp.ClientSession
    clock: Clock
    db_url: str


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeds once per run; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("seed") / "platform.db"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with make_sessionmaker(engine).begin() as session:
        ensure_seeded(session, SEEDED_AT)
    engine.dispose()
    return path


@pytest.fixture
async def platform(seeded_db: Path, tmp_path: Path) -> AsyncIterator[Platform]:
    db = tmp_path / "platform.db"
    shutil.copy(seeded_db, db)
    db_url = f"sqlite:///{db}"
    clock = Clock(SEEDED_AT)
    app = create_app(PlatformConfig(database_url=db_url, api_key=API_KEY), clock, f"platform{next(_names)}")
    async with serve(app) as url, aiohttp.ClientSession(url, headers={"X-Api-Key": API_KEY}) as http:
        yield Platform(url, http, clock, db_url)


@pytest.fixture
async def bot_platform(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """The stub on loopback, with the actions' platform client pointed at it."""
    monkeypatch.setenv("PLATFORM_URL", platform.url)
    monkeypatch.setenv("PLATFORM_API_KEY", API_KEY)
    return platform


# --- gateway ------------------------------------------------------------------------------------

DATABASES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Platform stub, action server and Rasa, started once for the gateway tests."""
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stop()


def database_url(kind: str, tmp_path: Path) -> str:
    """A fresh, empty database of the given kind; PostgreSQL comes from TEST_POSTGRES_URL."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/app.db"
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TEST_POSTGRES_URL is not set; .ci/run starts PostgreSQL and sets it")
        pytest.skip("set TEST_POSTGRES_URL to run the PostgreSQL variant")
    engine = make_engine(url)
    GatewayBase.metadata.drop_all(engine)
    engine.dispose()
    return url


@dataclass
class Gateway:
    url: str
    http: aiohttp.ClientSession
    config: GatewayConfig
    app: Any


def gateway_config(db_url: str, stack: Stack, rasa_url: str | None = None) -> GatewayConfig:
    return GatewayConfig(
        database_url=db_url,
        rasa_url=rasa_url or stack.rasa_url,
        rasa_token=RASA_TOKEN,
        platform_url=stack.platform_url,
        platform_api_key=PLATFORM_KEY,
        demo=True,
    )


@asynccontextmanager
async def running_gateway(
    config: GatewayConfig, port: int | None = None, clock: Clock | None = None
) -> AsyncIterator[Gateway]:
    """A gateway in this process on loopback; `clock`: one the test moves (else the real one)."""
    app = create_gateway(config, name=f"gateway{next(_names)}", **({"clock": clock} if clock else {}))
    async with serve(app, port) as url, aiohttp.ClientSession(url) as http:
        yield Gateway(url, http, config, app)


@pytest.fixture(params=DATABASES)
async def gateway(request: pytest.FixtureRequest, stack: Stack, tmp_path: Path) -> AsyncIterator[Gateway]:
    """The gateway in this process on loopback, over SQLite and over PostgreSQL, talking to the real Rasa."""
    async with running_gateway(gateway_config(database_url(request.param, tmp_path), stack)) as gw:
        yield gw


@pytest.fixture
async def gw(stack: Stack, tmp_path: Path) -> AsyncIterator[Gateway]:
    """One gateway on SQLite against the real Rasa stack, for tests that do not depend on the database."""
    async with running_gateway(gateway_config(database_url("sqlite", tmp_path), stack)) as running:
        yield running
