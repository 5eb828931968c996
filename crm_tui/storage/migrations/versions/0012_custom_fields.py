"""custom fields on contacts, deals and tickets, as customers have them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 15:00:00

An import keeps the columns crm has no field for as custom fields of each record, so
that nothing a team brings is dropped. Existing rows get none (an empty object); adding
a column with a default rewrites no row, on SQLite or PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("contacts", "deals", "tickets")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("custom", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    # Not a batch (a copy of the table, renamed): the search index's triggers name these
    # tables, and SQLite refuses the rename. SQLite drops a column itself since 3.35.
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN custom")
