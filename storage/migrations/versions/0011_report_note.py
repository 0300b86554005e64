"""Staff's notes on a report: internal ones, and messages sent to the reporter.

Revision ID: 0011_report_note
Revises: 0010_console
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0011_report_note"
down_revision: str | Sequence[str] | None = "0010_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id"), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_member.id"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("to_resident", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_report_note_report_id", "report_note", ["report_id"])


def downgrade() -> None:
    op.drop_table("report_note")
