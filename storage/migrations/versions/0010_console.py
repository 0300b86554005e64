"""The staff console: login links, sessions, the audit log, each report's current deadline
and each staff member's console language.

Revision ID: 0010_console
Revises: 0009_report_voice
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0010_console"
down_revision: str | Sequence[str] | None = "0009_report_voice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_login",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_member.id"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_console_login_staff_id", "console_login", ["staff_id"])
    op.create_table(
        "console_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_member.id"), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_console_session_staff_id", "console_session", ["staff_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_member.id"), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_index("ix_audit_log_staff_at", "audit_log", ["staff_id", "at"])
    with op.batch_alter_table("report") as batch:
        batch.add_column(sa.Column("due_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_report_due_at", ["due_at"])
    with op.batch_alter_table("staff_member") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=8), nullable=False,
                                   server_default="id"))


def downgrade() -> None:
    with op.batch_alter_table("staff_member") as batch:
        batch.drop_column("locale")
    with op.batch_alter_table("report") as batch:
        batch.drop_index("ix_report_due_at")
        batch.drop_column("due_at")
    op.drop_table("audit_log")
    op.drop_table("console_session")
    op.drop_table("console_login")
