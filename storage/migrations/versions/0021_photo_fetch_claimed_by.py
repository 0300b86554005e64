"""Which process is downloading a late photo: on PostgreSQL its presence token, so that the
downloads of a process that died are taken up at once by another instead of when their claim
times out.

Revision ID: 0021_photo_fetch_claimed_by
Revises: 0020_dispatcher_process
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_photo_fetch_claimed_by"
down_revision: str | Sequence[str] | None = "0020_dispatcher_process"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("photo_fetch") as batch:
        batch.add_column(sa.Column("claimed_by", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photo_fetch") as batch:
        batch.drop_column("claimed_by")
