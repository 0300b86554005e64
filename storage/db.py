"""Async engine and sessions; SQLite gets WAL and immediate write transactions."""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.sqlite_inline import inline_creator

logger = logging.getLogger(__name__)

# The first key of the advisory locks by which each `emas serve` on PostgreSQL shows it is
# alive (the second is its token): "EM".
PRESENCE_NAMESPACE = 0x454D
PRESENCE_INTERVAL = 10.0


def live_presence() -> Any:
    """A statement: the tokens of the processes alive on this PostgreSQL database (each holds
    its presence lock while it lives; see Database.hold_presence)."""
    return (
        select(literal_column("objid::bigint"))
        .select_from(text("pg_locks"))
        .where(text(f"locktype = 'advisory' AND classid = {PRESENCE_NAMESPACE} AND objsubid = 2"
                    " AND granted AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"))
    )


def is_postgres(session: AsyncSession) -> bool:
    """Whether the session talks to PostgreSQL (else SQLite): for the few statements whose SQL
    differs (row locks, ON CONFLICT, case-insensitive LIKE, the presence locks)."""
    bind = session.bind
    return bind is not None and bind.dialect.name == "postgresql"


class DatabaseMissing(LookupError):
    """The SQLite file the settings name does not exist (yet): nothing was created."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no database at {path}")
        self.path = path


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None (another database, or an in-memory one)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


class Database:
    """Owns the engine and hands out sessions. One per process.

    A SQLite file must exist already (`emas db upgrade` creates it) unless `create` is given:
    opening a missing one raises DatabaseMissing instead of leaving an empty file behind.
    """

    def __init__(self, url: str, *, echo: bool = False, create: bool = False,
                 checkpoint_in_background: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # SQLite copies the write-ahead log into the database file (a checkpoint, with fsync)
        # inside whichever commit crosses 1000 pages: on the event loop, now that statements
        # run inline. With this flag, commits never checkpoint; checkpoint_loop does it on a
        # thread of its own, where it blocks neither the loop nor the writers.
        self.checkpoint_in_background = checkpoint_in_background and self.is_sqlite
        self._checkpointer: Any = None
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            path = sqlite_path(url)
            if create:
                ensure_sqlite_dir(url)
            elif path is not None and not path.exists():
                raise DatabaseMissing(path)
            # Statements run inline on the loop; only waits for another process's lock go to
            # a thread, with this busy timeout (see sqlite_inline).
            kwargs["async_creator"] = inline_creator(url, {"timeout": 30})
        else:
            # No pre-ping: it costs a round trip on every checkout (without it, PostgreSQL's
            # p99 at 300 updates/s in bench/inbound.py went from 164 to 117 ms on the 2-core
            # machine). A connection the server dropped
            # fails its first statement instead; SQLAlchemy then refreshes the pool and the
            # engine processes the event again (Engine.process).
            kwargs.update(pool_size=10, max_overflow=10, pool_recycle=3600)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self.read_engine: AsyncEngine = self.engine
        if self.is_sqlite:
            _configure_sqlite(self.engine, immediate=True,
                              autocheckpoint=not self.checkpoint_in_background)
            # Readers get their own pool with deferred transactions so they never queue behind
            # writers (WAL lets them read the last committed state).
            self.read_engine = create_async_engine(url, **kwargs)
            _configure_sqlite(self.read_engine, immediate=False)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._readers = async_sessionmaker(
            self.read_engine, class_=AsyncSession, expire_on_commit=False
        )
        # SQLite has one writer at a time. Without a queue, writers waiting for its lock poll
        # it from SQLite's busy handler, sleeping up to 100 ms between tries: the lock lies
        # idle while they sleep and an unlucky writer waits for seconds. Writers of this
        # process queue here instead (first come, first served); other processes still meet
        # busy_timeout. A session opened inside another by the same task does not queue.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._writer: asyncio.Task[Any] | None = None
        # PostgreSQL: this process's token while it holds its presence lock (hold_presence);
        # rows it claims carry the token, and a row whose token no live lock names belongs to
        # a process that died. None on SQLite, where one process owns the database.
        self.presence: int | None = None
        self._presence_conn: Any = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        task = asyncio.current_task()
        async with self._sessions() as session:
            if self._write_lock is None or self._writer is task:
                async with session.begin():
                    yield session
                return
            # Held from before BEGIN to after COMMIT, as SQLite holds its own. Statements run
            # inline (sqlite_inline), so the lock is held for the transaction's CPU time plus
            # whatever else it awaits (a photo download, say).
            async with self._write_lock:
                self._writer = task
                try:
                    async with session.begin():
                        yield session
                finally:
                    self._writer = None

    @asynccontextmanager
    async def reader(self, *, offload: bool = False) -> AsyncIterator[AsyncSession]:
        """A session for reads only; nothing is committed.

        ``offload``: the reads scan many rows (a search over every report, a period's
        figures). On SQLite, whose statements otherwise run on the event loop (sqlite_inline),
        they then run on the connection's worker thread: SQLite scans without the GIL while
        the loop answers other requests, at the cost of a thread hop per call."""
        async with self._readers() as session:
            if not (offload and self.is_sqlite):
                yield session
                return
            raw = await (await session.connection()).get_raw_connection()
            driver: Any = raw.driver_connection  # an InlineConnection (sqlite_inline)
            driver.offload = True
            try:
                yield session
            finally:
                driver.offload = False

    async def ping(self) -> bool:
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def hold_presence(self) -> int | None:
        """PostgreSQL: take an advisory lock named by this process's token, on a connection of
        its own, for as long as the process lives. The server drops the lock the moment the
        process dies (its connection closes), which tells the other processes that the rows
        it claimed are free again. Returns the token (None on SQLite)."""
        if self.is_sqlite:
            return None
        if self._presence_conn is not None:
            return self.presence
        from sqlalchemy import text

        token = self.presence or secrets.randbelow(2**31 - 1) + 1
        conn = await self.engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("SELECT pg_advisory_lock(:ns, :token)"),
                               {"ns": PRESENCE_NAMESPACE, "token": token})
        except BaseException:
            await conn.close()
            raise
        self._presence_conn, self.presence = conn, token
        return token

    async def presence_loop(self, interval: float = PRESENCE_INTERVAL) -> None:
        """Keep the presence lock: a connection the server dropped is opened again with the
        same token (the claims made meanwhile stay this process's)."""
        from sqlalchemy import text

        if self.is_sqlite:
            return
        while True:
            try:
                if self._presence_conn is None:
                    await self.hold_presence()
                else:
                    await self._presence_conn.execute(text("SELECT 1"))
            except Exception:
                logger.warning("presence lock lost; taking it again shortly")
                conn, self._presence_conn = self._presence_conn, None
                if conn is not None:
                    try:
                        await conn.invalidate()
                    except Exception:
                        logger.debug("closing the dropped presence connection failed",
                                     exc_info=True)
            await asyncio.sleep(interval)

    def checkpoint_once(self) -> tuple[int, int, int]:
        """Copy the write-ahead log into the database file; blocking, so call it on a thread.

        Returns SQLite's (busy, frames in the log, frames checkpointed)."""
        if self._checkpointer is None:
            path = self.engine.url.database or ""
            self._checkpointer = sqlite3.connect(path, check_same_thread=False,
                                                 isolation_level=None)
        row = self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def optimize_once(self, *, first: bool = False) -> None:
        """Refresh SQLite's table statistics (blocking; call it on a thread): every table
        sampled within analysis_limit rows the first time, then where they went stale; and the
        reports table read whole each time (0.14 s per 100,000 reports). Without statistics
        the planner guesses, and e.g. reads 80,000 closed reports through the status index to
        show the newest 50; with sampled ones it took each status for 1,000 rows and did the
        same. The reports table is the one the console's plans hinge on."""
        self.checkpoint_once()  # opens the connection
        assert self._checkpointer is not None
        self._checkpointer.execute("PRAGMA busy_timeout = 5000")
        self._checkpointer.execute("PRAGMA analysis_limit = 1000")
        self._checkpointer.execute("ANALYZE" if first else "PRAGMA optimize")
        self._checkpointer.execute("PRAGMA analysis_limit = 0")
        self._checkpointer.execute("ANALYZE report")

    async def checkpoint_loop(self, interval: float = 1.0,
                              optimize_every: float = 3600.0) -> None:
        """`emas serve`'s background task: checkpoint SQLite's log every ``interval`` s, and
        refresh the planner's statistics at start and every ``optimize_every`` s."""
        if not self.checkpoint_in_background:
            return
        optimized: float | None = None
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.checkpoint_once)
                if optimized is None or time.monotonic() - optimized >= optimize_every:
                    await asyncio.to_thread(self.optimize_once, first=optimized is None)
                    optimized = time.monotonic()
            except sqlite3.Error:
                logger.warning("SQLite checkpoint failed; trying again", exc_info=True)

    async def dispose(self) -> None:
        if self._presence_conn is not None:
            conn, self._presence_conn = self._presence_conn, None
            try:
                await conn.invalidate()  # closed, not back to the pool with the lock held
            except Exception:
                logger.debug("closing the presence connection failed", exc_info=True)
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


def ensure_sqlite_dir(url: str) -> None:
    """Make the folder of a SQLite file, for the migration that creates the database."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool,
                      autocheckpoint: bool = True) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN; we issue it ourselves below.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        if not autocheckpoint:
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads then writes fails with SQLITE_BUSY when another
        # writer committed in between; taking the write lock up front makes writers queue.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
