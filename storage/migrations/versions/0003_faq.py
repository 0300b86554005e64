"""FAQ feedback and residents' questions to staff

Revision ID: 0003_faq
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0003_faq"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["identity_id"], ["identity.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("faq_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_feedback_article"), ["article"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_faq_feedback_identity_id"), ["identity_id"], unique=False
        )

    op.create_table(
        "faq_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("user_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["identity_id"], ["identity.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("faq_question", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_faq_question_identity_id"), ["identity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_faq_question_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_faq_question_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_faq_question_delivered_at"), ["delivered_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("faq_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_question_delivered_at"))
        batch_op.drop_index(batch_op.f("ix_faq_question_created_at"))
        batch_op.drop_index(batch_op.f("ix_faq_question_status"))
        batch_op.drop_index(batch_op.f("ix_faq_question_identity_id"))
    op.drop_table("faq_question")
    with op.batch_alter_table("faq_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_feedback_identity_id"))
        batch_op.drop_index(batch_op.f("ix_faq_feedback_article"))
    op.drop_table("faq_feedback")
