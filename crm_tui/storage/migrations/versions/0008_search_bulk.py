"""search index: bulk writes index their rows at the end of their transaction

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 00:10:00

SQLite only: each insert trigger of the search index skips the tables named in
``search_index_paused``, where a bulk write (an import) names its table for the
length of its transaction and indexes its new rows in one statement at the end. The
index itself is kept as it is.
"""

from collections.abc import Sequence

from alembic import op

from crm_tui.storage import search

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    search.pause_on_insert(op.get_bind())


def downgrade() -> None:
    search.pause_on_insert(op.get_bind(), pausable=False)
