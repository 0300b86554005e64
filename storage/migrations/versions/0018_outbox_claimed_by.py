"""Which process claimed an outbox row: on PostgreSQL each `emas serve` holds an advisory lock
named by its token while it lives, so the rows of a process that died are sent again at once
instead of when their claim times out.

Revision ID: 0018_outbox_claimed_by
Revises: 0017_faq_views_audit
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_outbox_claimed_by"
down_revision: str | Sequence[str] | None = "0017_faq_views_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("claimed_by", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("claimed_by")
