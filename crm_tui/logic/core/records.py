"""Helpers every module uses to fetch a record and to guard an edit against staleness."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import func, select
from sqlmodel import SQLModel, col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Conflict, Invalid, NotFound
from crm_tui.logic.core.refs import parse_ref, ref
from crm_tui.storage.models import Customer, Deal, Ticket, User
from crm_tui.storage.types import utcnow

Row = TypeVar("Row", bound=SQLModel)
LARGEST_ID = 2**31 - 1


class Versioned(Protocol):
    """A record whose edits are checked against the version they were based on."""

    id: int
    version: int


class Archivable(Protocol):
    """A record that is archived, not destroyed."""

    id: int
    archived_at: datetime | None
    updated_at: datetime


def fetch(work: Work, model: type[Row], kind: str, reference: str | int, *, for_update: bool = False) -> Row:
    """The record of ``kind`` named by ``reference``; NotFound if there is none.

    ``for_update`` locks the row on PostgreSQL so that a concurrent edit waits for
    this one (SQLite's write lock already serialises writers).
    """
    record_id = parse_ref(kind, reference)
    # Ids are 32-bit integers in PostgreSQL's tables: a larger one names no record there,
    # and asking for it would be a database error rather than "no such record".
    fits = record_id <= LARGEST_ID
    row = work.session.get(model, record_id, with_for_update=for_update or None) if fits else None
    if row is None:
        raise NotFound(f"no {kind} {ref(kind, record_id)}")
    return row


def check_version(work: Work, kind: str, row: Versioned, expected: int | None) -> None:
    """Refuse an edit made from version ``expected`` when the record is newer.

    The message says who changed it last, so the user knows whose edit to look at.
    """
    name = ref(kind, row.id)
    work.subject = name
    if expected is None or expected == row.version:
        return
    last = audit.last_change(work.session, kind, row.id)
    by = f" by {last[0]} at {last[1]:%Y-%m-%d %H:%M} UTC" if last else ""
    raise Conflict(
        f"{name} was changed{by} (now version {row.version}, your edit is based on "
        f"version {expected}); nothing was saved. Reload it and try again"
    )


def set_archived(work: Work, kind: str, row: Archivable, archived: bool) -> str:
    """Archive (or restore) a record: the mark, the time, and the audit entry. Doing it
    twice is an error, not a no-op. Returns the action: "archive" or "restore"."""
    name = ref(kind, row.id)
    work.subject = name
    if (row.archived_at is not None) == archived:
        raise Invalid(f"{name} is already {'archived' if archived else 'not archived'}")
    before = row.archived_at
    now = utcnow()
    row.archived_at = now if archived else None
    row.updated_at = now
    work.session.flush()
    action = "archive" if archived else "restore"
    work.audit(kind, row.id, action, {"archived_at": [audit.plain(before), audit.plain(row.archived_at)]})
    return action


def is_empty(crm: Crm) -> bool:
    """True on a database with no customers, deals or tickets yet: a new team's first start."""
    with crm.work() as work:
        for model in (Customer, Deal, Ticket):
            if work.session.execute(select(col(model.id)).limit(1)).first():
                return False
        return work.session.execute(select(func.count()).select_from(User)).scalar_one() <= 1
