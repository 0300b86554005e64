"""A database connection the server dropped costs the resident nothing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import Container
from bot.settings import Settings
from chat import TerminalChat
from conftest import PG_URL
from storage.db import PRESENCE_NAMESPACE, Database

pytestmark = pytest.mark.skipif(not PG_URL, reason="only a server database drops connections")


async def _drop_every_other_connection(url: str) -> int:
    """What a PostgreSQL restart or an idle-connection reaper does to the app's pool."""
    admin = create_async_engine(url)
    try:
        async with admin.connect() as conn:
            result = await conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            return int(result.scalar_one())
    finally:
        await admin.dispose()


async def test_a_message_after_the_database_dropped_its_connections_is_answered(
    container: Container,
) -> None:
    chat = TerminalChat(container.engine, user_key="warga-putus", locale="en")
    await chat.say("/start")
    await chat.tap("Make a report")  # the pool now holds a connection the server will drop
    assert await _drop_every_other_connection(container.settings.database_url) >= 1
    await chat.say("Jalan berlubang dalam di depan sekolah")
    await chat.tap("Damaged road")
    assert any("kelurahan" in text.lower() for text in chat.texts), chat.texts
    # The step was taken once: going back returns to the category question.
    await chat.tap("Back")
    assert any("Damaged road" in option for option in chat.options)


async def _live_tokens(url: str) -> set[int]:
    admin = create_async_engine(url)
    try:
        async with admin.connect() as conn:
            result = await conn.execute(text(
                "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = :ns AND objsubid = 2 AND granted"), {"ns": PRESENCE_NAMESPACE})
            return {int(token) for (token,) in result.all()}
    finally:
        await admin.dispose()


async def test_a_server_keeps_showing_it_is_alive_after_the_database_dropped_it(
    settings: Settings,
) -> None:
    """The presence lock (which keeps other servers off this one's outbox rows) is taken
    again, with the same token, when the server drops its connection; and it is gone the
    moment the process lets go of the database."""
    db = Database(settings.database_url)
    loop: asyncio.Task[None] | None = None
    try:
        token = await db.hold_presence()
        assert token is not None and token in await _live_tokens(settings.database_url)
        assert await _drop_every_other_connection(settings.database_url) >= 1
        assert token not in await _live_tokens(settings.database_url)
        loop = asyncio.create_task(db.presence_loop(interval=0.05))
        for _tick in range(200):
            if token in await _live_tokens(settings.database_url):
                break
            await asyncio.sleep(0.05)
        assert token in await _live_tokens(settings.database_url)
        assert db.presence == token
    finally:
        if loop is not None:
            loop.cancel()
        await db.dispose()
    assert token not in await _live_tokens(settings.database_url)
