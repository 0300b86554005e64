"""Foundation tables: identities, conversations, inbound events, reference data, reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import ts_field, ts_field_opt


class Identity(SQLModel, table=True):
    """A person on one channel (a Telegram chat id, a WhatsApp number, a terminal user)."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("channel", "user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    user_key: str = Field(max_length=64)
    locale: str | None = Field(default=None, max_length=8)
    locale_chosen: bool = False
    display_name: str | None = Field(default=None, max_length=128)
    phone: str | None = Field(default=None, max_length=20)
    opted_out: bool = False
    created_at: datetime = ts_field()
    last_inbound_at: datetime | None = ts_field_opt()


class LimitLift(SQLModel, table=True):
    """Staff lifted the per-account limits for one person until `until` (an office that files
    on behalf of many residents, say)."""

    __tablename__ = "limit_lift"

    identity_id: int = Field(foreign_key="identity.id", primary_key=True)
    until: datetime = ts_field()
    lifted_by: str = Field(max_length=128)


class Conversation(SQLModel, table=True):
    """Where a person stands in a flow; `version` guards against concurrent writers."""

    __tablename__ = "conversation"

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identity.id", unique=True)
    flow: str = Field(default="menu", max_length=32)
    state: str = Field(default="start", max_length=48)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 0
    updated_at: datetime = ts_field()


class InboundEvent(SQLModel, table=True):
    """Every processed channel event id, so a redelivered webhook has no second effect."""

    __tablename__ = "inbound_event"
    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    event_id: str = Field(max_length=64)
    received_at: datetime = ts_field(index=True)


class Kecamatan(SQLModel, table=True):
    __tablename__ = "kecamatan"

    code: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=64)


class Kelurahan(SQLModel, table=True):
    __tablename__ = "kelurahan"

    code: str = Field(primary_key=True, max_length=20)
    kecamatan_code: str = Field(foreign_key="kecamatan.code", index=True)
    name: str = Field(max_length=64)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Agency(SQLModel, table=True):
    __tablename__ = "agency"

    key: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=160)
    short_name: str = Field(max_length=48)
    external: bool = False
    contact: str | None = Field(default=None, max_length=200)


class Category(SQLModel, table=True):
    __tablename__ = "category"

    key: str = Field(primary_key=True, max_length=32)
    position: int = 0
    agency_key: str = Field(foreign_key="agency.key")
    confidential: bool = False
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    hints: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    referral: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    verify_days: int = 3
    answer_days: int = 5
    emergency_hint: bool = False
    keywords: dict[str, list[str]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )


class RoutingOverride(SQLModel, table=True):
    """A kecamatan that sends one category to another agency than the default."""

    __tablename__ = "routing_override"

    category_key: str = Field(foreign_key="category.key", primary_key=True)
    kecamatan_code: str = Field(foreign_key="kecamatan.code", primary_key=True)
    agency_key: str = Field(foreign_key="agency.key")


class TicketCounter(SQLModel, table=True):
    __tablename__ = "ticket_counter"

    city_code: str = Field(primary_key=True, max_length=8)
    year: int = Field(primary_key=True)
    value: int = 0


class Report(SQLModel, table=True):
    __tablename__ = "report"
    # The console's inbox: an agency's reports by status, and a status's in deadline order.
    __table_args__ = (Index("ix_report_agency_status", "agency_key", "status"),
                      Index("ix_report_status_due", "status", "due_at"),
                      # Open reports of a category in a kelurahan or nearby (duplicates).
                      Index("ix_report_category_status", "category_key", "status",
                            "kelurahan_code", "latitude", "longitude"))

    id: int | None = Field(default=None, primary_key=True)
    ticket: str = Field(unique=True, max_length=24)
    status: str = Field(default="submitted", max_length=16, index=True)
    category_key: str = Field(foreign_key="category.key", index=True)
    agency_key: str | None = Field(default=None, foreign_key="agency.key", index=True)
    kecamatan_code: str | None = Field(default=None, foreign_key="kecamatan.code")
    kelurahan_code: str | None = Field(default=None, foreign_key="kelurahan.code", index=True)
    address: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    description: str = Field(sa_column=Column(Text, nullable=False))
    latitude: float | None = None
    longitude: float | None = None
    channel: str = Field(max_length=16)
    reporter_id: int = Field(foreign_key="identity.id", index=True)
    anonymous: bool = False
    locale: str = Field(default="id", max_length=8)
    created_at: datetime = ts_field(index=True)
    updated_at: datetime = ts_field()
    # Agencies' side (migration 0004): the earlier report this one repeats, and the officer
    # who took it.
    duplicate_of: int | None = Field(default=None, foreign_key="report.id")
    handler_id: int | None = Field(default=None, foreign_key="identity.id")
    # The deadline of the stage the report is in (None when no clock runs): kept by the
    # lifecycle at each move so the console sorts and flags overdue reports without reading
    # every history (migration 0010).
    due_at: datetime | None = ts_field_opt(index=True)


class ReportPhoto(SQLModel, table=True):
    __tablename__ = "report_photo"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    path: str = Field(max_length=255)  # relative to EMAS_DATA_DIR/media
    content_type: str = Field(max_length=64)
    size: int
    sha256: str = Field(max_length=64)
    stage: str = Field(default="before", max_length=16)  # before | after
    created_at: datetime = ts_field()


class ReportVoice(SQLModel, table=True):
    """A voice note the resident sent with a report: for the staff handling it to listen to,
    never shown to the public or to other residents."""

    __tablename__ = "report_voice"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    path: str = Field(max_length=255)  # relative to EMAS_DATA_DIR/media
    content_type: str = Field(max_length=64)
    size: int
    sha256: str = Field(max_length=64)
    created_at: datetime = ts_field()


class PhotoFetch(SQLModel, table=True):
    """A photo a resident sent that was still downloading when the bot answered: fetched in
    the background, kept with the draft, and attached to the report when it arrives (also
    after the report was sent). Pending rows outlive a crash: they are fetched again by
    their channel reference."""

    __tablename__ = "photo_fetch"

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identity.id", index=True)
    channel: str = Field(max_length=16)
    ref: str = Field(sa_column=Column(Text, nullable=False))  # the channel's file id or URL
    declared_size: int | None = None
    status: str = Field(default="pending", max_length=16, index=True)  # pending | done | failed
    reason: str | None = Field(default=None, max_length=32)
    attempts: int = 0
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    path: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=64)
    size: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    created_at: datetime = ts_field()
    claimed_at: datetime | None = ts_field_opt()
    # PostgreSQL: the presence token of the process downloading it (storage.db).
    claimed_by: int | None = Field(default=None, sa_type=BigInteger)
    finished_at: datetime | None = ts_field_opt()


class ReportEvent(SQLModel, table=True):
    """One step of a report's history: the status it moved to, when, by whom, and why."""

    __tablename__ = "report_event"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    status: str = Field(max_length=16)
    at: datetime = ts_field()
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    actor_id: int | None = Field(default=None, foreign_key="identity.id")
