"""Writing the audit trail: every change leaves an entry in the same transaction as the change.

Reading it is a report: ``logic/reports/audit_trail.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from crm_tui.storage.models import AuditEntry, User

_SCALARS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """A JSON-safe copy of a field value for the audit trail."""
    if type(value) in _SCALARS:  # most values, answered first: imports call this millions of times
        return value
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
    changes = {}
    for field, value in after.items():
        old, new = plain(before.get(field)), plain(value)
        if old != new:
            changes[field] = [old, new]
    return changes


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


def last_change(session: Session, entity: str, entity_id: int) -> tuple[str | None, datetime] | None:
    """Who changed a record last, and when; None if it has no entries."""
    row = session.execute(
        select(col(User.username), col(AuditEntry.at))
        .outerjoin(User, col(User.id) == col(AuditEntry.actor_id))
        .where(col(AuditEntry.entity) == entity, col(AuditEntry.entity_id) == entity_id)
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None
