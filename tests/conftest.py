"""Shared fixtures: a migrated database per test (SQLite by default, PostgreSQL in CI)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from emas.bot.app import Container, build_container
from emas.settings import Settings
from emas.storage.all_models import metadata
from emas.storage.citypack import load_city_pack, seed
from emas.storage.db import Database
from emas.storage.migrate import upgrade

PG_URL = os.environ.get("EMAS_TEST_DATABASE_URL")
CONTENT = Path(__file__).resolve().parents[1] / "content"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: runs against SQLite only")


class Clock:
    """A clock tests can move; starts on a Monday morning in Binjai."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 09:00 WIB, Monday

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once per run; each test gets a copy (SQLite) or emptied tables (PostgreSQL)."""
    if PG_URL:
        upgrade(PG_URL)
        yield PG_URL
        return
    path = tmp_path_factory.mktemp("template") / "emas.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    yield str(path)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path, template_db: str) -> Settings:
    if PG_URL:
        url = PG_URL
    else:
        target = tmp_path / "emas.db"
        shutil.copy(template_db, target)
        url = f"sqlite+aiosqlite:///{target}"
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=url,
        data_dir=tmp_path / "data",
        content_dir=CONTENT,
    )


async def _reset(db: Database) -> None:
    async with db.session() as session:
        if PG_URL:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        pack = load_city_pack(CONTENT / "binjai")
        await seed(session=session, pack=pack)


@pytest.fixture
async def container(settings: Settings, clock: Clock) -> AsyncIterator[Container]:
    box = build_container(settings, clock=clock)
    await _reset(box.db)
    try:
        yield box
    finally:
        await box.db.dispose()
