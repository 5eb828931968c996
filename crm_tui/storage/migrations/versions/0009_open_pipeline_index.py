"""an index holding all the open pipeline figures need

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 00:20:00

The desk's pipeline by stage (everyone's, or one owner's) and the sales report's open
pipeline and forecast count and sum the open deals by stage, currency and month of
expected close; this index holds every column they read, so the open deals are read
from it alone instead of from every deal in the table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    *("status", "pipeline_id", "stage_id", "currency"),
    *("archived_at", "owner_id", "amount_minor", "expected_close"),
]


def upgrade() -> None:
    op.create_index("ix_deals_open_pipeline", "deals", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_deals_open_pipeline", table_name="deals")
