"""broadcasts: groups, subscribers, relays, campaigns, deliveries, reach

Revision ID: 0005_broadcasts
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0005_broadcasts"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString  # type: ignore[attr-defined]
_ts = storage.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "broadcast_group",
        sa.Column("key", _str(length=48), nullable=False),
        sa.Column("kind", _str(length=16), nullable=False),
        sa.Column("kecamatan_code", _str(length=16), nullable=True),
        sa.Column("kelurahan_code", _str(length=20), nullable=True),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "broadcast_code",
        sa.Column("code", _str(length=32), nullable=False),
        sa.Column("purpose", _str(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_by", _str(length=128), nullable=True),
        sa.Column("created_at", _ts(timezone=True), nullable=False),
        sa.Column("expires_at", _ts(timezone=True), nullable=False),
        sa.Column("used_at", _ts(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "dispatcher",
        sa.Column("id", _str(length=40), nullable=False),
        sa.Column("started_at", _ts(timezone=True), nullable=False),
        sa.Column("seen_at", _ts(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", _str(length=16), nullable=False),
        sa.Column("address", _str(length=64), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=True),
        sa.Column("name", _str(length=128), nullable=True),
        sa.Column("kelurahan_code", _str(length=20), nullable=True),
        sa.Column("locale", _str(length=8), nullable=True),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("role", _str(length=16), nullable=False),
        sa.Column("consent_source", _str(length=200), nullable=True),
        sa.Column("source", _str(length=16), nullable=False),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        sa.Column("stopped_at", _ts(timezone=True), nullable=True),
        sa.Column("stop_reason", _str(length=32), nullable=True),
        sa.Column("joined_relay_id", sa.Integer(), nullable=True),
        sa.Column("joined_campaign_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _ts(timezone=True), nullable=False),
        sa.Column("updated_at", _ts(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["identity_id"], ["identity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "address"),
    )
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriber_identity_id"), ["identity_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_subscriber_kelurahan_code"), ["kelurahan_code"],
                              unique=False)
    op.create_table(
        "subscription",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("group_key", _str(), nullable=False),
        sa.Column("created_at", _ts(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_key"], ["broadcast_group.key"]),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"]),
        sa.PrimaryKeyConstraint("subscriber_id", "group_key"),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscription_group_key"), ["group_key"],
                              unique=False)
    op.create_table(
        "relay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("code", _str(length=16), nullable=False),
        sa.Column("kelurahan_code", _str(length=20), nullable=False),
        sa.Column("lingkungan", _str(length=64), nullable=True),
        sa.Column("name", _str(length=128), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _ts(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("subscriber_id"),
    )
    with op.batch_alter_table("relay", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relay_kelurahan_code"), ["kelurahan_code"],
                              unique=False)
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", _str(length=200), nullable=False),
        sa.Column("status", _str(length=20), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("image_path", _str(length=255), nullable=True),
        sa.Column("link_url", sa.Text(), nullable=True),
        sa.Column("link_label", _str(length=64), nullable=True),
        sa.Column("whatsapp_template_sid", _str(length=64), nullable=True),
        sa.Column("send_at", _ts(timezone=True), nullable=True),
        sa.Column("repeat_weekly", sa.Boolean(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_by", _str(length=128), nullable=False),
        sa.Column("notify_channel", _str(length=16), nullable=True),
        sa.Column("notify_address", _str(length=64), nullable=True),
        sa.Column("notify_locale", _str(length=8), nullable=True),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("approved_by", _str(length=128), nullable=True),
        sa.Column("approved_at", _ts(timezone=True), nullable=True),
        sa.Column("link_salt", _str(length=32), nullable=False),
        sa.Column("expanded_upto", sa.Integer(), nullable=False),
        sa.Column("expanded", sa.Boolean(), nullable=False),
        sa.Column("created_at", _ts(timezone=True), nullable=False),
        sa.Column("started_at", _ts(timezone=True), nullable=True),
        sa.Column("finished_at", _ts(timezone=True), nullable=True),
        sa.Column("summary_sent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_status"), ["status"], unique=False)
    op.create_table(
        "campaign_text",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("locale", _str(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "locale"),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("channel", _str(length=16), nullable=False),
        sa.Column("address", _str(length=64), nullable=False),
        sa.Column("kelurahan_code", _str(length=20), nullable=True),
        sa.Column("locale", _str(length=8), nullable=False),
        sa.Column("relay_id", sa.Integer(), nullable=True),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("status", _str(length=12), nullable=False),
        sa.Column("reason", _str(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _ts(timezone=True), nullable=False),
        sa.Column("claimed_by", _str(length=40), nullable=True),
        sa.Column("claimed_at", _ts(timezone=True), nullable=True),
        sa.Column("sent_at", _ts(timezone=True), nullable=True),
        sa.Column("provider_id", _str(length=64), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "subscriber_id"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_claim",
                              ["campaign_id", "channel", "status", "next_attempt_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_provider_id"), ["provider_id"],
                              unique=False)
    op.create_table(
        "link_click",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("kelurahan_code", _str(length=20), nullable=True),
        sa.Column("at", _ts(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("link_click", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_click_campaign_id"), ["campaign_id"],
                              unique=False)
    op.create_table(
        "relay_forward",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("relay_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("at", _ts(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["relay_id"], ["relay.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id"),
    )
    with op.batch_alter_table("relay_forward", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relay_forward_campaign_id"), ["campaign_id"],
                              unique=False)
    op.create_table(
        "relay_join",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relay_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("at", _ts(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["relay_id"], ["relay.id"]),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("relay_id", "subscriber_id"),
    )
    with op.batch_alter_table("relay_join", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relay_join_campaign_id"), ["campaign_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_relay_join_relay_id"), ["relay_id"], unique=False)


def downgrade() -> None:
    for table in ("relay_join", "relay_forward", "link_click", "delivery", "campaign_text",
                  "campaign", "relay", "subscription", "subscriber", "dispatcher",
                  "broadcast_code", "broadcast_group"):
        op.drop_table(table)
