"""Importing contacts: each at the customer its row names, skipped when a contact with
the same email, or the same name at that customer, exists; a batch goes in with two
executemany calls (contacts and their audit entries)."""

from __future__ import annotations

import itertools
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from sqlalchemy import select, tuple_
from sqlmodel import col

from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import CrmError, Duplicate, Invalid
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.core.vocabulary import CustomerKind
from crm_tui.logic.customers import batches as customer_batches
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange import bulk, cleaning
from crm_tui.logic.exchange.cleaning import clean_contact
from crm_tui.logic.exchange.companies import Customers, RowCustomer, customer_finder
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.logic.exchange.runner import SKIPPED, Outcomes, Row, Tally
from crm_tui.storage.models import Contact
from crm_tui.storage.types import utcnow

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
    cleaned: list[Cleaned] = []
    for row in batch:
        try:
            owner = customer.planned(row.values.get("customer"))
            cleaned.append((row, owner, *_cleaned(row, owner.country or default_country)))
        except CrmError as exc:
            outcomes[row.line] = str(exc)
    cleaned = _at_made_customers(
        customer, _without_duplicate_contacts(work, cleaned, outcomes, tally), outcomes
    )
    if cleaned:
        _insert_contacts(work, cleaned)
        tally.created += len(cleaned)


# A row that is to go in: its customer (or the stand-in for one the import adds), its
# contact's fields cleaned and those fields' audit changes as JSON text (``clean_contact``).
Cleaned = tuple[Row, RowCustomer, dict[str, Any], str]


def _at_made_customers(customer: Customers, kept: list[Cleaned], outcomes: Outcomes) -> list[Cleaned]:
    """The rows to store, at the customers --create-customers adds now that they are
    known to go in (a company only refused rows name is not added)."""
    added = customer.make_all(owner for _, owner, _, _ in kept)
    if not added:
        return kept
    made = []
    for row, owner, fields, audited in kept:
        real = added.get(owner.id, owner)
        if isinstance(real, CrmError):
            outcomes[row.line] = str(real)
            continue
        made.append((row, real, fields, audited))
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


class ContactCleaning:
    """A ``runner.Preparer``: one process that cleans contacts' rows (``cleaning.py``).

    The cleaning needs the customer's country, which a row's customer keeps for the
    whole import (customers the import adds have none), so it is looked up before the
    batch before is written; the importer checks it again, and cleans the row itself
    in the rare case it differs.
    """

    def __init__(self) -> None:
        # "spawn": a fresh interpreter, not a fork of this one with its open database.
        context = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=cleaning.start)
        self.countries: dict[str | None, str | None] = {}  # by the cell naming the customer

    def submit(self, crm: Crm, batch: list[Row], options: ImportOptions) -> Future[list[cleaning.Cleaned]]:
        default = crm.settings.default_country
        self._learn_countries(crm, batch)
        items = [
            None
            if row.error or row.values.get("person")
            else (row.values, self.countries[row.values.get("customer")] or default)
            for row in batch
        ]
        return self.pool.submit(cleaning.clean_rows, items)

    def _learn_countries(self, crm: Crm, batch: list[Row]) -> None:
        """The country of each customer the batch's rows name that earlier batches did
        not; None for one crm does not have (yet: the import adds it with none)."""
        new = [row for row in batch if row.values.get("customer") not in self.countries]
        if not new:
            return
        with crm.work() as work:
            customers = customer_finder(work, new, create=False)
        found = customers.found
        for row in new:
            text = row.values.get("customer")
            key = customers.keys.get(text) if text else None
            self.countries[text] = found[key].country if key in found else None

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _cleaned(row: Row, country: str | None) -> tuple[dict[str, Any], str]:
    """The row's contact fields cleaned, by the cleaning process when it read the
    phones in ``country``, the customer's, else here."""
    prepared = row.prepared
    if prepared is None or prepared[0] != country:
        return clean_contact(row.values, country)
    if isinstance(prepared[1], str):
        raise Invalid(prepared[1])
    return prepared[1]


def _audit_changes(customer_id: int, audited: str) -> bulk.JsonText:
    """A new contact's audit changes, exactly as ``json.dumps`` writes them (the JSON
    column's own way): its customer first, then ``audited`` (``clean_contact``)."""
    head = f'{{"customer": [null, "{ref("customer", customer_id)}"]'
    return bulk.JsonText(f"{head}}}" if audited == "{}" else f"{head}, {audited[1:]}")


def _without_duplicate_contacts(
    work: Work, cleaned: list[Cleaned], outcomes: Outcomes, tally: Tally
) -> list[Cleaned]:
    """Contacts with the same email anywhere, or the same name at the same customer,
    are skipped (contacts are not updated by an import in this version).

    One query for the emails and one for the (customer, name) pairs of the whole batch.
    """
    emails = {fields["email"] for _, _, fields, _ in cleaned if fields["email"]}
    pairs = {(owner.id, fields["name_key"]) for _, owner, fields, _ in cleaned}
    seen_emails = _existing_emails(work, emails)
    seen_pairs = _existing_pairs(work, pairs)
    kept = []
    for item in cleaned:
        row, customer, fields, _ = item
        pair = (customer.id, fields["name_key"])
        if fields["email"] and fields["email"] in seen_emails:
            reason = f"{SKIPPED}a contact with the email {fields['email']} exists"
        elif pair in seen_pairs:
            reason = (
                f"{SKIPPED}{ref('customer', customer.id)} {customer.name} "
                f"has a contact named {fields['name']}"
            )
        else:
            kept.append(item)
            seen_pairs.add(pair)
            if fields["email"]:
                seen_emails.add(fields["email"])
            continue
        tally.skipped += 1
        outcomes[row.line] = reason
    return kept


def _existing_emails(work: Work, emails: set[str]) -> set[str]:
    """The addresses among ``emails`` that contacts already have."""
    query = "SELECT email FROM contacts WHERE email IN ({})"
    return {email for (email,) in bulk.rows_in(work, query, emails)}


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
    per_query = bulk.VALUES_PER_QUERY // 2
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


def _insert_contacts(work: Work, cleaned: list[Cleaned]) -> None:
    """Insert the batch's contacts and their audit entries with two executemany calls."""
    now = utcnow()
    rows = [
        # One empty object for all rows without custom fields: serialized once a batch.
        {**fields, "customer_id": owner.id, "custom": fields["custom"] or _NO_CUSTOM,
         "version": 1, "created_at": now, "updated_at": now}
        for _, owner, fields, _ in cleaned
    ]  # fmt: skip
    ids = bulk.insert_records(work, Contact, rows)
    bulk.insert_audit(
        work,
        [
            bulk.audit_entry(work, now, "contact", contact_id, "create", _audit_changes(owner.id, audited))
            for contact_id, (_, owner, _, audited) in zip(ids, cleaned, strict=True)
        ],
    )
