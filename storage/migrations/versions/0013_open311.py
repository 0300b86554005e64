"""Open311 partners: API keys (stored hashed) and the source of a report posted through GeoReport v2.

Revision ID: 0013_open311
Revises: 0012_inbox_indexes
"""

from collections.abc import Sequence

revision: str = "0013_open311"
down_revision: str | Sequence[str] | None = "0012_inbox_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
