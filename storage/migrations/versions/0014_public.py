"""The public side: which photos and notes staff approved for the public report page.

Revision ID: 0014_public
Revises: 0013_open311
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0014_public"
down_revision: str | Sequence[str] | None = "0013_open311"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_publication",
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id"), primary_key=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("description_edited", sa.Boolean(), nullable=False),
        sa.Column("description_by", sa.Integer(), sa.ForeignKey("staff_member.id"),
                  nullable=True),
        sa.Column("description_at", UTCDateTime(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "public_photo",
        sa.Column("photo_id", sa.Integer(), sa.ForeignKey("report_photo.id"), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id"), nullable=False),
        sa.Column("approved_by", sa.Integer(), sa.ForeignKey("staff_member.id"),
                  nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_public_photo_report_id", "public_photo", ["report_id"])
    op.create_table(
        "public_note",
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("report_event.id"), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id"), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("staff_member.id"),
                  nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_public_note_report_id", "public_note", ["report_id"])


def downgrade() -> None:
    op.drop_table("public_note")
    op.drop_table("public_photo")
    op.drop_table("report_publication")
