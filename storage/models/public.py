"""Tables for the public side: what staff approved for a report's public page (the
description's public text, photos) and their decisions on which history notes are public."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

import storage.models.agency  # noqa: F401  (the tables this module's foreign keys point to)
import storage.models.report  # noqa: F401
from storage.types import ts_field, ts_field_opt


class ReportPublication(SQLModel, table=True):
    """One report's publishing decisions: the description as the public may read it (the
    resident's words, or staff's edit of them without names or plates), and a revision that
    counts every decision (the console's check that a page is still current)."""

    __tablename__ = "report_publication"

    report_id: int = Field(foreign_key="report.id", primary_key=True)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    description_edited: bool = False  # staff changed the resident's words before publishing
    description_by: int | None = Field(default=None, foreign_key="staff_member.id")
    description_at: datetime | None = ts_field_opt()
    revision: int = 0
    updated_at: datetime = ts_field()


class PublicPhoto(SQLModel, table=True):
    """A report photo staff approved for the public page (faces and plates are their call);
    withdrawing the approval deletes the row."""

    __tablename__ = "public_photo"

    photo_id: int = Field(foreign_key="report_photo.id", primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    approved_by: int = Field(foreign_key="staff_member.id")
    approved_at: datetime = ts_field()


class PublicNote(SQLModel, table=True):
    """Staff's decision on one history note (an agency's progress or resolution note): shown
    on the public page or hidden. Without a row the default applies (reports.publishing)."""

    __tablename__ = "public_note"

    event_id: int = Field(foreign_key="report_event.id", primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    public: bool
    decided_by: int = Field(foreign_key="staff_member.id")
    decided_at: datetime = ts_field()
