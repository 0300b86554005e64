"""Listening tables: polls and quizzes, their questions, residents' answers, and the school or
campus a quiz participant stated."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

import storage.models.broadcast  # noqa: F401  (the tables this module's foreign keys point to)
from storage.types import ts_field, ts_field_opt


class PollKind(StrEnum):
    POLL = "poll"  # one question, answers may change until it closes
    QUIZ = "quiz"  # questions in a row with correct answers and points; answers are final


class PollStatus(StrEnum):
    """draft → open (sending, or scheduled until `opens_at`) → closed; a draft may be
    cancelled."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Poll(SQLModel, table=True):
    """A poll or a quiz: its audience (as a campaign's), when it opens and closes, and the
    campaigns that carry its question and, at the close, its results."""

    __tablename__ = "poll"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default=PollKind.POLL, max_length=8)
    title: str = Field(max_length=200)
    status: str = Field(default=PollStatus.DRAFT, max_length=12, index=True)
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    share_results: bool = False
    whatsapp_template_sid: str | None = Field(default=None, max_length=64)
    opens_at: datetime | None = ts_field_opt()  # None: as soon as it is sent
    closes_at: datetime | None = ts_field_opt()  # None: until staff close it
    created_by: str = Field(max_length=128)
    created_at: datetime = ts_field()
    sent_at: datetime | None = ts_field_opt()
    closed_at: datetime | None = ts_field_opt()
    closed_by: str | None = Field(default=None, max_length=128)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    results_campaign_id: int | None = Field(default=None, foreign_key="campaign.id",
                                            index=True)
    # The figures as they stood at the close: what respondents are sent back.
    results: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class PollQuestion(SQLModel, table=True):
    """One question: its text and option labels per language ({"id": ..., "en": ...})."""

    __tablename__ = "poll_question"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id")
    position: int = 0
    texts: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    options: list[dict[str, str]] = Field(default_factory=list,
                                          sa_column=Column(JSON, nullable=False))
    allow_text: bool = False  # an answer in the resident's own words
    correct: int | None = None  # a quiz: the index of the right option
    points: int = 0


class PollAnswer(SQLModel, table=True):
    """A respondent's answer to one question: one per person, the latest counts."""

    __tablename__ = "poll_answer"
    __table_args__ = (
        UniqueConstraint("question_id", "subscriber_id"),
        Index("ix_poll_answer_poll_subscriber", "poll_id", "subscriber_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id")
    question_id: int = Field(foreign_key="poll_question.id")
    subscriber_id: int = Field(foreign_key="subscriber.id")
    delivery_id: int | None = None
    channel: str = Field(max_length=16)
    kelurahan_code: str | None = Field(default=None, max_length=20)
    option: int | None = None
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    correct: bool | None = None
    points: int = 0
    changes: int = 0  # how often the answer was changed
    answered_at: datetime = ts_field()
    updated_at: datetime = ts_field()


class QuizParticipant(SQLModel, table=True):
    """The school or campus a subscriber stated once, for the quizzes' leaderboards (no
    institution: they said they are at neither, and are not asked again)."""

    __tablename__ = "quiz_participant"

    subscriber_id: int = Field(foreign_key="subscriber.id", primary_key=True)
    institution: str | None = Field(default=None, max_length=120)
    institution_key: str | None = Field(default=None, max_length=120, index=True)
    institution_kind: str | None = Field(default=None, max_length=8)  # school | campus
    stated_at: datetime = ts_field()
