"""Importing contacts: each at the customer its row names, skipped when a contact with
the same email, or the same name at that customer, exists; a batch goes in with two
executemany calls (contacts and their audit entries)."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select, tuple_
from sqlmodel import col

from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import CrmError, Duplicate, Invalid
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.core.vocabulary import CustomerKind
from crm_tui.logic.customers import batches as customer_batches
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange import bulk
from crm_tui.logic.exchange.companies import Customers, RowCustomer, customer_finder
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.logic.exchange.runner import SKIPPED, Outcomes, Row, Tally
from crm_tui.logic.values.custom_fields import merged_custom
from crm_tui.logic.values.normalise import clean_email, clean_phone, clean_text, name_key
from crm_tui.storage.models import Contact
from crm_tui.storage.types import utcnow

VALUES_PER_QUERY = 10_000  # bound values per statement: within SQLite's limit of 32,766
_AUDITED = ("name", "title", "email", "phone", "mobile", "custom")
_NO_CUSTOM: dict[str, Any] = {}  # never changed: shared by the rows it stands for


def import_contacts(
    work: Work, batch: list[Row], outcomes: Outcomes, tally: Tally, options: ImportOptions
) -> None:
    """Add a batch's contacts; a row whose customer crm does not know is refused, unless
    --create-customers adds it. A vCard naming no company is a person customer."""
    people = [row for row in batch if row.values.get("person")]
    if people:
        _person_customers(work, people, outcomes, tally)
        batch = [row for row in batch if not row.values.get("person")]
    customer = customer_finder(work, batch, options.create_customers)
    default_country = work.crm.settings.default_country
    cleaned: list[tuple[Row, RowCustomer, dict[str, Any]]] = []
    for row in batch:
        try:
            owner = customer.planned(row.values.get("customer"))
            cleaned.append((row, owner, _cleaned(row, owner, default_country)))
        except CrmError as exc:
            outcomes[row.line] = str(exc)
    cleaned = _at_made_customers(
        customer, _without_duplicate_contacts(work, cleaned, outcomes, tally), outcomes
    )
    if cleaned:
        _insert_contacts(work, cleaned)
        tally.created += len(cleaned)


def _at_made_customers(
    customer: Customers, kept: list[tuple[Row, RowCustomer, dict[str, Any]]], outcomes: Outcomes
) -> list[tuple[Row, RowCustomer, dict[str, Any]]]:
    """The rows to store, at the customers --create-customers adds now that they are
    known to go in (a company only refused rows name is not added)."""
    added = customer.make_all(owner for _, owner, _ in kept)
    made = []
    for row, owner, values in kept:
        real = added.get(owner.id, owner)
        if isinstance(real, CrmError):
            outcomes[row.line] = str(real)
            continue
        made.append((row, real, {**values, "customer_id": real.id}))
    return made


def _person_customers(work: Work, rows: list[Row], outcomes: Outcomes, tally: Tally) -> None:
    """The people of cards that name no company, as person customers with their email
    and phone; one crm has already (the same email or phone, or name) is skipped."""
    items = []
    for row in rows:
        values = row.values
        given = {
            "name": values.get("name"), "kind": CustomerKind.person, "email": values.get("email"),
            "phone": values.get("phone") or values.get("mobile"), "custom": values.get("custom"),
        }  # fmt: skip
        try:
            items.append((row.line, validated(CustomerCreate, {k: v for k, v in given.items() if v})))
        except CrmError as exc:
            outcomes[row.line] = str(exc)
    for line, result in customer_batches.create_batch_in(work, items):
        if isinstance(result, Duplicate):
            tally.skipped += 1
            outcomes[line] = f"{SKIPPED}{result}"
        elif isinstance(result, CrmError):
            outcomes[line] = str(result)
        else:
            tally.created += 1
            tally.people += 1


def _cleaned(row: Row, customer: RowCustomer, default_country: str | None) -> dict[str, Any]:
    """The row's contact fields cleaned, by the cleaning process (``cleaning.py``) when
    it read the phones in the customer's country, else here."""
    prepared = row.prepared
    if prepared is None or prepared[0] != (customer.country or default_country):
        return clean_contact(row.values, customer, default_country)
    if isinstance(prepared[1], str):
        raise Invalid(prepared[1])
    return {**prepared[1], "customer_id": customer.id, "custom": prepared[1]["custom"] or _NO_CUSTOM}


def clean_contact(
    values: dict[str, Any], customer: RowCustomer, default_country: str | None
) -> dict[str, Any]:
    """A row's contact fields cleaned as one typed in; phone numbers read in the customer's country."""
    country = customer.country or default_country
    name = clean_text(values.get("name"), "name", required=True)
    return {
        "customer_id": customer.id,
        "name": name,
        "name_key": name_key(name, company=False),
        "title": clean_text(values.get("title"), "title"),
        "email": clean_email(values.get("email")),
        "phone": clean_phone(values.get("phone"), country),
        "mobile": clean_phone(values.get("mobile"), country, "mobile"),
        # One empty object for all rows without custom fields: stored as '{}' once a run.
        "custom": merged_custom({}, values["custom"]) if values.get("custom") else _NO_CUSTOM,
    }


