"""The customers and contacts that imported rows name: by reference (C-12, P-7), company
name, contact name or email, looked up a batch at a time."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import col

from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import CrmError, Invalid, NotFound, quoted
from crm_tui.logic.core.records import LARGEST_ID
from crm_tui.logic.core.refs import parse_ref, ref
from crm_tui.logic.customers import batches as customer_batches
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange import bulk
from crm_tui.logic.exchange.runner import Row
from crm_tui.logic.values.normalise import clean_email, name_key
from crm_tui.storage.models import Contact

Templates = Mapping[str, CustomerCreate]  # a cell naming a customer -> what to add for it


@dataclass(frozen=True)
class RowCustomer:
    """What a row needs of the customer it names; a negative id stands for a company
    --create-customers will add (see ``Customers.planned``)."""

    id: int
    name: str
    country: str | None


class Customers:
    """The customers a batch's rows name, looked up with one query.

    With --create-customers, a company crm does not know stands in for the checks as a
    ``RowCustomer`` with an id below zero, and is added (``make_all``) once the batch's
    rows are checked, for the rows that go in: a file whose rows are all refused adds
    no customer.
    """

    def __init__(
        self, work: Work, batch: list[Row], create: bool, templates: Templates | None = None, hint: str = ""
    ) -> None:
        """``templates``: for cells naming a customer the import adds whatever
        ``create`` says (a default customer, a requester), what to add. ``hint``: how a
        row that names no customer can be taken in."""
        self.work, self.hint = work, hint
        named = {row.values.get("customer") for row in batch}
        self.keys = {text: _customer_key(text) for text in named if text}
        self.found = _customers_for(work, self.keys)
        templates = templates or {}
        wanted = [row for row in batch if create or row.values.get("customer") in templates]
        self.new = _planned_customers(self.keys, self.found, wanted)
        self.templates = {self.keys[text]: data for text, data in templates.items() if text in self.keys}

    def planned(self, text: str | None) -> RowCustomer:
        """The customer a cell names, or the stand-in for a new one; the error if none."""
        if not text:
            raise Invalid("no customer: the row names no company or customer" + self.hint)
        key = self.keys[text]
        owner = self.found.get(key) or self.new.get(key)
        if owner is None:
            raise Invalid(f"no active customer {quoted(text)}; add it first or pass --create-customers")
        return owner

    def make_all(self, owners: Iterable[RowCustomer]) -> dict[int, RowCustomer | CrmError]:
        """The stand-ins among ``owners`` added with one batch, for a batch whose rows are
        all checked and go in together: by stand-in id, the customer added or why not."""
        wanted = {owner.id: owner for owner in owners if owner.id < 0}
        if not wanted:
            return {}
        items = [(number, self._template(owner)) for number, owner in wanted.items()]
        made: dict[int, RowCustomer | CrmError] = {}
        for number, result in customer_batches.create_batch_in(self.work, items):
            if isinstance(result, CrmError):
                made[number] = result
            else:
                made[number] = RowCustomer(result.id, result.name, result.country)
        return made

    def _template(self, owner: RowCustomer) -> CustomerCreate:
        key = ("name", name_key(owner.name, company=True))
        return self.templates.get(key) or CustomerCreate(name=owner.name)


def customer_finder(
    work: Work, batch: list[Row], create: bool, templates: Templates | None = None, hint: str = ""
) -> Customers:
    """A lookup of the batch's customers (by name or reference) with one query."""
    return Customers(work, batch, create, templates, hint)


