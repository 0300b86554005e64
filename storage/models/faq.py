"""FAQ tables: how often each article is shown, residents' "Was this helpful?" answers, and the
questions they pass to staff."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

import storage.models.report  # noqa: F401  (the tables this module's foreign keys point to)
from storage.types import ts_field, ts_field_opt


class QuestionStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class FaqView(SQLModel, table=True):
    """How many times an article was opened on one day (in the city's zone): a counter, not a
    log, so it says nothing about who read it."""

    __tablename__ = "faq_view"

    article: str = Field(primary_key=True, max_length=64)  # the article's slug
    day: date = Field(primary_key=True)
    shown: int = 0


class FaqFeedback(SQLModel, table=True):
    """One answer to "Was this helpful?" under an article."""

    __tablename__ = "faq_feedback"

    id: int | None = Field(default=None, primary_key=True)
    article: str = Field(max_length=64, index=True)  # the article's slug
    identity_id: int = Field(foreign_key="identity.id", index=True)
    helpful: bool
    at: datetime = ts_field()


class FaqQuestion(SQLModel, table=True):
    """A question the bot could not answer, passed to Kominfo staff; the answer goes back to
    the resident on the channel they asked from. The text is kept because staff must read it
    to answer."""

    __tablename__ = "faq_question"

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identity.id", index=True)
    channel: str = Field(max_length=16)
    user_key: str = Field(max_length=64)
    locale: str = Field(default="id", max_length=8)
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=QuestionStatus.OPEN, max_length=16, index=True)
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: str | None = Field(default=None, max_length=128)
    created_at: datetime = ts_field(index=True)
    answered_at: datetime | None = ts_field_opt()
    # Set once the answer has been handed to the resident's channel.
    delivered_at: datetime | None = ts_field_opt(index=True)
