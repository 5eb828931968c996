"""stage totals kept by triggers, for the board's stage heads

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:00:00

The table and the triggers that keep it are defined in crm_tui.storage.deal_totals (one
definition for this migration and for `crm db reindex`); filling it reads every active
deal once.
"""

from collections.abc import Sequence

from alembic import op

from crm_tui.storage import deal_totals

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    deal_totals.install(op.get_bind())


def downgrade() -> None:
    deal_totals.uninstall(op.get_bind())