def _without_duplicate_contacts(
    work: Work, cleaned: list[tuple[Row, RowCustomer, dict[str, Any]]], outcomes: Outcomes, tally: Tally
) -> list[tuple[Row, RowCustomer, dict[str, Any]]]:
    """Contacts with the same email anywhere, or the same name at the same customer,
    are skipped (contacts are not updated by an import in this version).

    One query for the emails and one for the (customer, name) pairs of the whole batch.
    """
    emails = {values["email"] for _, _, values in cleaned if values["email"]}
    pairs = {(values["customer_id"], values["name_key"]) for _, _, values in cleaned}
    seen_emails = _existing_emails(work, emails)
    seen_pairs = _existing_pairs(work, pairs)
    kept = []
    for row, customer, values in cleaned:
        pair = (values["customer_id"], values["name_key"])
        if values["email"] and values["email"] in seen_emails:
            reason = f"{SKIPPED}a contact with the email {values['email']} exists"
        elif pair in seen_pairs:
            reason = (
                f"{SKIPPED}{ref('customer', customer.id)} {customer.name} "
                f"has a contact named {values['name']}"
            )
        else:
            kept.append((row, customer, values))
            seen_pairs.add(pair)
            if values["email"]:
                seen_emails.add(values["email"])
            continue
        tally.skipped += 1
        outcomes[row.line] = reason
    return kept


def _existing_emails(work: Work, emails: set[str]) -> set[str]:
    """The addresses among ``emails`` that contacts already have.

    On SQLite the statement goes straight to the driver: building and compiling an IN
    of thousands of bound values took SQLAlchemy a few microseconds per value, more than
    the index lookups themselves.
    """
    if not emails:
        return set()
    if not bulk.is_sqlite(work):
        query = select(col(Contact.email)).where(col(Contact.email).in_(emails))
        return set(work.session.execute(query).scalars())
    found: set[str] = set()
    connection = work.session.connection()
    listed = sorted(emails)
    for start in range(0, len(listed), VALUES_PER_QUERY):
        chunk = listed[start : start + VALUES_PER_QUERY]
        marks = ", ".join("?" * len(chunk))
        query = f"SELECT email FROM contacts WHERE email IN ({marks})"
        found.update(email for (email,) in connection.exec_driver_sql(query, tuple(chunk)))
    return found


def _existing_pairs(work: Work, pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """The (customer, name key) pairs among ``pairs`` that contacts already have.

    SQLite answers ``(a, b) IN (VALUES ...)`` by scanning the whole index, so a large
    table made every batch slower; a join from the listed pairs seeks the index once per
    pair instead. PostgreSQL plans the row-value IN well.
    """
    if not pairs:
        return set()
    if not bulk.is_sqlite(work):
        query = select(col(Contact.customer_id), col(Contact.name_key)).where(
            tuple_(col(Contact.customer_id), col(Contact.name_key)).in_(pairs)
        )
        return {tuple(row) for row in work.session.execute(query)}
    found: set[tuple[int, str]] = set()
    connection = work.session.connection()
    listed = sorted(pairs)
    per_query = VALUES_PER_QUERY // 2
    for start in range(0, len(listed), per_query):
        chunk = listed[start : start + per_query]
        rows = ", ".join("(?, ?)" for _ in chunk)
        query = (
            f"SELECT c.customer_id, c.name_key FROM (VALUES {rows}) AS v CROSS JOIN contacts AS c "
            "WHERE c.customer_id = v.column1 AND c.name_key = v.column2"
        )
        params = tuple(itertools.chain.from_iterable(chunk))
        found.update((customer_id, key) for customer_id, key in connection.exec_driver_sql(query, params))
    return found


def _is_sqlite(work: Work) -> bool:
    return work.session.get_bind().dialect.name == "sqlite"


def _insert_contacts(work: Work, cleaned: list[tuple[Row, RowCustomer, dict[str, Any]]]) -> None:
    """Insert the batch's contacts and their audit entries with two executemany calls."""
    now = utcnow()
    rows = [{**values, "version": 1, "created_at": now, "updated_at": now} for _, _, values in cleaned]
    ids = bulk.insert_records(work, Contact, rows)
    entries = []
    for contact_id, (_, customer, values) in zip(ids, cleaned, strict=True):
        # What audit.diff({}, fields) gives for a new record: every field that has a value.
        changes = {"customer": [None, ref("customer", customer.id)]}
        for key in _AUDITED:
            if values[key]:
                changes[key] = [None, values[key]]
        entries.append(bulk.audit_entry(work, now, "contact", contact_id, "create", changes))
    bulk.insert_audit(work, entries)
