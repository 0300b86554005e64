"""agencies: staff, linked groups, link codes, supporters, ratings, reminders, outbox

Revision ID: 0004_agencies
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import storage.types

revision: str = "0004_agencies"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = storage.types.UTCDateTime


def _str(length: int) -> AutoString:
    return AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "staff_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", _str(16), nullable=False),
        sa.Column("user_key", _str(64), nullable=False),
        sa.Column("role", _str(16), nullable=False),
        sa.Column("agency_key", AutoString(), nullable=True),
        sa.Column("name", _str(128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_key"], ["agency.key"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "user_key"),
    )
    op.create_index("ix_staff_member_agency_key", "staff_member", ["agency_key"])

    op.create_table(
        "agency_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_key", AutoString(), nullable=False),
        sa.Column("channel", _str(16), nullable=False),
        sa.Column("chat_key", _str(64), nullable=False),
        sa.Column("locale", _str(8), nullable=False),
        sa.Column("linked_by", sa.Integer(), nullable=True),
        sa.Column("linked_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_key"], ["agency.key"]),
        sa.ForeignKeyConstraint(["linked_by"], ["identity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "chat_key"),
    )
    op.create_index("ix_agency_group_agency_key", "agency_group", ["agency_key"])

    op.create_table(
        "link_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_key", AutoString(), nullable=False),
        sa.Column("code_hash", _str(64), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("expires_at", _TS(timezone=True), nullable=False),
        sa.Column("used_at", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency_key"], ["agency.key"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )

    op.create_table(
        "supporter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.ForeignKeyConstraint(["identity_id"], ["identity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "identity_id"),
    )
    op.create_index("ix_supporter_report_id", "supporter", ["report_id"])

    op.create_table(
        "rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("resolved_event_id", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.Boolean(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.ForeignKeyConstraint(["identity_id"], ["identity.id"]),
        sa.ForeignKeyConstraint(["resolved_event_id"], ["report_event.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "identity_id", "resolved_event_id"),
    )
    op.create_index("ix_rating_report_id", "rating", ["report_id"])
    op.create_index("ix_rating_created_at", "rating", ["created_at"])

    op.create_table(
        "reminder_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("stage", _str(16), nullable=False),
        sa.Column("step", _str(32), nullable=False),
        sa.Column("anchor_event_id", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("sent_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.ForeignKeyConstraint(["anchor_event_id"], ["report_event.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "stage", "step", "anchor_event_id"),
    )
    op.create_index("ix_reminder_sent_report_id", "reminder_sent", ["report_id"])

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=True),
        sa.Column("channel", _str(16), nullable=False),
        sa.Column("user_key", _str(64), nullable=False),
        sa.Column("locale", _str(8), nullable=False),
        sa.Column("kind", _str(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", _str(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", _str(200), nullable=True),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("claimed_at", _TS(timezone=True), nullable=True),
        sa.Column("sent_at", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["identity_id"], ["identity.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notification_status_id", "notification", ["status", "id"])

    # SQLite cannot add a column with a foreign key in place: batch mode rebuilds the table.
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("handler_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_report_duplicate_of", "report", ["duplicate_of"], ["id"])
        batch_op.create_foreign_key("fk_report_handler_id", "identity", ["handler_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint("fk_report_handler_id", type_="foreignkey")
        batch_op.drop_constraint("fk_report_duplicate_of", type_="foreignkey")
        batch_op.drop_column("handler_id")
        batch_op.drop_column("duplicate_of")
    op.drop_index("ix_notification_status_id", table_name="notification")
    op.drop_table("notification")
    op.drop_index("ix_reminder_sent_report_id", table_name="reminder_sent")
    op.drop_table("reminder_sent")
    op.drop_index("ix_rating_created_at", table_name="rating")
    op.drop_index("ix_rating_report_id", table_name="rating")
    op.drop_table("rating")
    op.drop_index("ix_supporter_report_id", table_name="supporter")
    op.drop_table("supporter")
    op.drop_table("link_code")
    op.drop_index("ix_agency_group_agency_key", table_name="agency_group")
    op.drop_table("agency_group")
    op.drop_index("ix_staff_member_agency_key", table_name="staff_member")
    op.drop_table("staff_member")
