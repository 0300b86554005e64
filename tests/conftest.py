"""Shared fixtures: a migrated database per test (SQLite by default, PostgreSQL in CI)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import content
from bot.app import Container, build_container
from bot.settings import Settings
from chat import Chat, TelegramChat, TerminalChat, deliver_update
from storage.citypack import load_city_pack, seed
from storage.db import Database
from storage.migrate import upgrade
from storage.models import metadata
from whatsapp_fixtures import *  # noqa: F403

PG_URL = os.environ.get("EMAS_TEST_DATABASE_URL")
CONTENT = content.ROOT


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


def _worker_database(url: str, worker: str) -> str:
    """A database of this test worker's own on the PostgreSQL server (pytest-xdist runs
    several workers at once; each empties its tables between tests)."""
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"

    async def create() -> None:
        conn = await asyncpg.connect(host=base.host, port=base.port, user=base.username,
                                     password=base.password, database=base.database)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
            # Tests need no durability: no WAL flush wait at each commit (each test empties
            # and reseeds the tables, which is otherwise mostly waiting for the disk).
            await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        finally:
            await conn.close()

    asyncio.run(create())
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """Migrate once per run; each test gets a copy (SQLite) or emptied tables (PostgreSQL)."""
    if PG_URL:
        url = PG_URL if worker_id == "master" else _worker_database(PG_URL, worker_id)
        upgrade(url)
        yield url
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
        url = template_db
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
        # Test residents type at machine speed on a clock that stands still: the per-minute
        # message limit is off here; tests/bot/test_limits.py sets it.
        message_limit_per_minute=0,
    )


async def _reset(db: Database) -> None:
    async with db.session() as session:
        if PG_URL:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await session.exec(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        pack = load_city_pack(CONTENT / "binjai")
        await seed(session=session, pack=pack)


@pytest.fixture
async def container(settings: Settings, clock: Clock) -> AsyncIterator[Container]:
    box = build_container(settings, clock=clock)
    await _reset(box.db)
    try:
        yield box
    finally:
        await box.engine.photos.aclose()
        await box.outbound.aclose()
        await box.db.dispose()


# --- channels ----------------------------------------------------------------------------------

TELEGRAM_TOKEN = "123456:TEST-token"
WEBHOOK_SECRET = "s3cret-webhook-token"


class TelegramEnv:
    """The app with its Telegram channel, talking to a Bot API double on loopback."""

    def __init__(self, box: Container, double: object, client: object) -> None:
        self.box = box
        self.double = double
        self.client = client

    def chat(self, chat_id: int = 700_001, language_code: str = "id") -> TelegramChat:
        return TelegramChat(self.client, self.double, WEBHOOK_SECRET, self.box.outbound,
                            chat_id=chat_id, language_code=language_code)

    async def post_now(self, update: dict[str, Any]) -> Any:
        """The webhook alone: its answer, without waiting for the replies it queued."""
        self.double.track_update(update)  # type: ignore[attr-defined]
        return await self.client.post(  # type: ignore[attr-defined]
            "/webhooks/telegram", json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})

    async def post(self, update: dict[str, Any], *, secret: str | None = None) -> Any:
        """Deliver an update as Telegram does; returns the webhook's HTTP response."""
        return await deliver_update(self.client, self.double, update,
                                    WEBHOOK_SECRET if secret is None else secret, self.box.outbound)


@pytest.fixture
def double_options() -> dict[str, object]:
    """Bot API double options; a test may override this fixture (e.g. strict flood limits)."""
    # Telegram tolerates bursts in a private chat (its 1 msg/s is a sustained rate); a test
    # resident types far faster than a person, so flow tests allow a long burst. The flood tests
    # use strict limits.
    return {"private_burst": 60}


@pytest.fixture
async def telegram(
    settings: Settings, clock: Clock, double_options: dict[str, object]
) -> AsyncIterator[TelegramEnv]:
    import httpx

    from bot.app import create_app
    from doubles.telegram_api import create_bot_api, serve_bot_api

    double = create_bot_api(TELEGRAM_TOKEN, **double_options)  # type: ignore[arg-type]
    async with serve_bot_api(double) as root:
        tg_settings = settings.model_copy(
            update={
                "telegram_token": TELEGRAM_TOKEN,
                "telegram_api_url": root,
                "telegram_webhook_secret": WEBHOOK_SECRET,
                "public_url": "https://emas.binjaikota.test",
            }
        )
        box = build_container(tg_settings, clock=clock)
        await _reset(box.db)
        app = create_app(tg_settings, container=box, start_channels=False)
        channel = box.channels["telegram"]
        await channel.start()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            try:
                yield TelegramEnv(box, double, client)
            finally:
                await box.engine.photos.aclose()
                await box.outbound.aclose()
                await channel.stop()
                await box.db.dispose()


CHANNELS = ["terminal", "telegram", "whatsapp"]


@pytest.fixture(params=CHANNELS)
def channel_env(request: pytest.FixtureRequest) -> object:
    """The running app for one channel; flow tests ask it for chats."""
    name = request.param
    if name == "terminal":
        return TerminalEnv(request.getfixturevalue("container"))
    return request.getfixturevalue(name)


class TerminalEnv:
    def __init__(self, box: Container) -> None:
        self.box = box

    def chat(self, chat_id: int = 700_001, language_code: str = "id") -> TerminalChat:
        return TerminalChat(self.box.engine, user_key=f"warga-{chat_id}", locale=language_code)


@pytest.fixture
def chat(channel_env: TelegramEnv | TerminalEnv) -> Chat:
    """A resident's chat on each channel in turn (in Indonesian, the default language)."""
    return channel_env.chat()


@pytest.fixture
def en_chat(channel_env: TelegramEnv | TerminalEnv) -> Chat:
    """A resident's chat in English, on each channel in turn."""
    return channel_env.chat(language_code="en")
