"""Per-account limits that staff lift for one person.

Revision ID: 0007_limit_lift
Revises: 0006_merge_features
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0007_limit_lift"
down_revision: str | Sequence[str] | None = "0006_merge_features"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "limit_lift",
        sa.Column("identity_id", sa.Integer(), sa.ForeignKey("identity.id"), primary_key=True),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("lifted_by", sa.String(length=128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("limit_lift")
