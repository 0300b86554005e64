"""Which process a dispatcher runs in: its PostgreSQL presence token, and its machine and process
id (SQLite), so that a dispatcher killed outright is known dead at once and its claims are taken
over without waiting out its lease.

Revision ID: 0020_dispatcher_process
Revises: 0019_report_category_status
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_dispatcher_process"
down_revision: str | Sequence[str] | None = "0019_report_category_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dispatcher") as batch:
        batch.add_column(sa.Column("host", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("presence", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dispatcher") as batch:
        batch.drop_column("presence")
        batch.drop_column("pid")
        batch.drop_column("host")
