"""indexes for the lists that sorted whole tables

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each list that read every matching row to sort it now reads its page from an index.
INDEXES = [
    ("ix_contacts_name", "contacts", ["name_key", "id"]),
    ("ix_deals_active_amount", "deals", ["archived_at", "amount_minor", "id"]),
    ("ix_orders_status", "orders", ["status", "id"]),
    ("ix_audit_kind", "audit_entries", ["entity", "id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
