"""The audit log is append-only in the database itself: no code path, and no one with a SQL
prompt through the application's connection, can rewrite or erase what staff did."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import select

from bot.app import Container
from reports import access
from storage.models.console import AuditEntry


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET action = 'nothing.happened'",
    "DELETE FROM audit_log",
])
async def test_audit_rows_cannot_be_changed_or_deleted(container: Container,
                                                       statement: str) -> None:
    async with container.db.session() as session:
        await access.record(session=session, staff=None, action="staff.add",
                            now=container.engine.clock(), target="staff:1", source="cli")
    with pytest.raises((IntegrityError, DBAPIError), match="append-only"):
        async with container.db.session() as session:
            await session.exec(text(statement))
    async with container.db.reader() as session:
        [entry] = (await session.exec(select(AuditEntry))).all()
    assert entry.action == "staff.add"
