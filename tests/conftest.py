"""Shared fixtures: the real platform stub on loopback over a real SQLite file."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest

from bot.platform.app import create_app
from bot.platform.config import PlatformConfig
from bot.platform.db import Base, make_engine, make_sessionmaker
from bot.platform.seed import ensure_seeded
from tests.servers import Clock, serve

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
