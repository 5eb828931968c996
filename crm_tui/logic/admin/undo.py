"""Undo: a recent change taken back exactly as the audit trail recorded it.

Rules:

- what can be undone: a deal won, lost, reopened, moved, archived or restored; a
  customer archived or restored; a ticket's status set, resolved or closed; a task done
  or reopened. Creations, edits, merges and the rest cannot be;
- an undo puts back the fields the change's audit entry names, to their old values,
  and nothing else;
- only while the record is as the change left it: no later entry on it in the audit
  trail, its fields still what the change made them, and (when the caller says) its
  version the one the change left. Otherwise a Conflict names who changed it since;
- users undo their own changes; an admin may undo anyone's;
- an undo needs the permission the change needed, bumps the record's version, and is
  audited as "undo" with the fields it put back and the entry it undid. A change that
  the customer's timeline told of is undone there too, in an entry of its own;
- a deal goes back to its old stage as a move takes it there, so its stage history
  keeps both moves: an undone win or loss reopens the deal in the stage it left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import SQLModel, col

from crm_tui.logic.core import refs
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Conflict, Forbidden, Invalid, NotFound, quoted
from crm_tui.logic.core.records import LARGEST_ID, check_version, fetch
from crm_tui.logic.core.refs import PREFIXES, parse_ref
from crm_tui.logic.core.schemas import Output
from crm_tui.logic.core.vocabulary import ActivityKind, Role
from crm_tui.logic.sales.deal_stages import record_move
from crm_tui.storage.models import (
    Activity,
    AuditEntry,
    Customer,
    Deal,
    DealStageChange,
    Order,
    Stage,
    Task,
    Ticket,
    User,
)
from crm_tui.storage.types import utcnow


class UndoResult(Output):
    """What an undo did: the record, the change it took back, and what it put back."""

    kind: str
    ref: str
    action: str  # the change undone, as the audit trail names it: win, move, archive, ...
    undone: str  # that change in words: "the win of D-4"
    entry: int  # the audit entry of that change
    summary: str  # where the record is now, in words: "D-4 back to Negotiation, open"
    changes: dict[str, list[Any]]  # each field put back: [as the change left it, as it is now]
    version: int


@dataclass(frozen=True)
class Undoable:
    """A kind of record undo knows: its table, the changes it takes back and the
    permission they need, and the fields it may put back."""

    model: type[SQLModel]
    permission: str
    actions: frozenset[str]
    fields: frozenset[str]


# What a move of a ticket's workflow changes (``service.workflow.status_fields``).
TICKET_FIELDS = frozenset({
    "status", "first_response_due", "resolution_due", "first_response_at", "pending_since",
    "paused_seconds", "resolved_at", "closed_at", "resolution", "resolution_seconds", "met_sla",
})  # fmt: skip
KINDS = {
    "deal": Undoable(
        Deal,
        "deals.write",
        frozenset({"win", "lose", "reopen", "move", "archive", "restore"}),
        frozenset({"stage", "status", "closed_at", "lost_reason", "archived_at"}),
    ),
    "customer": Undoable(
        Customer, "customers.write", frozenset({"archive", "restore"}), frozenset({"archived_at"})
    ),
    "ticket": Undoable(
        Ticket, "tickets.write", frozenset({"status", "resolve", "close", "reopen"}), TICKET_FIELDS
    ),
    "task": Undoable(Task, "tasks.write", frozenset({"done", "reopen"}), frozenset({"done_at"})),
}
# Fields the audit trail holds as ISO text and the tables as times.
TIMES = frozenset({
    "closed_at", "archived_at", "first_response_due", "resolution_due", "first_response_at",
    "pending_since", "resolved_at", "done_at",
})  # fmt: skip
# The changes in words, for messages and the timeline.
NOUNS = {
    "win": "win", "lose": "loss", "reopen": "reopening", "move": "move", "archive": "archiving",
    "restore": "restoring", "status": "status change", "resolve": "resolution", "close": "closing",
    "done": "completion",
}  # fmt: skip
# Changes the customer's timeline told of ("Won D-4", "Archived"): their undo is told there too.
TOLD = frozenset({("deal", "win"), ("deal", "lose"), ("ticket", "resolve"), ("customer", "archive"),
                  ("customer", "restore")})  # fmt: skip
WHAT_UNDO_TAKES = (
    "undo takes back deals won, lost, reopened or moved; tickets' status changes, resolutions "
    "and closings; tasks done or reopened; and archiving or restoring"
)


# Finding the change


def undo_entry(crm: Crm, entry_id: int, *, expected_version: int | None = None) -> UndoResult:
    """Undo the change audit entry ``entry_id`` records, under the rules above;
    ``expected_version``: refuse unless the record is still at this version."""
    with crm.work() as work:
        permission = _undoable(_entry(work, entry_id)).permission
    with crm.work(permission) as work:
        return _undo(work, _entry(work, entry_id), expected_version)


def undo_last(crm: Crm, ref: str | None = None, *, expected_version: int | None = None) -> UndoResult:
    """Undo the acting user's newest change that undo takes (to record ``ref``, like
    "D-4", when given: a screen names the record it just changed, so that another change
    of the same user meanwhile is not the one undone)."""
    entry_id = last_undoable(crm, ref)
    if entry_id is None:
        to = f" to {ref.strip()}" if ref else ""
        raise NotFound(f"you have made no change{to} that undo takes back; {WHAT_UNDO_TAKES}")
    return undo_entry(crm, entry_id, expected_version=expected_version)


def last_undoable(crm: Crm, ref: str | None = None) -> int | None:
    """The audit entry of the acting user's newest change of a kind undo takes (to record
    ``ref`` when given), whether or not it can still be undone; None if there is none."""
    with crm.work() as work:
        kinds = [
            and_(col(AuditEntry.entity) == kind, col(AuditEntry.action).in_(sorted(undoable.actions)))
            for kind, undoable in KINDS.items()
        ]
        query = select(col(AuditEntry.id)).where(col(AuditEntry.actor_id) == work.actor.id, or_(*kinds))
        if ref is not None:
            kind, record_id = _record(ref)
            if record_id > LARGEST_ID:  # no such record, nor an id PostgreSQL's tables hold
                return None
            query = query.where(col(AuditEntry.entity) == kind, col(AuditEntry.entity_id) == record_id)
        return work.session.execute(query.order_by(col(AuditEntry.id).desc()).limit(1)).scalar_one_or_none()


def _record(text: str) -> tuple[str, int]:
    """``D-4`` as ("deal", 4): a record of a kind undo knows."""
    head = text.strip().split("-", 1)[0].rstrip("0123456789").upper()
    for kind in KINDS:
        if head == PREFIXES[kind]:
            return kind, parse_ref(kind, text)
    raise Invalid(f"{quoted(text)} is not a customer, deal, ticket or task reference (like D-4)")


def _entry(work: Work, entry_id: int) -> AuditEntry:
    entry = work.session.get(AuditEntry, entry_id) if 1 <= entry_id <= LARGEST_ID else None
    if entry is None:
        raise NotFound(f"no audit entry #{entry_id}")
    return entry


def _name(entry: AuditEntry) -> str:
    return refs.ref(entry.entity, entry.entity_id) if entry.entity in PREFIXES else entry.entity


def _change(entry: AuditEntry) -> str:
    """The change in words: "the win of D-4"."""
    return f"the {NOUNS.get(entry.action, entry.action)} of {_name(entry)}"


def _undoable(entry: AuditEntry) -> Undoable:
    """What undo knows of the entry's kind of record; Invalid for a change it does not take back."""
    undoable = KINDS.get(entry.entity)
    if undoable is None or entry.action not in undoable.actions:
        raise Invalid(f"{_name(entry)}'s {entry.action} (#{entry.id}) cannot be undone: {WHAT_UNDO_TAKES}")
    unknown = sorted(set(entry.changes) - undoable.fields)
    if unknown:
        raise Invalid(
            f"{_change(entry)} (#{entry.id}) changed {', '.join(unknown)}, which undo cannot put back"
        )
    return undoable


