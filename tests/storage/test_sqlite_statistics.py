"""SQLite's planner gets table statistics, so the console's closed tab reads 50 rows, not all."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from agencies_kit import file_report
from bot.app import Container
from conftest import PG_URL
from storage.db import sqlite_path

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's own statistics")


async def test_the_server_refreshes_the_planners_statistics(container: Container) -> None:
    for n in range(3):
        await file_report(container, user=f"w{n}")
    path = sqlite_path(container.settings.database_url)
    assert path is not None

    def stats() -> list[str]:
        with sqlite3.connect(path) as conn:
            found = conn.execute("SELECT name FROM sqlite_master WHERE name='sqlite_stat1'")
            if found.fetchone() is None:
                return []
            return [r[0] for r in conn.execute("SELECT DISTINCT tbl FROM sqlite_stat1")]

    assert "report" not in await asyncio.to_thread(stats)
    container.db.checkpoint_in_background = True
    loop = asyncio.create_task(container.db.checkpoint_loop(interval=0.01))
    try:
        for _ in range(200):
            if "report" in await asyncio.to_thread(stats):
                break
            await asyncio.sleep(0.02)
    finally:
        loop.cancel()
    assert "report" in await asyncio.to_thread(stats)
