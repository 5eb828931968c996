"""The customers and contacts that imported rows name: by reference (C-12, P-7), company
name, contact name or email, looked up a batch at a time."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import col

from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import CrmError, Invalid, quoted
from crm_tui.logic.core.records import LARGEST_ID
from crm_tui.logic.core.refs import parse_ref, ref
from crm_tui.logic.customers import batches as customer_batches
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange.runner import Row
from crm_tui.logic.values.normalise import clean_email, name_key
from crm_tui.storage.models import Contact, Customer


@dataclass(frozen=True)
class RowCustomer:
    """What a row needs of the customer it names."""

    id: int
    name: str
    country: str | None


def customer_finder(work: Work, batch: list[Row], create: bool) -> Callable[[str | None], RowCustomer]:
    """A lookup of the batch's customers (by name or reference) with one query."""
    keys = {text: _customer_key(text) for text in {row.values.get("customer") for row in batch} if text}
    found = _customers_for(work, keys, batch, create)

    def customer(text: str | None) -> RowCustomer:
        if not text:
            raise Invalid("no customer: the row names no company or customer")
        owner = found.get(keys[text])
        if owner is None:
            raise Invalid(f"no active customer {quoted(text)}; add it first or pass --create-customers")
        return owner

    return customer


def contact_at(work: Work, customer: RowCustomer, text: str | None) -> str | None:
    """The contact a row names at its customer: by reference (P-7), email or name."""
    text = (text or "").strip()
    if not text:
        return None
    if re.fullmatch(r"[Pp]-?\d+", text):
        return text
    query = select(col(Contact.id)).where(col(Contact.customer_id) == customer.id)
    if "@" in text:
        query = query.where(col(Contact.email) == clean_email(text))
    else:
        query = query.where(col(Contact.name_key) == name_key(text, company=False))
    ids = list(work.session.execute(query.order_by(col(Contact.id)).limit(2)).scalars())
    where = f"{ref('customer', customer.id)} {customer.name}"
    if not ids:
        raise Invalid(f"{where} has no contact {quoted(text)}")
    if len(ids) > 1:
        raise Invalid(f"{where} has several contacts {quoted(text)}; name one by its reference (P-12)")
    return ref("contact", ids[0])


def _customer_key(text: str | None) -> tuple[str, Any]:
    text = (text or "").strip()
    # Only a prefixed reference (C-12) names a customer by id: "3M" or "1&1" are names.
    if re.fullmatch(r"[Cc]-?\d+", text):
        return ("id", parse_ref("customer", text))
    return ("name", name_key(text, company=True))


def _customers_for(
    work: Work, keys: dict[str, tuple[str, Any]], batch: list[Row], create: bool
) -> dict[tuple[str, Any], RowCustomer]:
    """The active customers the rows name (by reference or by company name), one query."""
    # A larger id names no customer, and is no id at all to PostgreSQL's integer column.
    ids = {value for kind, value in keys.values() if kind == "id" and value <= LARGEST_ID}
    names = {value for kind, value in keys.values() if kind == "name" and value}
    found: dict[tuple[str, Any], RowCustomer] = {}
    query = (
        select(col(Customer.id), col(Customer.name), col(Customer.name_key), col(Customer.country))
        .where(
            col(Customer.archived_at).is_(None),
            or_(col(Customer.id).in_(ids), col(Customer.name_key).in_(names)),
        )
        .order_by(col(Customer.id))
    )
    for customer_id, name, key, country in work.session.execute(query):
        owner = RowCustomer(customer_id, name, country)
        found.setdefault(("id", customer_id), owner)
        found.setdefault(("name", key), owner)
    missing = sorted(name for name in names if ("name", name) not in found)
    if create and missing:
        found.update(_created_customers(work, keys, batch, missing))
    return found


def _created_customers(
    work: Work, keys: dict[str, tuple[str, Any]], batch: list[Row], missing: list[str]
) -> dict[tuple[str, Any], RowCustomer]:
    """With --create-customers: the companies crm does not know, added as the first row
    that names each one spells it."""
    spelled = {}
    for row in batch:
        text = row.values.get("customer")
        if not text:
            continue
        key = keys.get(text)
        if key is not None and key[0] == "name" and key[1] in missing:
            spelled.setdefault(key[1], text.strip())
    items = [(n, CustomerCreate(name=spelled[key])) for n, key in enumerate(missing, 1)]
    created = {}
    for _, result in customer_batches.create_batch_in(work, items):
        if not isinstance(result, CrmError):
            created[("name", name_key(result.name, company=True))] = RowCustomer(
                result.id, result.name, result.country
            )
    return created
