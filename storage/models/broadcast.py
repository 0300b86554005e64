"""Broadcast tables: groups, subscribers, relays, campaigns, deliveries and their reach."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

import storage.models.report  # noqa: F401  (the tables this module's foreign keys point to)
from storage.types import UTCDateTime, ts_field, ts_field_opt


class CampaignStatus(StrEnum):
    """draft → pending_approval → approved → scheduled/sending ⇄ paused → completed | cancelled"""

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    """One recipient's copy of a campaign: queued → sending → sent → delivered → read, or
    failed / skipped with a reason."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    SKIPPED = "skipped"


class BroadcastGroup(SQLModel, table=True):
    """An audience people subscribe to: a KIM (per kelurahan or kecamatan), C-Gen, a topic."""

    __tablename__ = "broadcast_group"

    key: str = Field(primary_key=True, max_length=48)
    kind: str = Field(max_length=16)  # kim | community | topic
    kecamatan_code: str | None = Field(default=None, max_length=16)
    kelurahan_code: str | None = Field(default=None, max_length=20)
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    position: int = 0
    active: bool = True


class Subscriber(SQLModel, table=True):
    """Someone (or a group chat) who receives broadcasts on one channel address.

    Imported people carry only channel and address; they are matched to their Identity by the
    same pair once they write to the bot, so opt-outs and language follow them.
    """

    __tablename__ = "subscriber"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=64)
    identity_id: int | None = Field(default=None, foreign_key="identity.id", index=True)
    name: str | None = Field(default=None, max_length=128)
    kelurahan_code: str | None = Field(default=None, max_length=20, index=True)
    locale: str | None = Field(default=None, max_length=8)
    is_group: bool = False
    role: str = Field(default="resident", max_length=16)
    consent_source: str | None = Field(default=None, max_length=200)
    source: str = Field(default="chat", max_length=16)  # chat | import | relay | group_link
    stopped: bool = False
    stopped_at: datetime | None = ts_field_opt()
    stop_reason: str | None = Field(default=None, max_length=32)
    # Attribution: the relay (and campaign) whose link brought this subscriber in.
    joined_relay_id: int | None = None
    joined_campaign_id: int | None = None
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()


class Subscription(SQLModel, table=True):
    __tablename__ = "subscription"

    subscriber_id: int = Field(foreign_key="subscriber.id", primary_key=True)
    group_key: str = Field(foreign_key="broadcast_group.key", primary_key=True, index=True)
    created_at: datetime = ts_field()


class Relay(SQLModel, table=True):
    """A kepala lingkungan who forwards campaigns to their neighbourhood."""

    __tablename__ = "relay"

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", unique=True)
    code: str = Field(unique=True, max_length=16)  # the personal join code
    kelurahan_code: str = Field(max_length=20, index=True)
    lingkungan: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=128)
    active: bool = True
    created_at: datetime = ts_field()


class BroadcastCode(SQLModel, table=True):
    """A one-time code: a relay invitation or the link of a KIM's own group chat."""

    __tablename__ = "broadcast_code"

    code: str = Field(primary_key=True, max_length=32)
    purpose: str = Field(max_length=16)  # relay_invite | group_link
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str | None = Field(default=None, max_length=128)
    created_at: datetime = ts_field()
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = ts_field_opt()


class Campaign(SQLModel, table=True):
    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    status: str = Field(default=CampaignStatus.DRAFT, max_length=20, index=True)
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    image_path: str | None = Field(default=None, max_length=255)
    link_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    link_label: str | None = Field(default=None, max_length=64)
    whatsapp_template_sid: str | None = Field(default=None, max_length=64)
    send_at: datetime | None = ts_field_opt()
    repeat_weekly: bool = False
    parent_id: int | None = Field(default=None, foreign_key="campaign.id")
    created_by: str = Field(max_length=128)
    # Where the reach summary goes when the campaign finishes (the sender's chat, if any).
    notify_channel: str | None = Field(default=None, max_length=16)
    notify_address: str | None = Field(default=None, max_length=64)
    notify_locale: str | None = Field(default=None, max_length=8)
    requires_approval: bool = False
    approved_by: str | None = Field(default=None, max_length=128)
    approved_at: datetime | None = ts_field_opt()
    link_salt: str = Field(max_length=32)
    expanded_upto: int = 0  # subscriber id up to which deliveries exist
    expanded: bool = False
    created_at: datetime = ts_field()
    started_at: datetime | None = ts_field_opt()
    finished_at: datetime | None = ts_field_opt()
    summary_sent: bool = False


class CampaignText(SQLModel, table=True):
    __tablename__ = "campaign_text"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    locale: str = Field(primary_key=True, max_length=8)
    text: str = Field(sa_column=Column(Text, nullable=False))


class Delivery(SQLModel, table=True):
    """One campaign to one recipient: the outbox row a dispatcher claims, sends and records."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id"),
        Index("ix_delivery_claim", "campaign_id", "channel", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    subscriber_id: int = Field(foreign_key="subscriber.id")
    channel: str = Field(max_length=16)
    address: str = Field(max_length=64)
    kelurahan_code: str | None = Field(default=None, max_length=20)
    locale: str = Field(default="id", max_length=8)
    relay_id: int | None = None
    is_group: bool = False
    status: str = Field(default=DeliveryStatus.QUEUED, max_length=12)
    reason: str | None = Field(default=None, max_length=32)
    attempts: int = 0  # sends refused so far (5xx, timeouts); a dispatcher dying does not count
    next_attempt_at: datetime = ts_field()
    claimed_by: str | None = Field(default=None, max_length=40)
    claimed_at: datetime | None = ts_field_opt()
    sent_at: datetime | None = ts_field_opt()
    provider_id: str | None = Field(default=None, max_length=64, index=True)


class LinkClick(SQLModel, table=True):
    __tablename__ = "link_click"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    delivery_id: int | None = None
    kelurahan_code: str | None = Field(default=None, max_length=20)
    at: datetime = ts_field()


class RelayForward(SQLModel, table=True):
    __tablename__ = "relay_forward"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    relay_id: int = Field(foreign_key="relay.id")
    delivery_id: int = Field(unique=True)
    at: datetime = ts_field()


class RelayJoin(SQLModel, table=True):
    """A resident who subscribed through a relay's personal link."""

    __tablename__ = "relay_join"
    __table_args__ = (UniqueConstraint("relay_id", "subscriber_id"),)

    id: int | None = Field(default=None, primary_key=True)
    relay_id: int = Field(foreign_key="relay.id", index=True)
    campaign_id: int | None = Field(default=None, index=True)
    subscriber_id: int = Field(foreign_key="subscriber.id")
    at: datetime = ts_field()


class Dispatcher(SQLModel, table=True):
    """A running dispatcher's heartbeat: claims of one silent too long are taken over."""

    __tablename__ = "dispatcher"

    id: str = Field(primary_key=True, max_length=40)
    started_at: datetime = ts_field()
    seen_at: datetime = ts_field()
    # Its process, to know it dead at once when it was killed: the machine and process id
    # (SQLite) and the PostgreSQL presence token (storage.db).
    host: str | None = Field(default=None, max_length=64)
    pid: int | None = None
    presence: int | None = Field(default=None, sa_type=BigInteger)
