"""Importing customers: each row cleaned and checked as one typed in, a batch inserted at
once; a duplicate is skipped, updated (the file wins) or merged (empty fields filled in)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import CrmError, Duplicate, Invalid, quoted
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.core.vocabulary import Role
from crm_tui.logic.customers import batches as customer_batches
from crm_tui.logic.customers.checks import clean_fields as clean_customer
from crm_tui.logic.customers.customers import read_one as read_customer
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.logic.exchange.runner import SKIPPED, Outcomes, Row, Tally
from crm_tui.storage.models import AuditEntry, Customer, User
from crm_tui.storage.types import utcnow


def import_customers(
    work: Work, batch: list[Row], outcomes: Outcomes, tally: Tally, options: ImportOptions
) -> None:
    """Add a batch's customers; with --create-users, their unknown owners first (kept
    only if a stored row names them)."""
    made = _create_owners(work, batch) if options.create_users else []
    items = []
    for row in batch:
        try:
            items.append((row.line, _customer_create(row.values)))
        except CrmError as exc:
            outcomes[row.line] = str(exc)
    by_line = {row.line: row for row in batch}
    for line, result in customer_batches.create_batch_in(work, items):
        if not isinstance(result, CrmError):
            tally.created += 1
        elif isinstance(result, Duplicate) and options.policy != "skip":
            outcomes[line] = _update_duplicate(work, by_line[line].values, options.policy, tally, str(result))
        elif isinstance(result, Duplicate):
            tally.skipped += 1
            outcomes[line] = f"{SKIPPED}{result}"
        else:
            outcomes[line] = str(result)
    _keep_owners_of_stored(work, made, tally)


def _customer_create(values: dict[str, Any]) -> CustomerCreate:
    from pydantic import ValidationError

    given = dict(values)
    if "tags" in given:
        given["tags"] = [tag for tag in re.split(r"[;,]", given["tags"]) if tag.strip()]
    if "kind" in given:
        given["kind"] = given["kind"].lower()
    if "lifecycle" in given:
        given["lifecycle"] = given["lifecycle"].lower()
    try:
        return CustomerCreate(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise Invalid(f"{where}: {error['msg'].lower()} (got {quoted(error.get('input'))})") from None


def _update_duplicate(
    work: Work, values: dict[str, Any], policy: str, tally: Tally, reason: str
) -> str | None:
    """Update (file wins) or merge (fill empty fields) the customer a row duplicates."""
    match = re.match(r"C-(\d+) ", reason)
    if not match:  # a duplicate of an earlier line of this file
        tally.skipped += 1
        return f"{SKIPPED}{reason}"
    customer = work.session.get_one(Customer, int(match.group(1)))
    given = {
        key: value for key, value in values.items() if key not in ("tags", "name", "first_name", "last_name")
    }
    savepoint = work.session.begin_nested()
    try:
        cleaned = clean_customer(work, given, customer)
        if policy == "merge":
            cleaned = {
                key: value for key, value in cleaned.items() if getattr(customer, key) in (None, "", {})
            }
        before = read_customer(work, customer)
        for column, value in cleaned.items():
            setattr(customer, column, value)
        if cleaned:
            customer.updated_at = utcnow()
        work.session.flush()
        after = read_customer(work, customer)
        changes = audit.diff(before.model_dump(), after.model_dump(exclude={"updated_at", "version"}))
        if changes:
            work.audit("customer", customer.id, "update", changes)
            tally.updated += 1
        else:
            tally.skipped += 1
    except CrmError as exc:
        savepoint.rollback()
        return str(exc)
    savepoint.commit()
    return None


def _create_owners(work: Work, batch: list[Row]) -> list[User]:
    """With --create-users, owners not yet known become sales users (admins only)."""
    names = {row.values["owner"] for row in batch if row.values.get("owner")}
    if not names:
        return []
    known = set(
        work.session.execute(select(col(User.username)).where(col(User.username).in_(names))).scalars()
    )
    missing = sorted(names - known)
    if missing:
        work.require("users.manage")
    made = []
    for username in missing:
        try:
            data = UserCreate(username=username, role=Role.sales)
        except Exception:
            continue  # not a valid username: the row is refused with the owner's error
        user = User(username=data.username, display_name=data.username, role=data.role)
        work.session.add(user)
        work.session.flush()
        work.audit("user", user.id, "create", {"username": [None, user.username], "role": [None, "sales"]})
        made.append(user)
    return made


def _keep_owners_of_stored(work: Work, made: list[User], tally: Tally) -> None:
    """The owners --create-users added for the batch, kept if a customer the batch stored
    is theirs; the others are taken out again with their audit entry, in the batch's
    transaction, so that refused rows add nobody."""
    for user in made:
        owns = select(col(Customer.id)).where(col(Customer.owner_id) == user.id).limit(1)
        if work.session.execute(owns).first() is not None:
            if user.username not in tally.new_users:
                tally.new_users.append(user.username)
            continue
        work.session.execute(
            delete(AuditEntry).where(col(AuditEntry.entity) == "user", col(AuditEntry.entity_id) == user.id)
        )
        work.session.delete(user)
        work.session.flush()
