"""Listening: polls, quizzes and their answers.

Revision ID: 0015_listening
Revises: 0014_public
"""

from collections.abc import Sequence

revision: str = "0015_listening"
down_revision: str | Sequence[str] | None = "0014_public"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
