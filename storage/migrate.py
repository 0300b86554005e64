"""Running the Alembic migrations from code (`emas db upgrade`, tests, `make run`)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

from storage.db import ensure_sqlite_dir

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database to the newest schema (blocking).

    Alembic's environment runs its own event loop, so it gets a thread of its own: that works
    whether or not the caller is inside a running loop."""
    if url.startswith("sqlite"):
        ensure_sqlite_dir(url)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(command.upgrade, alembic_config(url), revision).result()


async def upgrade_async(url: str, revision: str = "heads") -> None:
    await asyncio.to_thread(upgrade, url, revision)
