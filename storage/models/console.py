"""Tables for the staff console: one-time login links, sessions, and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

import storage.models.agency  # noqa: F401  (the tables this module's foreign keys point to)
import storage.models.report  # noqa: F401
from storage.types import ts_field, ts_field_opt


class LoginLink(SQLModel, table=True):
    """A one-time console login link (15 minutes, single use); only its hash is kept."""

    __tablename__ = "console_login"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_member.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = ts_field()
    expires_at: datetime = ts_field()
    used_at: datetime | None = ts_field_opt()


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random id, the table only its hash."""

    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_member.id", index=True)
    id_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = ts_field()
    last_seen_at: datetime = ts_field()
    expires_at: datetime = ts_field()  # the absolute end, whatever the activity
    ended_at: datetime | None = ts_field_opt()  # logout, or the staff member removed


class AuditEntry(SQLModel, table=True):
    """One staff action, written in the transaction that did it; never changed afterwards."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_staff_at", "staff_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = ts_field(index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff_member.id")
    source: str = Field(max_length=16)  # console | chat | cli
    action: str = Field(max_length=48, index=True)
    target: str | None = Field(default=None, max_length=64)  # a ticket, a staff id, ...
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ReportNote(SQLModel, table=True):
    """Staff's words on a report: an internal note (never shown to the resident), or a message
    sent to the reporter through their chat."""

    __tablename__ = "report_note"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    staff_id: int = Field(foreign_key="staff_member.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    to_resident: bool = False
    created_at: datetime = ts_field()
