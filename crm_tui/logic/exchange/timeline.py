"""Imported records' timelines, told at the file's dates rather than the import's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update

from crm_tui.logic.core.context import Work
from crm_tui.storage.models import Activity


def date_timeline(work: Work, which: Any, moment: datetime) -> None:
    """Put the timeline entries ``which`` picks at ``moment``: the event they tell of
    happened then, not when it was imported."""
    work.session.flush()
    work.session.execute(
        update(Activity).where(which).values(occurred_at=moment),
        execution_options={"synchronize_session": False},
    )
