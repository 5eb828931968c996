"""PostgreSQL: lists of live customers and deals read in order from an index

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 20:10:00

The lists of live (not archived) customers and deals filter on ``archived_at IS NULL``
and sort by a column, from indexes on (archived_at, column, id). SQLite takes IS NULL
as an equality and reads such an index in the column's order; PostgreSQL's planner
does not (only ``=`` fixes a leading column), so it read every live row and sorted
them to show a page. Partial indexes on (column, id) of the live rows give PostgreSQL
that order. SQLite has what it needs, and gets nothing here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name: (table, sort column); the same names as storage.schema.POSTGRESQL_ONLY_INDEXES
LIVE = {
    "ix_customers_live_name": ("customers", "name_key"),
    "ix_customers_live_created": ("customers", "created_at"),
    "ix_customers_live_updated": ("customers", "updated_at"),
    "ix_deals_live_updated": ("deals", "updated_at"),
    "ix_deals_live_created": ("deals", "created_at"),
    "ix_deals_live_amount": ("deals", "amount_minor"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (table, column) in LIVE.items():
        op.create_index(name, table, [column, "id"], postgresql_where=sa.text("archived_at IS NULL"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (table, _) in LIVE.items():
        op.drop_index(name, table_name=table)
