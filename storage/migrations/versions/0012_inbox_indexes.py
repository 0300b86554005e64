"""Indexes for the console's inbox: an agency's reports by status, and reports by status in
deadline order.

Revision ID: 0012_inbox_indexes
Revises: 0011_report_note
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_inbox_indexes"
down_revision: str | Sequence[str] | None = "0011_report_note"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_report_agency_status", "report", ["agency_key", "status"])
    op.create_index("ix_report_status_due", "report", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_report_status_due", table_name="report")
    op.drop_index("ix_report_agency_status", table_name="report")
