"""A database connection the server dropped costs the resident nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import Container
from chat import TerminalChat
from conftest import PG_URL

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
