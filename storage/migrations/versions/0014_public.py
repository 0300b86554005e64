"""The public side: which photos and notes staff approved for the public report page.

Revision ID: 0014_public
Revises: 0013_open311
"""

from collections.abc import Sequence

revision: str = "0014_public"
down_revision: str | Sequence[str] | None = "0013_open311"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
