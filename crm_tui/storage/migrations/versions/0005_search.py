"""full-text search index across customers, contacts, deals, tickets and notes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:00:00.000000

The index and the triggers that keep it in sync are defined in crm_tui.storage.search
(one definition for this migration and for `crm db reindex`); filling it reads every
customer, contact, deal, ticket and note once.
"""

from collections.abc import Sequence

from alembic import op

from crm_tui.storage import search

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    search.install(op.get_bind())


def downgrade() -> None:
    search.uninstall(op.get_bind())