# Whether it may be undone


def _who(work: Work, user_id: int | None) -> str:
    user = work.session.get(User, user_id) if user_id is not None else None
    return user.username if user else "someone no longer a user"


def _may_undo(work: Work, entry: AuditEntry) -> None:
    """Users undo their own changes; an admin anyone's."""
    if entry.actor_id != work.actor.id and work.actor.role != Role.admin:
        raise Forbidden(
            f"{_change(entry)} (#{entry.id}) was {_who(work, entry.actor_id)}'s; "
            "only an admin may undo another user's change"
        )


def _unchanged_since(work: Work, entry: AuditEntry) -> None:
    """Conflict when the audit trail has a later entry on the record: it was changed
    since (or this change already undone), and undoing now would lose that."""
    later = work.session.execute(
        select(AuditEntry)
        .where(
            col(AuditEntry.entity) == entry.entity,
            col(AuditEntry.entity_id) == entry.entity_id,
            col(AuditEntry.id) > entry.id,
        )
        .order_by(col(AuditEntry.id))
        .limit(1)
    ).scalar_one_or_none()
    if later is None:
        return
    by = f"by {_who(work, later.actor_id)} at {later.at:%Y-%m-%d %H:%M} UTC"
    if later.action == "undo" and later.changes.get("undone_entry") == [None, entry.id]:
        raise Conflict(f"{_change(entry)} (#{entry.id}) was already undone {by} (#{later.id})")
    raise Conflict(
        f"{_name(entry)} was changed {by} ({later.action}, #{later.id}) after {_change(entry)} "
        f"(#{entry.id}); nothing was undone"
    )


def _stored(field: str, value: Any) -> Any:
    """A value of the audit trail as the table holds it."""
    return datetime.fromisoformat(value) if field in TIMES and value is not None else value


def _current(work: Work, row: Any, field: str) -> Any:
    if field == "stage":
        return work.session.get_one(Stage, row.stage_id).name
    return getattr(row, field)


