"""Facts for the sales report's stage conversion, kept with the stage history.

Stage conversion is counted from two flags on ``deal_stage_changes``, kept by logic as
deals move (``logic/deals.py`` ``_record_move``, ``logic/pipelines.py`` ``_move_all``):

- ``first_entry``: this change is the deal's first entry into its ``to_stage_id``;
- ``advanced``: after this first entry the deal entered a stage that is not a lost one
  and has a higher position (positions as they were when the deal moved).

``recompute`` sets both flags again from the whole history, in two portable UPDATE
statements; "before" and "after" follow the history's order (``at``, then ``id``), and
positions are the stages' current ones. Migration 0003 and the benchmark generator call
it after rows were written without the logic. Recomputing after stages were reordered
or removed can differ from the flags kept live: a removed stage keeps its last position,
which the stages after it take over when they are renumbered.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    String,
    and_,
    column,
    exists,
    not_,
    or_,
    table,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

# Only the columns used here, so that the migration does not depend on the models.
_changes = table(
    "deal_stage_changes",
    column("id", Integer),
    column("deal_id", Integer),
    column("to_stage_id", Integer),
    column("at", DateTime),
    column("first_entry", Boolean),
    column("advanced", Boolean),
)
_stages = table(
    "stages",
    column("id", Integer),
    column("position", Integer),
    column("kind", String),
)


def _before(earlier: Any, later: Any) -> ColumnElement[bool]:
    """``earlier`` comes before ``later`` in a deal's history: by time, then by id."""
    return or_(earlier.c.at < later.c.at, and_(earlier.c.at == later.c.at, earlier.c.id < later.c.id))


def recompute(connection: Connection | Session) -> None:
    """Set ``first_entry`` and ``advanced`` on every stage change from the history."""
    row = _changes
    earlier = _changes.alias("earlier")
    connection.execute(
        update(row).values(
            first_entry=not_(
                exists().where(
                    earlier.c.deal_id == row.c.deal_id,
                    earlier.c.to_stage_id == row.c.to_stage_id,
                    _before(earlier, row),
                )
            )
        )
    )
    later = _changes.alias("later")
    entered = _stages.alias("entered")
    reached = _stages.alias("reached")
    connection.execute(
        update(row).values(
            advanced=and_(
                row.c.first_entry,
                exists()
                .where(
                    later.c.deal_id == row.c.deal_id,
                    _before(row, later),
                    entered.c.id == row.c.to_stage_id,
                    reached.c.id == later.c.to_stage_id,
                    reached.c.kind != "lost",
                    reached.c.position > entered.c.position,
                )
                .select_from(later, entered, reached),
            )
        )
    )
