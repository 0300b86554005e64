"""SQLite statements run on the event loop's own thread, without a thread hop per call.

aiosqlite runs every call (cursor, execute, fetch, close, commit) on a worker thread and wakes
the event loop with the result: five or six hops for one statement. On a busy loop each hop
waits its turn behind every other ready task, so a write transaction that needs microseconds of
SQLite time stays open for milliseconds, and writers queue behind it (SQLite has one writer at a
time). The worker thread also contends with the loop for the GIL.

Against a local database file in WAL mode almost every call returns in microseconds without
waiting for anything, so this connection makes the call right where it is asked for. The one
thing that can wait is a lock held by *another process* (``emas`` on the command line, a
migration): SQLite answers ``SQLITE_BUSY`` at once because the busy timeout is 0 here, and the
same call is then made again on aiosqlite's worker thread with the configured busy timeout, so
the loop never sleeps in SQLite's busy handler. A statement that failed with ``SQLITE_BUSY``
changed nothing, so making it again is safe.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url

_WAITING_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _must_wait(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _WAITING_CODES


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run inline; only lock waits go to its thread,
    and every call while ``offload`` is set (a long read: see Database.reader)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], *,
                 busy_timeout_ms: int, iter_chunk_size: int = 64) -> None:
        super().__init__(connector, iter_chunk_size)
        self._busy_timeout_ms = busy_timeout_ms
        # Set for a read that scans many rows (a search over every report, the week's
        # figures): its statements then run on the connection's worker thread, where SQLite
        # works without the GIL and the event loop goes on answering everyone else.
        self.offload = False

    async def _connect(self) -> aiosqlite.Connection:
        await super()._connect()
        # Inline calls must never sleep in the busy handler.
        self._conn.execute("PRAGMA busy_timeout=0")
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if self.offload:
            return await super()._execute(self._patiently, fn, args, kwargs)
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not _must_wait(exc):
                raise
        return await super()._execute(self._patiently, fn, args, kwargs)

    def _patiently(self, fn: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
        """On the worker thread: the same call, allowed to wait for another process's lock."""
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        try:
            return fn(*args, **kwargs)
        finally:
            conn.execute("PRAGMA busy_timeout=0")


def inline_creator(url: str, connect_args: dict[str, Any]) -> Callable[[], InlineConnection]:
    """An ``async_creator`` for ``create_async_engine`` that opens :class:`InlineConnection`s."""
    cargs, cparams = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    cparams = {**cparams, **connect_args, "check_same_thread": False}
    busy_ms = int(float(cparams.get("timeout", 5.0)) * 1000)
    database = cargs[0] if cargs else cparams.pop("database")

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **cparams)

    def create() -> InlineConnection:
        return InlineConnection(connector, busy_timeout_ms=busy_ms)

    return create
