"""Tables for the city's partners on Open311 GeoReport v2: their API keys, and what a request
posted through the API carried besides the report itself (kept for staff only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

import storage.models.report  # noqa: F401  (the tables this module's foreign keys point to)
from storage.types import ts_field, ts_field_opt


class ApiKey(SQLModel, table=True):
    """A partner's key for posting requests. The key itself is shown once when it is made; the
    table keeps only its SHA-256, so a copy of the database posts nothing."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = ts_field()
    last_used_at: datetime | None = ts_field_opt()
    revoked_at: datetime | None = ts_field_opt()


class ServiceRequest(SQLModel, table=True):
    """A report that came in through Open311: which key posted it, the token the partner
    follows it by, and what the partner sent that the report itself does not hold. The
    contact, the device and the media URL are for staff only: no public answer carries them."""

    __tablename__ = "service_request"
    # How many requests one key posted in the last hour (its rate limit).
    __table_args__ = (Index("ix_service_request_key_at", "api_key_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", unique=True)
    api_key_id: int = Field(foreign_key="api_key.id")
    token: str = Field(max_length=32, unique=True)
    email: str | None = Field(default=None, max_length=254)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    device_id: str | None = Field(default=None, max_length=128)
    account_id: str | None = Field(default=None, max_length=128)
    media_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The service definition's answers: attribute code -> value (a list for a multivaluelist).
    attributes: dict[str, Any] = Field(default_factory=dict,
                                       sa_column=Column(JSON, nullable=False))
    created_at: datetime = ts_field()
