"""How often each FAQ article is shown (a daily counter), and the audit log made append-only in
the database itself: an UPDATE or DELETE of an audit row is refused whoever issues it.

Revision ID: 0017_faq_views_audit
Revises: 0016_outreach
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_faq_views_audit"
down_revision: str | Sequence[str] | None = "0016_outreach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSAL = "audit_log is append-only"


def upgrade() -> None:
    op.create_table(
        "faq_view",
        sa.Column("article", sa.String(length=64), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("shown", sa.Integer(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$""")
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log
                FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log
                BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END""")


def downgrade() -> None:
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER audit_log_no_{event}" +
                   (" ON audit_log" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("faq_view")
