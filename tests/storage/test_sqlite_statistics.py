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


async def test_the_closed_tab_is_read_newest_first_not_sorted_whole(
        container: Container) -> None:
    """With most reports closed (as in any city after a year), the statistics must tell the
    planner so: sampled within 1,000 rows they made it read every closed report through the
    status index and sort them all to show the newest 50."""
    await file_report(container, user="w0")
    path = sqlite_path(container.settings.database_url)
    assert path is not None
    closed_tab = ("SELECT id FROM report WHERE status IN ('closed', 'rejected', 'referred', "
                  "'duplicate') ORDER BY id DESC LIMIT 51")

    def fill_and_plan() -> str:
        with sqlite3.connect(path) as conn:
            columns = [r[1] for r in conn.execute("PRAGMA table_info(report)")
                       if r[1] not in ("id", "ticket", "status")]
            listed = ", ".join(columns)
            conn.execute(f"""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
                INSERT INTO report (ticket, status, {listed})
                SELECT 'BJI-2025-' || printf('%06d', i),
                       CASE i % 25 WHEN 0 THEN 'submitted' WHEN 1 THEN 'assigned'
                       WHEN 2 THEN 'in_progress' WHEN 3 THEN 'resolved' WHEN 4 THEN 'rejected'
                       WHEN 5 THEN 'assigned' WHEN 6 THEN 'in_progress' ELSE 'closed' END,
                       {listed}
                FROM n, (SELECT * FROM report LIMIT 1)""")
        container.db.optimize_once(first=True)
        with sqlite3.connect(path) as conn:
            return " ".join(r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + closed_tab))

    plan = await asyncio.to_thread(fill_and_plan)
    assert "TEMP B-TREE" not in plan, plan
