"""Contacts: the people at a customer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Duplicate, Invalid
from crm_tui.logic.core.records import check_version, fetch
from crm_tui.logic.core.refs import ref
from crm_tui.logic.customers.schemas import ContactCreate, ContactRead, ContactUpdate
from crm_tui.logic.values.custom_fields import merged_custom
from crm_tui.logic.values.normalise import clean_email, clean_phone, clean_text, name_key
from crm_tui.storage.models import Contact, Customer, Deal, Ticket
from crm_tui.storage.types import utcnow


def read(contact: Contact, customer: Customer) -> ContactRead:
    return ContactRead(
        id=contact.id,
        ref=ref("contact", contact.id),
        customer=ref("customer", customer.id),
        customer_name=customer.name,
        name=contact.name,
        title=contact.title,
        email=contact.email,
        phone=contact.phone,
        mobile=contact.mobile,
        custom=dict(contact.custom or {}),
        created_at=contact.created_at,
        updated_at=contact.updated_at,
        version=contact.version,
    )


def _clean(
    work: Work, given: dict[str, Any], customer: Customer, current: Contact | None = None
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    country = customer.country or work.crm.settings.default_country
    for field, raw in given.items():
        if field == "name":
            values["name"] = clean_text(raw, "name", required=True)
            values["name_key"] = name_key(values["name"], company=False)
        elif field == "title":
            values["title"] = clean_text(raw, "title")
        elif field == "email":
            values["email"] = clean_email(raw)
        elif field in ("phone", "mobile"):
            values[field] = clean_phone(raw, country, field)
        elif field == "custom":
            values["custom"] = merged_custom(current.custom if current else {}, raw or {})
    return values


def _refuse_duplicate(work: Work, customer: Customer, values: dict[str, Any], exclude: int | None) -> None:
    """Refuse a contact with the same email anywhere, or the same name at this customer."""
    conditions = []
    if values.get("email"):
        conditions.append(col(Contact.email) == values["email"])
    if values.get("name_key"):
        conditions.append(
            (col(Contact.customer_id) == customer.id) & (col(Contact.name_key) == values["name_key"])
        )
    if not conditions:
        return
    query = select(Contact).where(or_(*conditions))
    if exclude is not None:
        query = query.where(col(Contact.id) != exclude)
    other = work.session.execute(query.limit(1)).scalar_one_or_none()
    if other is not None:
        owner = work.session.get_one(Customer, other.customer_id)
        reason = (
            "the same email" if values.get("email") and other.email == values["email"] else "the same name"
        )
        raise Duplicate(
            f"{ref('contact', other.id)} {other.name} at {ref('customer', owner.id)} {owner.name} "
            f"has {reason}: it may be the same person"
        )


def create_in(work: Work, data: ContactCreate, *, force: bool = False) -> ContactRead:
    """Add a contact to a customer inside ``work``."""
    work.require("customers.write")
    customer = fetch(work, Customer, "customer", data.customer)
    if customer.archived_at is not None:
        raise Invalid(f"{ref('customer', customer.id)} is archived; restore it to add contacts")
    values = _clean(
        work,
        data.model_dump(exclude={"customer"}, exclude_unset=True) | {"name": data.name},
        customer,
    )
    if not force:
        _refuse_duplicate(work, customer, values, None)
    contact = Contact(customer_id=customer.id, **values)
    work.session.add(contact)
    work.session.flush()
    created = read(contact, customer)
    fields = created.model_dump(include={"customer", "name", "title", "email", "phone", "mobile", "custom"})
    work.audit("contact", contact.id, "create", audit.diff({}, {k: v for k, v in fields.items() if v}))
    return created


def add_contact(crm: Crm, data: ContactCreate, *, force: bool = False) -> ContactRead:
    """Add a person to a customer; a likely duplicate is refused unless ``force``."""
    with crm.work("customers.write") as work:
        return create_in(work, data, force=force)


def get_contact(crm: Crm, reference: str | int) -> ContactRead:
    with crm.work() as work:
        contact = fetch(work, Contact, "contact", reference)
        return read(contact, work.session.get_one(Customer, contact.customer_id))


def list_contacts(
    crm: Crm, customer: str | int | None = None, *, limit: int = 50, after: str | int | None = None
) -> list[ContactRead]:
    """Contacts of one customer (or of all), by name; ``after`` continues a list."""
    with crm.work() as work:
        query = select(Contact, Customer).join(Customer, col(Customer.id) == col(Contact.customer_id))
        if customer is not None:
            query = query.where(col(Contact.customer_id) == fetch(work, Customer, "customer", customer).id)
        if after is not None:
            anchor = fetch(work, Contact, "contact", after)
            query = query.where(
                or_(
                    col(Contact.name_key) > anchor.name_key,
                    (col(Contact.name_key) == anchor.name_key) & (col(Contact.id) > anchor.id),
                )
            )
        query = query.order_by(col(Contact.name_key), col(Contact.id)).limit(limit)
        return [read(contact, owner) for contact, owner in work.session.execute(query)]


def update_contact(
    crm: Crm,
    reference: str | int,
    data: ContactUpdate,
    *,
    expected_version: int | None = None,
    force: bool = False,
) -> ContactRead:
    """Change the fields given; stale edits and likely duplicates are refused."""
    with crm.work("customers.write") as work:
        contact = fetch(work, Contact, "contact", reference, for_update=True)
        check_version(work, "contact", contact, expected_version)
        customer = work.session.get_one(Customer, contact.customer_id)
        given = data.model_dump(exclude_unset=True)
        if not given:
            raise Invalid("nothing to change: give at least one field")
        before = read(contact, customer)
        values = _clean(work, given, customer, contact)
        if not force:
            _refuse_duplicate(
                work,
                customer,
                {k: v for k, v in values.items() if k in ("email", "name_key")},
                contact.id,
            )
        for column, value in values.items():
            setattr(contact, column, value)
        contact.updated_at = utcnow()
        work.session.flush()
        after = read(contact, customer)
        work.audit(
            "contact",
            contact.id,
            "update",
            audit.diff(before.model_dump(), after.model_dump(exclude={"updated_at", "version"})),
        )
        return after


def remove_contact(crm: Crm, reference: str | int) -> ContactRead:
    """Delete a contact; the audit entry keeps what it held. A contact a deal or a
    ticket names stays: they would lose whom they were with."""
    with crm.work("customers.write") as work:
        contact = fetch(work, Contact, "contact", reference, for_update=True)
        naming = _named_by(work, contact.id)
        if naming:
            raise Invalid(f"{ref('contact', contact.id)} is the contact of {', '.join(naming)}; it stays")
        customer = work.session.get_one(Customer, contact.customer_id)
        gone = read(contact, customer)
        work.session.execute(delete(Contact).where(col(Contact.id) == contact.id))
        kept = gone.model_dump(include={"customer", "name", "title", "email", "phone", "mobile"})
        work.audit("contact", contact.id, "remove", {k: [v, None] for k, v in kept.items() if v})
        return gone


def _named_by(work: Work, contact_id: int) -> list[str]:
    """The first few deals and tickets whose contact ``contact_id`` is."""
    named = []
    for kind, model in (("deal", Deal), ("ticket", Ticket)):
        query = select(col(model.id)).where(col(model.contact_id) == contact_id)
        query = query.order_by(col(model.id)).limit(3)
        named += [ref(kind, record_id) for record_id in work.session.execute(query).scalars()]
    return named
