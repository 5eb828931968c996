"""Duplicate customers: finding the ones that look alike, and merging two into one.

Customers look alike when they share an email, a phone, or a name at the same company:
the same three questions a new or edited customer is refused on (``checks``). A merge
keeps one customer (the survivor) with everything both had.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.records import fetch
from crm_tui.logic.core.refs import parse_ref, ref
from crm_tui.logic.core.vocabulary import ActivityKind
from crm_tui.logic.customers.customers import read_one, reads
from crm_tui.logic.customers.schemas import CustomerRead, DuplicateGroup, MergeResult
from crm_tui.logic.customers.tags import add_tags, tag_names
from crm_tui.storage.models import Activity, Contact, Customer, Deal, Order, Task, Ticket
from crm_tui.storage.types import utcnow

# What the groups are made on: a match's name and the columns its customers share.
_MATCHES = (
    ("email", (col(Customer.email),)),
    ("phone", (col(Customer.phone),)),
    ("name", (col(Customer.name_key), col(Customer.kind), col(Customer.company_key))),
)
# Fields a merge copies from the merged customer where the survivor has none.
_FILLABLE = (
    "company", "segment", "owner_id", "email", "phone", "website", "street", "city",
    "postcode", "country", "industry", "source",
)  # fmt: skip
# What hangs on a customer and moves with a merge: the name the audit lists it under,
# its kind of reference, and its table.
_CHILDREN = (
    ("contacts", "contact", Contact), ("activities", "activity", Activity), ("tasks", "task", Task),
    ("deals", "deal", Deal), ("orders", "order", Order), ("tickets", "ticket", Ticket),
)  # fmt: skip


# Finding


def find_duplicates(crm: Crm, *, limit: int = 100) -> list[DuplicateGroup]:
    """Groups of active customers sharing an email, a phone, or a name at one company."""
    with crm.work() as work:
        groups: list[DuplicateGroup] = []
        for match, columns in _MATCHES:
            for shared, members in _alike(work, columns, limit - len(groups)):
                value = shared if match != "name" else members[0].name
                groups.append(DuplicateGroup(match=match, value=value, customers=members))
            if len(groups) >= limit:
                break
        return groups


def _alike(work: Work, columns: tuple[Any, ...], limit: int) -> list[tuple[Any, list[CustomerRead]]]:
    """Up to ``limit`` groups of active customers with the same values in ``columns``
    (the first of them given), in the order of those values: each the value of the first
    column, and the customers."""
    active = col(Customer.archived_at).is_(None)
    keys = work.session.execute(
        select(*columns)
        .where(active, columns[0].is_not(None), columns[0] != "")
        .group_by(*columns)
        .having(func.count() > 1)
        .order_by(*columns)
        .limit(limit)
    ).all()
    groups = []
    for key in keys:
        same = [
            column.is_(None) if value is None else column == value
            for column, value in zip(columns, key, strict=True)
        ]
        members = work.session.execute(
            select(Customer).where(active, *same).order_by(col(Customer.id))
        ).scalars()
        groups.append((key[0], reads(work, list(members))))
    return groups


# Merging


def merge_customers(crm: Crm, survivor_ref: str | int, merged_ref: str | int) -> MergeResult:
    """Merge one customer into another.

    Contacts, timeline, tasks and tags move to the survivor; fields the survivor lacks
    are taken from the merged customer, which is archived with a link to the survivor.
    The audit trail lists everything that moved.
    """
    if parse_ref("customer", survivor_ref) == parse_ref("customer", merged_ref):
        raise Invalid("a customer cannot be merged into itself")
    with crm.work("customers.write") as work:
        survivor = fetch(work, Customer, "customer", survivor_ref, for_update=True)
        merged = fetch(work, Customer, "customer", merged_ref, for_update=True)
        for customer in (survivor, merged):
            if customer.archived_at is not None:
                raise Invalid(f"{ref('customer', customer.id)} is archived; restore it before merging")
        work.subject = ref("customer", survivor.id)
        before = read_one(work, survivor)
        moved = _move_children(work, merged.id, survivor.id)
        moved["tags"] = sorted(add_tags(work, survivor.id, tag_names(work, merged.id)))
        _fill_missing(survivor, merged)
        now = utcnow()
        survivor.updated_at = now
        merged.archived_at = now
        merged.updated_at = now
        merged.merged_into_id = survivor.id
        _on_timeline(work, survivor, merged, moved)
        work.session.flush()
        after = read_one(work, survivor)
        _audit_merge(work, survivor, merged, moved, before, after)
        return MergeResult(survivor=after, merged=ref("customer", merged.id), moved=moved)


def _fill_missing(survivor: Customer, merged: Customer) -> None:
    """The merged customer's fields where the survivor has none; custom fields of both,
    the survivor's winning where both have one."""
    for column in _FILLABLE:
        if getattr(survivor, column) in (None, "") and getattr(merged, column) not in (None, ""):
            setattr(survivor, column, getattr(merged, column))
    survivor.custom = {**(merged.custom or {}), **(survivor.custom or {})}


def _on_timeline(work: Work, survivor: Customer, merged: Customer, moved: dict[str, list[str]]) -> None:
    merged_name = f"{ref('customer', merged.id)} {merged.name}"
    summary = ", ".join(f"{len(v)} {k}" for k, v in moved.items() if k != "tags")
    work.session.add(
        Activity(
            customer_id=survivor.id,
            kind=ActivityKind.system,
            author_id=work.actor.id,
            body=f"Merged {merged_name} into this customer ({summary})",
        )
    )


def _audit_merge(
    work: Work,
    survivor: Customer,
    merged: Customer,
    moved: dict[str, list[str]],
    before: CustomerRead,
    after: CustomerRead,
) -> None:
    """Two entries: on the survivor what moved and which fields changed; on the merged
    customer where it went."""
    fields = audit.diff(before.model_dump(), after.model_dump(exclude={"updated_at", "version", "tags"}))
    work.audit(
        "customer",
        survivor.id,
        "merge",
        {"merged": ref("customer", merged.id), **moved, "fields": fields},
    )
    work.audit(
        "customer",
        merged.id,
        "merged_into",
        {
            "merged_into": [None, ref("customer", survivor.id)],
            "archived_at": [None, audit.plain(merged.archived_at)],
        },
    )


def _move_children(work: Work, from_id: int, to_id: int) -> dict[str, list[str]]:
    """Re-point everything a customer has; returns the references moved, by kind."""
    moved: dict[str, list[str]] = {}
    for name, kind, model in _CHILDREN:
        ids = list(
            work.session.execute(
                select(col(model.id)).where(col(model.customer_id) == from_id).order_by(col(model.id))
            ).scalars()
        )
        if ids:
            values = {"customer_id": to_id}
            if hasattr(model, "version"):
                values["version"] = model.version + 1
            work.session.execute(
                update(model).where(col(model.id).in_(ids)).values(**values),
                execution_options={"synchronize_session": False},
            )
        moved[name] = [ref(kind, record_id) for record_id in ids]
    return moved
