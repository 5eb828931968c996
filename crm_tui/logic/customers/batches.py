"""Creating many customers at once, for `--from` files and imports.

The rules are those of one customer (the same cleaning, the same duplicate test, the
same audit entry), applied to a whole batch with a few set-based statements instead of
a dozen per customer. Duplicates are looked for among active customers and among the
earlier lines of the same batch.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import CrmError
from crm_tui.logic.core.refs import ref
from crm_tui.logic.customers.checks import duplicate_error
from crm_tui.logic.customers.customers import (
    _creation_changes,
    _new_values,
    _owner_name,
    _read,
    create_in,
)
from crm_tui.logic.customers.schemas import CustomerCreate, CustomerRead
from crm_tui.logic.customers.tags import tag_ids
from crm_tui.storage import search as search_index
from crm_tui.storage.errors import driver_message
from crm_tui.storage.models import AuditEntry, Customer, CustomerTag, table_of
from crm_tui.storage.types import utcnow

Outcome = CustomerRead | CrmError
_BLANK_ROW = {column.name: None for column in table_of(Customer).columns if column.name != "id"}


def create_batch_in(
    work: Work, items: list[tuple[int, CustomerCreate]], *, force: bool = False
) -> list[tuple[int, Outcome]]:
    """Create the customers of one batch; each line gets its record or its error."""
    work.require("customers.write")
    outcomes: dict[int, Outcome] = {}
    cleaned: list[tuple[int, dict[str, Any], list[str]]] = []
    for line, data in items:
        try:
            values, tags = _new_values(work, data)
        except CrmError as exc:
            outcomes[line] = exc
        else:
            cleaned.append((line, values, tags))
    if not force:
        cleaned = _without_duplicates(work, cleaned, outcomes)
    if cleaned:
        savepoint = work.session.begin_nested()
        try:
            outcomes.update(_insert(work, cleaned))
        except DBAPIError:
            # Something the checks above did not foresee: go line by line, so that the
            # database names the one line it refuses and the others still go in.
            savepoint.rollback()
            given = dict(items)
            outcomes.update(_one_by_one(work, [(line, given[line]) for line, _, _ in cleaned], force))
        else:
            savepoint.commit()
    return [(line, outcomes[line]) for line, _ in items]


def _identity(values: dict[str, Any]) -> tuple[Any, ...] | None:
    if not values.get("name_key"):
        return None
    return (values["name_key"], values.get("kind"), values.get("company_key"))


def _without_duplicates(
    work: Work, cleaned: list[tuple[int, dict[str, Any], list[str]]], outcomes: dict[int, Outcome]
) -> list[tuple[int, dict[str, Any], list[str]]]:
    """The lines that duplicate neither an active customer nor an earlier line."""
    emails = {values["email"] for _, values, _ in cleaned if values.get("email")}
    phones = {values["phone"] for _, values, _ in cleaned if values.get("phone")}
    names = {values["name_key"] for _, values, _ in cleaned if values.get("name_key")}
    seen: dict[str, dict[Any, tuple[str, str | None]]] = {"email": {}, "phone": {}, "name": {}}
    existing = work.session.execute(
        select(Customer)
        .where(
            col(Customer.archived_at).is_(None),
            or_(
                col(Customer.email).in_(emails),
                col(Customer.phone).in_(phones),
                col(Customer.name_key).in_(names),
            ),
        )
        .order_by(col(Customer.id))
    ).scalars()
    for customer in existing:
        label = (f"{ref('customer', customer.id)} {customer.name}", customer.company)
        _remember(seen, vars(customer), label)
    kept = []
    for line, values, tags in cleaned:
        for match, key in (
            ("email", values.get("email")),
            ("phone", values.get("phone")),
            ("name", _identity(values)),
        ):
            if key is not None and key in seen[match]:
                label, company = seen[match][key]
                reason = {
                    "email": f"the same email ({key})",
                    "phone": f"the same phone ({key})",
                    "name": "the same name" + (f" at {company}" if company else ""),
                }[match]
                outcomes[line] = duplicate_error(label, reason)
                break
        else:
            kept.append((line, values, tags))
            _remember(seen, values, (f"line {line}", values.get("company")))
    return kept


def _remember(
    seen: dict[str, dict[Any, tuple[str, str | None]]],
    values: dict[str, Any],
    label: tuple[str, str | None],
) -> None:
    for match, key in (
        ("email", values.get("email")),
        ("phone", values.get("phone")),
        ("name", _identity(values)),
    ):
        if key is not None:
            seen[match].setdefault(key, label)


def _insert(work: Work, cleaned: list[tuple[int, dict[str, Any], list[str]]]) -> dict[int, Outcome]:
    now = utcnow()
    rows = [
        {
            **_BLANK_ROW,
            **values,
            "custom": values.get("custom") or {},
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for _, values, _ in cleaned
    ]
    table = table_of(Customer)
    with search_index.indexed_at_end(work.session.connection(), "customers"):
        ids = (
            work.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
            .scalars()
            .all()
        )
    ids_by_tag = tag_ids(work, {tag for _, _, tags in cleaned for tag in tags})
    links = [
        {"customer_id": customer_id, "tag_id": ids_by_tag[tag]}
        for customer_id, (_, _, tags) in zip(ids, cleaned, strict=True)
        for tag in tags
    ]
    if links:
        work.session.execute(insert(table_of(CustomerTag)), links)
    created: dict[int, Outcome] = {}
    entries = []
    for customer_id, row, (line, values, tags) in zip(ids, rows, cleaned, strict=True):
        read = _read(SimpleNamespace(id=customer_id, **row), tags, _owner_name(work, values))
        created[line] = read
        entries.append(
            {"at": now, "actor_id": work.actor.id, "entity": "customer", "entity_id": customer_id,
             "action": "create", "changes": audit.plain(_creation_changes(read))}
        )  # fmt: skip
    work.session.execute(insert(table_of(AuditEntry)), entries)
    return created


def _one_by_one(work: Work, items: list[tuple[int, CustomerCreate]], force: bool) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    for line, data in items:
        savepoint = work.session.begin_nested()
        try:
            outcomes[line] = create_in(work, data, force=force)
        except CrmError as exc:
            savepoint.rollback()
            outcomes[line] = exc
        except DBAPIError as exc:
            savepoint.rollback()
            outcomes[line] = CrmError(f"refused by the database: {driver_message(exc)}")
        else:
            savepoint.commit()
    return outcomes
