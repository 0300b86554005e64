"""One head again after the feature branches (outbound, faq, agencies, broadcasts).

Revision ID: 0006_merge_features
Revises: 0002_outbound, 0003_faq, 0004_agencies, 0005_broadcasts
"""

from collections.abc import Sequence

revision: str = "0006_merge_features"
down_revision: str | Sequence[str] | None = (
    "0002_outbound",
    "0003_faq",
    "0004_agencies",
    "0005_broadcasts",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
