"""the service report's spans kept on each ticket, and the indexes that read them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 23:40:00

Each ticket gets the figures the service report used to measure at every reading,
measured once from the ticket's own times, as logic keeps them from now on:

- ``response_seconds``: created to first public reply, on the SLA clock;
- ``resolution_seconds``: created to resolved, less the time spent pending;
- ``met_sla``: for a resolved ticket, whether it got its first response by its due
  time and was resolved by its own.

Whole seconds, half a second rounding up; a span that ends before it starts is 0.
The database measures them on calendar time, exactly (in microseconds), unless whoever
runs the upgrade hands over logic's own measure as the ``measure_spans`` attribute
(``schema.upgrade(..., measure_spans=...)``): with business hours that is the only
way to count working time, and each ticket is then measured in Python.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from crm_tui.storage.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    ("response_seconds", sa.Integer()),
    ("resolution_seconds", sa.Integer()),
    ("met_sla", sa.Boolean()),
]
# Each covers every column its part of the report reads; the spans lead where a median
# is read at its rank.
INDEXES = [
    (
        "ix_tickets_volume",
        ["assignee_id", "type", "priority", "channel", "status", "created_at", "archived_at",
         "merged_into_id", "response_seconds"],
    ),
    (
        "ix_tickets_response_times",
        ["response_seconds", "created_at", "assignee_id", "archived_at", "merged_into_id"],
    ),
    (
        "ix_tickets_resolution_times",
        ["resolution_seconds", "resolved_at", "assignee_id", "archived_at", "merged_into_id"],
    ),
    (
        "ix_tickets_agent_resolution_times",
        ["assignee_id", "resolution_seconds", "resolved_at", "archived_at", "merged_into_id",
         "met_sla", "satisfaction"],
    ),
]  # fmt: skip
BATCH = 5_000  # tickets measured in Python per round trip

_MET_SLA = (
    "CASE WHEN resolved_at IS NOT NULL THEN (first_response_at IS NOT NULL"
    " AND first_response_at <= first_response_due AND resolved_at <= resolution_due) END"
)


def _sqlite_microseconds(start: str, end: str) -> str:
    # Stored as YYYY-MM-DD HH:MM:SS.ffffff: whole seconds from the first 19 characters
    # (strftime rounds a fraction to milliseconds, which can carry into the next
    # second), plus the microseconds after the point.
    return (
        f"((strftime('%s', substr({end}, 1, 19)) - strftime('%s', substr({start}, 1, 19))) * 1000000"
        f" + (CAST(substr({end}, 21) AS INTEGER) - CAST(substr({start}, 21) AS INTEGER)))"
    )


def _sqlite_spans() -> str:
    response = _sqlite_microseconds("created_at", "first_response_at")
    resolution = _sqlite_microseconds("created_at", "resolved_at")
    return f"""
        UPDATE tickets SET
            response_seconds = CASE WHEN first_response_at IS NOT NULL
                THEN (max({response}, 0) + 500000) / 1000000 END,
            resolution_seconds = CASE WHEN resolved_at IS NOT NULL
                THEN (max({resolution} - paused_seconds * 1000000, 0) + 500000) / 1000000 END,
            met_sla = {_MET_SLA}"""


def _postgresql_spans() -> str:
    # EXTRACT(EPOCH ...) is an exact numeric (PostgreSQL 14 on).
    response = "EXTRACT(EPOCH FROM first_response_at - created_at)"
    resolution = "EXTRACT(EPOCH FROM resolved_at - created_at) - paused_seconds"
    return f"""
        UPDATE tickets SET
            response_seconds = CASE WHEN first_response_at IS NOT NULL
                THEN CAST(floor(greatest({response}, 0) + 0.5) AS INTEGER) END,
            resolution_seconds = CASE WHEN resolved_at IS NOT NULL
                THEN CAST(floor(greatest({resolution}, 0) + 0.5) AS INTEGER) END,
            met_sla = {_MET_SLA}"""


_tickets = sa.table(
    "tickets",
    sa.column("id", sa.Integer),
    sa.column("created_at", UTCDateTime),
    sa.column("first_response_due", UTCDateTime),
    sa.column("resolution_due", UTCDateTime),
    sa.column("first_response_at", UTCDateTime),
    sa.column("resolved_at", UTCDateTime),
    sa.column("paused_seconds", sa.Integer),
    sa.column("response_seconds", sa.Integer),
    sa.column("resolution_seconds", sa.Integer),
    sa.column("met_sla", sa.Boolean),
)


def _measure_each(measure) -> None:
    """Every ticket through ``measure(row) -> (response, resolution, met_sla)``, in batches."""
    bind = op.get_bind()
    t = _tickets.c
    read = sa.select(
        t.id, t.created_at, t.first_response_due, t.resolution_due, t.first_response_at,
        t.resolved_at, t.paused_seconds,
    ).order_by(t.id).limit(BATCH)  # fmt: skip
    write = (
        sa.update(_tickets)
        .where(t.id == sa.bindparam("ticket_id"))
        .values(
            response_seconds=sa.bindparam("response"),
            resolution_seconds=sa.bindparam("resolution"),
            met_sla=sa.bindparam("met"),
        )
    )
    last = 0
    while rows := bind.execute(read.where(t.id > last)).all():
        values = []
        for row in rows:
            response, resolution, met = measure(row)
            values.append({"ticket_id": row.id, "response": response, "resolution": resolution, "met": met})
        bind.execute(write, values)
        last = rows[-1].id


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("tickets", sa.Column(name, type_, nullable=True))
    measure = context.config.attributes.get("measure_spans")
    if measure is not None:
        _measure_each(measure)
    elif op.get_bind().dialect.name == "sqlite":
        op.execute(_sqlite_spans())
    else:
        op.execute(_postgresql_spans())
    # Built after the figures are in: one sorted pass each, not an update per row.
    for name, columns in INDEXES:
        op.create_index(name, "tickets", columns)


def downgrade() -> None:
    for name, _ in INDEXES:
        op.drop_index(name, table_name="tickets")
    for name, _ in reversed(COLUMNS):
        op.drop_column("tickets", name)
