"""Listening: polls, quizzes and their answers.

Revision ID: 0015_listening
Revises: 0014_public
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.types import UTCDateTime

revision: str = "0015_listening"
down_revision: str | Sequence[str] | None = "0014_public"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString  # type: ignore[attr-defined]


def upgrade() -> None:
    op.create_table(
        "poll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _str(length=8), nullable=False),
        sa.Column("title", _str(length=200), nullable=False),
        sa.Column("status", _str(length=12), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("share_results", sa.Boolean(), nullable=False),
        sa.Column("whatsapp_template_sid", _str(length=64), nullable=True),
        sa.Column("opens_at", UTCDateTime(), nullable=True),
        sa.Column("closes_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", _str(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", _str(length=128), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("results_campaign_id", sa.Integer(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["results_campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_poll_status", "poll", ["status"])
    op.create_index("ix_poll_campaign_id", "poll", ["campaign_id"])
    op.create_index("ix_poll_results_campaign_id", "poll", ["results_campaign_id"])
    op.create_table(
        "poll_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("allow_text", sa.Boolean(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "position"),
    )
    op.create_table(
        "poll_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("channel", _str(length=16), nullable=False),
        sa.Column("kelurahan_code", _str(length=20), nullable=True),
        sa.Column("option", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.ForeignKeyConstraint(["question_id"], ["poll_question.id"]),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("question_id", "subscriber_id"),
    )
    op.create_index("ix_poll_answer_poll_subscriber", "poll_answer",
                    ["poll_id", "subscriber_id"])
    op.create_table(
        "quiz_participant",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("institution", _str(length=120), nullable=True),
        sa.Column("institution_key", _str(length=120), nullable=True),
        sa.Column("institution_kind", _str(length=8), nullable=True),
        sa.Column("stated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"]),
        sa.PrimaryKeyConstraint("subscriber_id"),
    )
    op.create_index("ix_quiz_participant_institution_key", "quiz_participant",
                    ["institution_key"])


def downgrade() -> None:
    op.drop_index("ix_quiz_participant_institution_key", table_name="quiz_participant")
    op.drop_table("quiz_participant")
    op.drop_index("ix_poll_answer_poll_subscriber", table_name="poll_answer")
    op.drop_table("poll_answer")
    op.drop_table("poll_question")
    op.drop_index("ix_poll_results_campaign_id", table_name="poll")
    op.drop_index("ix_poll_campaign_id", table_name="poll")
    op.drop_index("ix_poll_status", table_name="poll")
    op.drop_table("poll")
