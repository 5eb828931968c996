"""drop the contacts' phone and mobile indexes, which no query uses

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 02:00:00

Nothing looks contacts up or sorts them by phone or mobile: a number is found through
the search index, and a contact's duplicates are found by email or by name at its
customer. The two indexes only cost every insert and edit of a contact: about a fifth
of the database's time in a contact import. Customers keep theirs: their duplicates are
found by phone.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_contacts_phone", table_name="contacts")
    op.drop_index("ix_contacts_mobile", table_name="contacts")


def downgrade() -> None:
    op.create_index("ix_contacts_mobile", "contacts", ["mobile"])
    op.create_index("ix_contacts_phone", "contacts", ["phone"])
