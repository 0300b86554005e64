"""outbound messages and messages waiting for the WhatsApp window

Revision ID: 0002_outbound
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002_outbound"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbound_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("identity_id", sa.Integer(), nullable=True),
        sa.Column("user_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("body_length", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["identity_id"], ["identity.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbound_message_provider_id", ["provider_id"], unique=True)
        batch_op.create_index(
            batch_op.f("ix_outbound_message_identity_id"), ["identity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbound_message_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbound_message_delivery_id"), ["delivery_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbound_message_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "pending_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbound_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["identity_id"], ["identity.id"]),
        sa.ForeignKeyConstraint(["outbound_id"], ["outbound_message.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outbound_id"),
    )
    with op.batch_alter_table("pending_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_message_identity_id"), ["identity_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pending_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_message_identity_id"))
    op.drop_table("pending_message")
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_message_created_at"))
        batch_op.drop_index(batch_op.f("ix_outbound_message_delivery_id"))
        batch_op.drop_index(batch_op.f("ix_outbound_message_status"))
        batch_op.drop_index(batch_op.f("ix_outbound_message_identity_id"))
        batch_op.drop_index("ix_outbound_message_provider_id")
    op.drop_table("outbound_message")
