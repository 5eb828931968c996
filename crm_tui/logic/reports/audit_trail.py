"""Reading the audit trail: who did what to which record, newest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from crm_tui.logic.core import users
from crm_tui.logic.core.context import Crm
from crm_tui.logic.core.errors import Invalid, quoted
from crm_tui.logic.core.records import LARGEST_ID
from crm_tui.logic.core.refs import PREFIXES, parse_ref, ref
from crm_tui.logic.core.schemas import AuditRead
from crm_tui.storage.models import AuditEntry, User

# What the trail records besides records with a reference: the database's upgrades.
WHOLES = ("database",)


def parse_record(text: str) -> tuple[str, int]:
    """``C-12`` as ("customer", 12); Invalid when the prefix names no kind of record."""
    head = text.strip().split("-", 1)[0].rstrip("0123456789").upper()
    for kind, prefix in PREFIXES.items():
        if head == prefix:
            return kind, parse_ref(kind, text)
    raise Invalid(f"{quoted(text)} is not a record reference (like C-12 or P-7)")


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
    query = select(AuditEntry, col(User.username)).outerjoin(User, col(User.id) == col(AuditEntry.actor_id))
    if record_ref:
        kind, record_id = parse_record(record_ref)
        if record_id > LARGEST_ID:  # no such record, and no such id in PostgreSQL's tables
            return []
        query = query.where(col(AuditEntry.entity) == kind, col(AuditEntry.entity_id) == record_id)
    if entity:
        query = query.where(col(AuditEntry.entity) == entity)
    if actor_id is not None:
        query = query.where(col(AuditEntry.actor_id) == actor_id)
    if before_id is not None:
        query = query.where(col(AuditEntry.id) < before_id)
    query = query.order_by(col(AuditEntry.id).desc()).limit(limit)
    return [
        AuditRead(
            id=entry.id,
            at=entry.at,
            actor=username,
            record=ref(entry.entity, entry.entity_id) if entry.entity in PREFIXES else entry.entity,
            action=entry.action,
            changes=entry.changes,
        )
        for entry, username in session.execute(query)
    ]


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
    kinds = [*PREFIXES, *WHOLES]
    if entity is not None and entity not in kinds:
        raise Invalid(f"unknown kind {quoted(entity)}: use one of {', '.join(kinds)}")
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
