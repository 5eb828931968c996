"""What a customer must pass to be saved: each field given checked and normalised, and no
likely duplicate of an active customer (the same email, the same phone, or the same name
at the same company) unless the user insists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import col

from crm_tui.logic.core import users
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import CrmError, Duplicate, Invalid
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.vocabulary import CustomerKind
from crm_tui.logic.values.custom_fields import merged_custom
from crm_tui.logic.values.normalise import (
    clean_country,
    clean_email,
    clean_phone,
    clean_text,
    clean_website,
    name_key,
)
from crm_tui.storage.models import Customer

_TEXT_LIMITS = {
    "company": 200, "segment": 64, "street": 300, "city": 120, "postcode": 32,
    "industry": 120, "source": 120,
}  # fmt: skip


# Fields


def clean_fields(work: Work, given: dict[str, Any], current: Customer | None) -> dict[str, Any]:
    """Column values for the fields the user gave, each checked and normalised."""
    values: dict[str, Any] = {}
    for field, raw in given.items():
        if field == "name":
            values["name"] = clean_text(raw, "name", required=True)
        elif field == "owner":
            values["owner_id"] = _owner_id(work, raw)
        elif field == "email":
            values["email"] = clean_email(raw)
        elif field == "website":
            values["website"] = clean_website(raw)
        elif field == "country":
            values["country"] = clean_country(raw)
        elif field in ("kind", "lifecycle"):
            if raw is None:
                raise Invalid(f"{field} must not be empty")
            values[field] = str(raw)
        elif field == "custom":
            values["custom"] = merged_custom(current.custom if current else {}, raw or {})
        elif field in _TEXT_LIMITS:
            values[field] = clean_text(raw, field, limit=_TEXT_LIMITS[field])
        elif field not in ("phone", "tags"):
            raise Invalid(f"unknown field {field!r}")
    if "phone" in given:
        country = values.get("country", current.country if current else None)
        values["phone"] = clean_phone(given["phone"], country or work.crm.settings.default_country)
    kind = values.get("kind", current.kind if current else CustomerKind.company)
    if "name" in values or "kind" in values:
        name = values.get("name", current.name if current else "")
        values["name_key"] = name_key(name, company=kind == CustomerKind.company)
    if "company" in values:
        values["company_key"] = name_key(values["company"], company=True) if values["company"] else None
    return values


def _owner_id(work: Work, username: str | None) -> int | None:
    if not username:
        return None
    try:
        return users.find_active(work, username, "owner").id
    except CrmError as exc:
        raise type(exc)(str(exc), field="owner") from None


# Duplicates


def _likely_duplicate(
    work: Work, values: dict[str, Any], exclude: int | None = None
) -> tuple[Customer, str] | None:
    """An active customer the new values would duplicate, and why.

    One query asks all three questions (same email, same phone, same name at the same
    company); the reason is read off the customer found, email first.
    """
    same_name = None
    if values.get("name_key"):
        company_key = values.get("company_key")
        same_company = (
            col(Customer.company_key).is_(None)
            if company_key is None
            else col(Customer.company_key) == company_key
        )
        same_name = and_(
            col(Customer.name_key) == values["name_key"],
            col(Customer.kind) == values.get("kind"),
            same_company,
        )
    checks = [
        col(Customer.email) == values["email"] if values.get("email") else None,
        col(Customer.phone) == values["phone"] if values.get("phone") else None,
        same_name,
    ]
    conditions = [check for check in checks if check is not None]
    if not conditions:
        return None
    query = select(Customer).where(or_(*conditions), col(Customer.archived_at).is_(None))
    if exclude is not None:
        query = query.where(col(Customer.id) != exclude)
    found = work.session.execute(query.order_by(col(Customer.id)).limit(1)).scalar_one_or_none()
    if found is None:
        return None
    if values.get("email") and found.email == values["email"]:
        return found, f"the same email ({found.email})"
    if values.get("phone") and found.phone == values["phone"]:
        return found, f"the same phone ({found.phone})"
    return found, "the same name" + (f" at {found.company}" if found.company else "")


def duplicate_error(existing: str, reason: str) -> Duplicate:
    """The refusal of a likely duplicate of ``existing`` (a record, or a line of a file)."""
    return Duplicate(f"{existing} has {reason}: it may be the same customer, to merge")


def refuse_duplicate(work: Work, values: dict[str, Any], exclude: int | None = None) -> None:
    """Refuse values that make a likely duplicate of another active customer."""
    found = _likely_duplicate(work, values, exclude)
    if found:
        other, reason = found
        raise duplicate_error(f"{ref('customer', other.id)} {other.name}", reason)


def refuse_duplicate_edit(work: Work, values: dict[str, Any], customer: Customer) -> None:
    """Refuse an edit that makes ``customer`` a likely duplicate of another: its new email,
    phone or name is compared, a new name together with the company it will have."""
    probe = {
        key: value for key, value in values.items() if key in ("email", "phone", "name_key", "company_key")
    }
    if "name_key" in probe:
        probe.setdefault("company_key", customer.company_key)
        probe.setdefault("company", customer.company)
        probe["kind"] = values.get("kind", customer.kind)
    refuse_duplicate(work, probe, exclude=customer.id)
