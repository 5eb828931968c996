"""The people who asked for help, as a helpdesk's export names them: the requester of
a ticket, by email or name, with or without their company.

- A row naming no company is a ticket of the customer whose contact has the
  requester's email, or of the person customer with that email; with
  --create-customers, of a new person customer: the requester, named by the row's
  requester name or after the email ("ann.smith@x" is Ann Smith).
- A requester the customer has no contact for (by email or name) becomes its contact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import CrmError, Invalid
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.vocabulary import CustomerKind
from crm_tui.logic.customers import contacts
from crm_tui.logic.customers.schemas import ContactCreate, CustomerCreate
from crm_tui.logic.exchange.companies import RowCustomer
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.logic.exchange.runner import Row
from crm_tui.logic.values.normalise import clean_email
from crm_tui.storage.models import Contact, Customer


def requesters(work: Work, batch: list[Row], options: ImportOptions) -> dict[str, CustomerCreate]:
    """Rows that name no company (a helpdesk's requesters come by email) are the tickets
    of the customer whose contact has the requester's email, or of the person customer
    with it; with --create-customers, of a new person customer: the requester."""
    alone = [row for row in batch if not (row.values.get("customer") or "").strip()]
    emails = {_who(row.values)[0] for row in alone} - {None}
    if not emails:
        return {}
    contacts_of = _single(work.session.execute(
        select(col(Contact.email), col(Contact.customer_id), col(Contact.id))
        .join(Customer, col(Customer.id) == col(Contact.customer_id))
        .where(col(Contact.email).in_(emails), col(Customer.archived_at).is_(None))
    ))  # fmt: skip
    people = _single(work.session.execute(
        select(col(Customer.email), col(Customer.id), col(Customer.id)).where(
            col(Customer.email).in_(emails),
            col(Customer.kind) == CustomerKind.person,
            col(Customer.archived_at).is_(None),
        )
    ))  # fmt: skip
    templates: dict[str, CustomerCreate] = {}
    for row in alone:
        email, name = _who(row.values)
        if email in contacts_of:
            customer_id, contact_id = contacts_of[email]
            row.values.update(customer=ref("customer", customer_id), contact=ref("contact", contact_id))
        elif email in people:  # the person is the customer: the ticket names no contact
            row.values.update(customer=ref("customer", people[email][0]), contact=None, contact_name=None)
        elif email is not None and options.create_customers:
            name = name or _name_of(email)
            row.values.update(customer=name, contact=None, contact_name=None)
            templates.setdefault(name, CustomerCreate(name=name, kind=CustomerKind.person, email=email))
    return templates


def _who(values: dict[str, Any]) -> tuple[str | None, str | None]:
    """The requester's email and name, from whichever of the row's requester cells
    holds them (a helpdesk's "Requester" may be either)."""
    cells = [(values.get(field) or "").strip() for field in ("contact", "contact_name")]
    email = next((found for cell in cells if (found := _email_of(cell))), None)
    name = next((cell for cell in cells if cell and "@" not in cell), None)
    return email, name


def _email_of(text: str | None) -> str | None:
    """The email a requester cell holds, cleaned; None for a name or a bad address."""
    if not text or "@" not in text:
        return None
    try:
        return clean_email(text)
    except Invalid:
        return None


def _single(found: Iterable[Any]) -> dict[str, tuple[int, int]]:
    """(email, a, b) rows by email, leaving out an email that more than one row has:
    which of two customers a requester is, the file does not say."""
    by_email: dict[str, tuple[int, int]] = {}
    twice: set[str] = set()
    for email, first, second in found:
        if email in by_email:
            twice.add(email)
        by_email[email] = (first, second)
    return {email: ids for email, ids in by_email.items() if email not in twice}


def _name_of(email: str) -> str:
    """A name for a requester known by email only: "ann.smith@x" is Ann Smith."""
    words = re.split(r"[._+-]+", email.partition("@")[0])
    return " ".join(word.capitalize() for word in words if word) or email


class Requesters:
    """The requesters a batch's stored tickets name that their customer has no contact
    for: each added as a contact once (named by the row, or after the email)."""

    def __init__(self, work: Work) -> None:
        self.work = work
        self.added: dict[tuple[int, str], int] = {}

    def contact(self, customer: RowCustomer, values: dict[str, Any]) -> int:
        """The id of the contact added for the row's requester at ``customer``."""
        text = (values.get("contact") or values.get("contact_name") or "").strip()
        email, name = _who(values)
        key = (customer.id, email or text.lower())
        if key not in self.added:
            data = ContactCreate(
                customer=ref("customer", customer.id),
                name=name or (_name_of(email) if email else text),
                email=email,
            )
            savepoint = self.work.session.begin_nested()
            try:
                self.added[key] = contacts.create_in(self.work, data).id
            except CrmError:
                savepoint.rollback()
                raise
            savepoint.commit()
        return self.added[key]
