"""The audit trail: every change leaves an entry in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import Session

if TYPE_CHECKING:
    from crm_tui.logic.context import Crm

from crm_tui.logic.errors import Invalid
from crm_tui.logic.refs import PREFIXES, parse_ref, ref
from crm_tui.logic.schemas import AuditRead
from crm_tui.storage.models import AuditEntry, User


def plain(value: Any) -> Any:
    """A JSON-safe copy of a field value for the audit trail."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Changed fields as ``{field: [old, new]}``; unchanged fields are left out."""
    return {
        field: [plain(before.get(field)), plain(value)]
        for field, value in after.items()
        if plain(before.get(field)) != plain(value)
    }


def record(
    session: Session,
    actor_id: int | None,
    entity: str,
    entity_id: int,
    action: str,
    changes: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the session's transaction."""
    session.add(
        AuditEntry(
            actor_id=actor_id,
            entity=entity,
            entity_id=entity_id,
            action=action,
            changes=plain(changes or {}),
        )
    )


def parse_record(text: str) -> tuple[str, int]:
    """``C-12`` as ("customer", 12); Invalid when the prefix names no kind of record."""
    head = text.strip().split("-", 1)[0].rstrip("0123456789").upper()
    for kind, prefix in PREFIXES.items():
        if head == prefix:
            return kind, parse_ref(kind, text)
    raise Invalid(f"{text!r} is not a record reference (like C-12 or P-7)")


def entries(
    session: Session,
    *,
    record_ref: str | None = None,
    entity: str | None = None,
    actor_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditRead]:
    """Audit entries, newest first, filtered by record, kind of record or actor."""
    query = select(AuditEntry, User.username).outerjoin(User, User.id == AuditEntry.actor_id)
    if record_ref:
        kind, record_id = parse_record(record_ref)
        query = query.where(AuditEntry.entity == kind, AuditEntry.entity_id == record_id)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    query = query.order_by(AuditEntry.id.desc()).limit(limit)
    return [
        AuditRead(
            id=entry.id,
            at=entry.at,
            actor=username,
            record=ref(entry.entity, entry.entity_id),
            action=entry.action,
            changes=entry.changes,
        )
        for entry, username in session.execute(query)
    ]


def last_change(session: Session, entity: str, entity_id: int) -> tuple[str | None, datetime] | None:
    """Who changed a record last, and when; None if it has no entries."""
    row = session.execute(
        select(User.username, AuditEntry.at)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def list_entries(
    crm: Crm,
    *,
    record: str | None = None,
    entity: str | None = None,
    actor: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditRead]:
    """The audit trail, newest first; admins and managers may read it."""
    from crm_tui.logic import users

    if entity is not None and entity not in PREFIXES:
        raise Invalid(f"unknown kind {entity!r}: use one of {', '.join(PREFIXES)}")
    with crm.work("audit.read") as work:
        actor_id = users.find(work, actor).id if actor else None
        return entries(
            work.session,
            record_ref=record,
            entity=entity,
            actor_id=actor_id,
            before_id=before_id,
            limit=limit,
        )
