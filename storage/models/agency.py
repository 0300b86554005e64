"""Tables for the agencies' side: staff, linked groups, supporters, ratings, reminders, outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

import storage.models.report  # noqa: F401  (the tables this module's foreign keys point to)
from storage.types import ts_field, ts_field_opt


class StaffMember(SQLModel, table=True):
    """A person who acts on reports: Kominfo triage, an agency officer or an agency head.

    Staff are known by their channel account (a Telegram user id, a WhatsApp number) before
    they ever write to the bot, so the link is by channel and user key, not by identity row.
    """

    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("channel", "user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    user_key: str = Field(max_length=64)
    role: str = Field(max_length=16)
    agency_key: str | None = Field(default=None, foreign_key="agency.key", index=True)
    name: str = Field(max_length=128)
    active: bool = True
    created_at: datetime = ts_field()
    locale: str = Field(default="id", max_length=8)  # the console's language, chosen by them


class AgencyGroup(SQLModel, table=True):
    """A group chat where an agency receives its reports and acts on them."""

    __tablename__ = "agency_group"
    __table_args__ = (UniqueConstraint("channel", "chat_key"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_key: str = Field(foreign_key="agency.key", index=True)
    channel: str = Field(max_length=16)
    chat_key: str = Field(max_length=64)
    locale: str = Field(default="id", max_length=8)
    linked_by: int | None = Field(default=None, foreign_key="identity.id")
    linked_at: datetime = ts_field()


class LinkCode(SQLModel, table=True):
    """A one-time code that links a group chat to an agency; only its hash is kept."""

    __tablename__ = "link_code"

    id: int | None = Field(default=None, primary_key=True)
    agency_key: str = Field(foreign_key="agency.key")
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = ts_field()
    expires_at: datetime = ts_field()
    used_at: datetime | None = ts_field_opt()


class Supporter(SQLModel, table=True):
    """A resident who said "me too" to someone else's report."""

    __tablename__ = "supporter"
    __table_args__ = (UniqueConstraint("report_id", "identity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    identity_id: int = Field(foreign_key="identity.id")
    created_at: datetime = ts_field()


class Rating(SQLModel, table=True):
    """The reporter's answer to "is it fixed?" for one resolution, with stars and a comment."""

    __tablename__ = "rating"
    __table_args__ = (UniqueConstraint("report_id", "identity_id", "resolved_event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    identity_id: int = Field(foreign_key="identity.id")
    resolved_event_id: int = Field(foreign_key="report_event.id")
    fixed: bool
    stars: int | None = None
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = ts_field(index=True)


class ReminderSent(SQLModel, table=True):
    """One step of the deadline ladder taken for one stage of one report: never taken twice."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("report_id", "stage", "step", "anchor_event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    stage: str = Field(max_length=16)
    step: str = Field(max_length=32)
    anchor_event_id: int = Field(foreign_key="report_event.id")
    delivered: bool = True  # False: recorded as passed while a later step went out instead
    sent_at: datetime = ts_field()


class Notification(SQLModel, table=True):
    """A message to someone, written down to be sent by `emas serve` (the durable outbox)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_status_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int | None = Field(default=None, foreign_key="identity.id")
    channel: str = Field(max_length=16)
    user_key: str = Field(max_length=64)
    locale: str = Field(default="id", max_length=8)
    kind: str = Field(default="reply", max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending | sending | sent | failed
    attempts: int = 0
    error: str | None = Field(default=None, max_length=200)
    created_at: datetime = ts_field()
    claimed_at: datetime | None = ts_field_opt()
    # The token of the `emas serve` that claimed the row (PostgreSQL; see Database.presence).
    claimed_by: int | None = Field(default=None, sa_type=BigInteger)
    sent_at: datetime | None = ts_field_opt()
