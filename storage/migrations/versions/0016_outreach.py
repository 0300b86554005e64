"""Outreach: suggestions to the city, how residents heard of the service, tracked sources.

Revision ID: 0016_outreach
Revises: 0015_listening
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0016_outreach"
down_revision: str | Sequence[str] | None = "0015_listening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outreach_source",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(length=32), nullable=False, unique=True),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "resident_origin",
        sa.Column("identity_id", sa.Integer(), sa.ForeignKey("identity.id"), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("outreach_source.id"),
                  nullable=True),
        sa.Column("source_at", UTCDateTime(), nullable=True),
        sa.Column("joined", sa.Boolean(), nullable=False),
        sa.Column("heard", sa.String(length=24), nullable=True),
        sa.Column("heard_asked_at", UTCDateTime(), nullable=True),
        sa.Column("heard_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_resident_origin_source_id", "resident_origin", ["source_id"])
    op.create_index("ix_resident_origin_heard", "resident_origin", ["heard"])
    op.create_table(
        "question_asked",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("identity_id", sa.Integer(), sa.ForeignKey("identity.id"), nullable=False),
        sa.Column("kelurahan_code", sa.String(length=20), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_question_asked_identity_id", "question_asked", ["identity_id"])
    op.create_index("ix_question_asked_at", "question_asked", ["at"])
    op.create_table(
        "suggestion",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("identity_id", sa.Integer(), sa.ForeignKey("identity.id"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("theme", sa.String(length=16), nullable=False),
        sa.Column("app", sa.String(length=48), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kelurahan_code", sa.String(length=20), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_by", sa.Integer(), sa.ForeignKey("staff_member.id"), nullable=True),
        sa.Column("replied_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_suggestion_identity_id", "suggestion", ["identity_id"])
    op.create_index("ix_suggestion_theme", "suggestion", ["theme"])
    op.create_index("ix_suggestion_kelurahan_code", "suggestion", ["kelurahan_code"])
    op.create_index("ix_suggestion_created_at", "suggestion", ["created_at"])


def downgrade() -> None:
    op.drop_table("suggestion")
    op.drop_table("question_asked")
    op.drop_table("resident_origin")
    op.drop_table("outreach_source")
