"""Outreach tables: tracked sources (posters, school visits, events, social posts), where each
resident came from and how they heard of the service, the questions they asked, and their
suggestions to the city."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

import storage.models.agency  # noqa: F401  (the tables this module's foreign keys point to)
import storage.models.report  # noqa: F401
from storage.types import ts_field, ts_field_opt


class OutreachSource(SQLModel, table=True):
    """A place residents meet the service: a banner, a school visit, an event, a social post.
    Its code travels in the Telegram deep link and the WhatsApp text of its QR code."""

    __tablename__ = "outreach_source"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=80)
    kind: str = Field(max_length=16)  # poster | school | event | social
    created_by: str = Field(default="operator", max_length=128)
    created_at: datetime = ts_field()


class ResidentOrigin(SQLModel, table=True):
    """Where one resident came from: the first tracked source they arrived through (first touch
    wins and is never overwritten), and their answer to "how did you hear of the service?"."""

    __tablename__ = "resident_origin"

    identity_id: int = Field(foreign_key="identity.id", primary_key=True)
    source_id: int | None = Field(default=None, foreign_key="outreach_source.id", index=True)
    source_at: datetime | None = ts_field_opt()
    # Their very first message came through the source: a join the source brought.
    joined: bool = False
    heard: str | None = Field(default=None, max_length=24, index=True)
    heard_asked_at: datetime | None = ts_field_opt()
    heard_at: datetime | None = ts_field_opt()


class QuestionAsked(SQLModel, table=True):
    """A question a resident typed to the bot (answered from the FAQ or passed to staff): who,
    when and from which kelurahan, never the words (those stay with the FAQ's own tables)."""

    __tablename__ = "question_asked"

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identity.id", index=True)
    kelurahan_code: str | None = Field(default=None, max_length=20)
    at: datetime = ts_field(index=True)


class Suggestion(SQLModel, table=True):
    """A resident's suggestion to the city government ("Saran untuk Pemkot"): not a report, so
    no agency and no deadline; Kominfo may answer it once, through the resident's chat."""

    __tablename__ = "suggestion"

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identity.id", index=True)
    channel: str = Field(max_length=16)
    theme: str = Field(max_length=16, index=True)  # service | app | bot | other
    app: str | None = Field(default=None, max_length=48)  # an app of the city pack, for "app"
    text: str = Field(sa_column=Column(Text, nullable=False))
    kelurahan_code: str | None = Field(default=None, max_length=20, index=True)
    created_at: datetime = ts_field(index=True)
    reply: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    replied_by: int | None = Field(default=None, foreign_key="staff_member.id")
    replied_at: datetime | None = ts_field_opt()
