"""SQLite calls run on the loop; a lock held by another process is waited for off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.sqlite_inline import InlineConnection

pytestmark = pytest.mark.sqlite_only


async def _database(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/inline.db", create=True)
    async with db.session() as session:
        await (await session.connection()).execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    return db


async def test_statements_run_on_the_loop_thread(tmp_path: Path) -> None:
    db = await _database(tmp_path)
    seen: list[int] = []
    try:
        async with db.session() as session:
            conn = await session.connection()
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert isinstance(driver, InlineConnection)
            driver._conn.create_function("where_am_i", 0, lambda: seen.append(
                threading.get_ident()) or 1)
            await (await session.connection()).execute(text("SELECT where_am_i()"))
        assert seen == [threading.get_ident()]
    finally:
        await db.dispose()


async def test_a_lock_held_by_another_process_is_waited_for_without_freezing_the_loop(
    tmp_path: Path,
) -> None:
    db = await _database(tmp_path)
    other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None,
                            check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO note (body) VALUES ('from the command line')")
    ticks = 0
    written = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not written.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> int:
        await asyncio.sleep(0.02)
        before = ticks
        async with db.session() as session:
            await (await session.connection()).execute(
                text("INSERT INTO note (body) VALUES ('from the bot')"))
        written.set()
        return ticks - before

    # The other process commits 0.3 s later, from its own thread, whatever the loop is doing.
    release = threading.Timer(0.3, other.execute, args=("COMMIT",))
    release.start()
    try:
        _, ticks_while_waiting = await asyncio.gather(ticker(), write())
        assert ticks_while_waiting >= 5, "the event loop stood still while SQLite was locked"
        async with db.reader() as session:
            conn = await session.connection()
            rows = (await conn.execute(text("SELECT body FROM note ORDER BY id"))).all()
        assert [r[0] for r in rows] == ["from the command line", "from the bot"]
    finally:
        release.join()
        other.close()
        await db.dispose()


async def test_other_errors_are_raised_unchanged(tmp_path: Path) -> None:
    db = await _database(tmp_path)
    try:
        with pytest.raises(Exception, match="no such table"):
            async with db.session() as session:
                await (await session.connection()).execute(text("SELECT * FROM missing"))
        async with db.session() as session:  # the connection is still usable afterwards
            await (await session.connection()).execute(text("INSERT INTO note (body) VALUES ('ok')"))
    finally:
        await db.dispose()


@pytest.mark.parametrize("background", [False, True])
async def test_checkpoints_happen_in_commits_or_only_in_the_background(
    tmp_path: Path, background: bool,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/log.db", create=True, checkpoint_in_background=background)
    try:
        async with db.session() as session:
            conn = await session.connection()
            await conn.execute(text("CREATE TABLE blob (id INTEGER PRIMARY KEY, body BLOB)"))
        for _ in range(60):  # about 1,500 pages of log, past SQLite's 1,000-page threshold
            async with db.session() as session:
                conn = await session.connection()
                await conn.execute(text("INSERT INTO blob (body) VALUES (zeroblob(100000))"))
        busy, in_log, copied = await asyncio.to_thread(db.checkpoint_once)
        assert busy == 0 and copied == in_log
        if background:
            assert in_log > 1000, "a commit checkpointed on the event loop"
        else:
            assert in_log < 1000, "commits should have checkpointed on their own"
        async with db.reader() as session:
            conn = await session.connection()
            assert (await conn.execute(text("SELECT count(*) FROM blob"))).scalar() == 60
    finally:
        await db.dispose()


async def test_a_long_read_offloaded_leaves_the_loop_free(tmp_path: Path) -> None:
    """A search over every report (`reader(offload=True)`) runs off the loop: other requests
    are answered meanwhile. Inline, the loop would stand still for the whole scan."""
    db = await _database(tmp_path)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def scan(offload: bool) -> tuple[int, int]:
        """(ticks while the scan ran, the thread it ran on)"""
        nonlocal ticks
        where: list[int] = []

        def slow_row() -> int:
            where.append(threading.get_ident())
            time.sleep(0.3)  # SQLite at work, without the GIL
            return 1

        async with db.reader(offload=offload) as session:
            raw = await (await session.connection()).get_raw_connection()
            raw.driver_connection._conn.create_function("slow_row", 0, slow_row)
            before = ticks
            await (await session.connection()).execute(text("SELECT slow_row()"))
            return ticks - before, where[0]

    task = asyncio.create_task(ticker())
    try:
        await asyncio.sleep(0.03)
        inline_ticks, inline_thread = await scan(offload=False)
        offloaded_ticks, offloaded_thread = await scan(offload=True)
    finally:
        task.cancel()
        await db.dispose()
    assert inline_thread == threading.get_ident() and inline_ticks == 0
    assert offloaded_thread != threading.get_ident() and offloaded_ticks >= 5