class ContactsNamed:
    """The contacts a batch's rows name at their customers (by reference, email or name), looked
    up with one query: ``wanted`` holds (customer id, cell) pairs."""

    def __init__(self, work: Work, wanted: Iterable[tuple[int, str]]) -> None:
        wanted = {(customer_id, text.strip()) for customer_id, text in wanted if text and text.strip()}
        references = {parse_ref("contact", text) for _, text in wanted if _REFERENCE.fullmatch(text)}
        customers = {customer_id for customer_id, _ in wanted if customer_id > 0}
        self.by_id: dict[int, int] = {}  # contact -> its customer
        self.by_key: dict[tuple[int, str, str], list[int]] = {}  # (customer, "email"|"name", key) -> contacts
        if not wanted:
            return
        query = (
            select(col(Contact.id), col(Contact.customer_id), col(Contact.email), col(Contact.name_key))
            .where(or_(
                col(Contact.customer_id).in_(customers),
                col(Contact.id).in_({n for n in references if n <= LARGEST_ID}),
            ))
            .order_by(col(Contact.id))
        )  # fmt: skip
        for contact_id, customer_id, email, key in work.session.execute(query):
            self.by_id[contact_id] = customer_id
            if email:
                self.by_key.setdefault((customer_id, "email", email), []).append(contact_id)
            self.by_key.setdefault((customer_id, "name", key), []).append(contact_id)

    def at(self, customer: RowCustomer, text: str | None, *, missing_ok: bool = False) -> int | None:
        """The id of the contact ``text`` names at ``customer``: by reference (P-7, which
        must be one of the customer's), email or name; None when it names none, or
        (``missing_ok``) one the customer does not have."""
        text = (text or "").strip()
        if not text:
            return None
        if _REFERENCE.fullmatch(text):
            contact_id = parse_ref("contact", text)
            if contact_id not in self.by_id:
                raise NotFound(f"no contact {ref('contact', contact_id)}")
            if self.by_id[contact_id] != customer.id:
                raise Invalid(
                    f"{ref('contact', contact_id)} is not a contact of {ref('customer', customer.id)}"
                )
            return contact_id
        if "@" in text:
            ids = self.by_key.get((customer.id, "email", clean_email(text) or ""), [])
        else:
            ids = self.by_key.get((customer.id, "name", name_key(text, company=False)), [])
        where = f"{ref('customer', customer.id)} {customer.name}"
        if not ids:
            if missing_ok:
                return None
            raise Invalid(f"{where} has no contact {quoted(text)}")
        if len(ids) > 1:
            raise Invalid(f"{where} has several contacts {quoted(text)}; name one by its reference (P-12)")
        return ids[0]


_REFERENCE = re.compile(r"[Pp]-?\d+")


@functools.lru_cache(maxsize=4096)  # a file names the same companies batch after batch
def _customer_key(text: str | None) -> tuple[str, Any]:
    text = (text or "").strip()
    # Only a prefixed reference (C-12) names a customer by id: "3M" or "1&1" are names.
    if re.fullmatch(r"[Cc]-?\d+", text):
        return ("id", parse_ref("customer", text))
    return ("name", name_key(text, company=True))


def _customers_for(work: Work, keys: dict[str, tuple[str, Any]]) -> dict[tuple[str, Any], RowCustomer]:
    """The active customers the rows name (by reference or by company name)."""
    # A larger id names no customer, and is no id at all to PostgreSQL's integer column.
    ids = {value for kind, value in keys.values() if kind == "id" and value <= LARGEST_ID}
    names = {value for kind, value in keys.values() if kind == "name" and value}
    active = "SELECT id, name, name_key, country FROM customers WHERE archived_at IS NULL AND"
    rows = bulk.rows_in(work, f"{active} name_key IN ({{}})", names)
    if ids:
        rows += bulk.rows_in(work, f"{active} id IN ({{}})", ids)
    found: dict[tuple[str, Any], RowCustomer] = {}
    for customer_id, name, key, country in sorted(rows, key=lambda row: row[0]):  # namesakes: the oldest
        owner = RowCustomer(customer_id, name, country)
        found.setdefault(("id", customer_id), owner)
        found.setdefault(("name", key), owner)
    return found


def _planned_customers(
    keys: dict[str, tuple[str, Any]], found: dict[tuple[str, Any], RowCustomer], batch: list[Row]
) -> dict[tuple[str, Any], RowCustomer]:
    """A stand-in for each company the rows name that crm does not know, spelled as the
    first row naming it spells it, with an id of its own below zero."""
    planned: dict[tuple[str, Any], RowCustomer] = {}
    for row in batch:
        text = row.values.get("customer")
        if not text:
            continue
        key = keys[text]
        if key[0] == "name" and key[1] and key not in found and key not in planned:
            planned[key] = RowCustomer(-1 - len(planned), text.strip(), None)
    return planned
