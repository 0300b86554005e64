"""Outreach: suggestions to the city, how residents heard of the service, tracked sources.

Revision ID: 0016_outreach
Revises: 0015_listening
"""

from collections.abc import Sequence

revision: str = "0016_outreach"
down_revision: str | Sequence[str] | None = "0015_listening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