def _as_left(work: Work, entry: AuditEntry, row: Any) -> None:
    """Conflict unless each field the change made is still what it made it."""
    for field, (_, new) in entry.changes.items():
        if _current(work, row, field) != _stored(field, new):
            raise Conflict(
                f"{_name(entry)}'s {field} is no longer what {_change(entry)} (#{entry.id}) made it; "
                "nothing was undone"
            )


# Putting it back


def _undo(work: Work, entry: AuditEntry, expected_version: int | None) -> UndoResult:
    undoable = _undoable(entry)
    name = _name(entry)
    work.subject = name
    _may_undo(work, entry)
    _unchanged_since(work, entry)
    row: Any = fetch(work, undoable.model, entry.entity, entry.entity_id, for_update=True)
    check_version(work, entry.entity, row, expected_version)
    _as_left(work, entry, row)
    if entry.entity == "deal" and entry.action == "win":
        _no_order_from(work, row, entry)
    put_back = _put_back(work, entry, row)
    if hasattr(row, "updated_at"):
        row.updated_at = utcnow()
    work.session.flush()
    summary = _summary(work, entry, row)
    work.audit(entry.entity, entry.entity_id, "undo", {**put_back, "undone_entry": [None, entry.id]})
    if (entry.entity, entry.action) in TOLD:
        _tell_timeline(work, entry, row, f"Undid the {NOUNS[entry.action]}: {summary}")
    work.session.flush()
    return UndoResult(
        kind=entry.entity,
        ref=name,
        action=entry.action,
        undone=_change(entry),
        entry=entry.id,
        summary=summary,
        changes=put_back,
        version=row.version,
    )


def _put_back(work: Work, entry: AuditEntry, row: Any) -> dict[str, list[Any]]:
    """Each field of the change back to its old value; returns them as the audit trail
    records a change: ``{field: [as the change left it, as it is now]}``."""
    put_back: dict[str, list[Any]] = {}
    changes = dict(entry.changes)
    if "stage" in changes:
        put_back["stage"] = _stage_back(work, entry, row)
    for field, (old, new) in changes.items():
        if field == "stage":
            continue
        if field == "status" and "stage" in changes:  # the stage's kind, set by the move
            if row.status != old:
                raise Invalid(f"{_name(entry)} would be {row.status}, not {old}; nothing was undone")
        else:
            setattr(row, field, _stored(field, old))
        put_back[field] = [new, old]
    return put_back


def _stage_back(work: Work, entry: AuditEntry, deal: Deal) -> list[Any]:
    """Move the deal back to the stage the change took it from, as a move does, kept in
    its stage history. The history's last move is the change's (no later entry on the
    deal), and names the stage exactly, however it is called now."""
    name = _name(entry)
    last = work.session.execute(
        select(DealStageChange)
        .where(col(DealStageChange.deal_id) == deal.id)
        .order_by(col(DealStageChange.id).desc())
        .limit(1)
    ).scalar_one_or_none()
    if last is None or last.from_stage_id is None or last.to_stage_id != deal.stage_id:
        raise Conflict(f"{name}'s stage history does not end with {_change(entry)}; nothing was undone")
    source = work.session.get_one(Stage, deal.stage_id)
    target = work.session.get_one(Stage, last.from_stage_id)
    if target.removed_at is not None:
        raise Invalid(f"stage {target.name} has been removed; {name} cannot go back to it")
    record_move(work, deal, source, target)
    return [source.name, target.name]


def _no_order_from(work: Work, deal: Deal, entry: AuditEntry) -> None:
    """A won deal that became an order stays won while the order stands."""
    order_id = work.session.execute(
        select(col(Order.id)).where(col(Order.deal_id) == deal.id, col(Order.status) != "cancelled").limit(1)
    ).scalar_one_or_none()
    if order_id is not None:
        raise Invalid(
            f"{_name(entry)} became order {refs.ref('order', order_id)}; "
            "cancel the order before undoing the win"
        )


def _summary(work: Work, entry: AuditEntry, row: Any) -> str:
    """Where the record is now, in words."""
    name = _name(entry)
    if "stage" in entry.changes:
        return f"{name} back to {work.session.get_one(Stage, row.stage_id).name}, {row.status}"
    if "archived_at" in entry.changes:
        return f"{name} {'archived again' if row.archived_at else 'restored'}"
    if entry.entity == "ticket":
        return f"{name} back to {row.status}"
    return f"{name} {'done again' if row.done_at else 'open again'}"


def _tell_timeline(work: Work, entry: AuditEntry, row: Any, text: str) -> None:
    """A system entry on the customer's timeline, linked to the deal or ticket."""
    work.session.add(
        Activity(
            customer_id=row.id if entry.entity == "customer" else row.customer_id,
            deal_id=row.id if entry.entity == "deal" else None,
            ticket_id=row.id if entry.entity == "ticket" else None,
            kind=ActivityKind.system,
            body=text,
            author_id=work.actor.id,
        )
    )
