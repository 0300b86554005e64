"""Outbound messages on any channel: what was sent to whom, and how far it got."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

import storage.models.report  # noqa: F401  (the tables this module's foreign keys point to)
from storage.types import ts_field


class OutboundStatus(StrEnum):
    PENDING_WINDOW = "pending_window"  # waits until the resident next writes (WhatsApp)
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    SKIPPED = "skipped"  # not sent on purpose: the person opted out


# How far along a status is; a late or repeated callback never moves a message backwards.
STATUS_RANK: dict[str, int] = {
    OutboundStatus.PENDING_WINDOW: 0,
    OutboundStatus.QUEUED: 1,
    OutboundStatus.SENT: 2,
    OutboundStatus.DELIVERED: 3,
    OutboundStatus.READ: 4,
    OutboundStatus.FAILED: 5,
    OutboundStatus.UNDELIVERED: 5,
    OutboundStatus.SKIPPED: 5,
}


class OutboundMessage(SQLModel, table=True):
    """One message handed to a channel's provider. The text itself is not kept (privacy);
    only its length."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_message_provider_id", "provider_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    provider_id: str | None = Field(default=None, max_length=64)  # e.g. the Twilio SM... sid
    identity_id: int | None = Field(default=None, foreign_key="identity.id", index=True)
    user_key: str = Field(max_length=64)
    kind: str = Field(default="reply", max_length=32)  # "reply", a notification kind, "broadcast"
    status: str = Field(default=OutboundStatus.QUEUED, max_length=16, index=True)
    error_code: int | None = None
    body_length: int = 0
    delivery_id: int | None = Field(default=None, index=True)  # set for broadcast deliveries
    created_at: datetime = ts_field(index=True)
    updated_at: datetime = ts_field()


class PendingMessage(SQLModel, table=True):
    """The text of a message waiting for the resident's next message (outside WhatsApp's
    24-hour window, no template). Deleted as soon as it is sent."""

    __tablename__ = "pending_message"

    id: int | None = Field(default=None, primary_key=True)
    outbound_id: int = Field(foreign_key="outbound_message.id", unique=True)
    identity_id: int = Field(foreign_key="identity.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = ts_field()
