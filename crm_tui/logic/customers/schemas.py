"""Data-only models of customers, contacts, the timeline and tasks (Create/Update/Read).

Field names here are the stable names of ``--format json|jsonl|csv``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from crm_tui.logic.core.schemas import Input, Output
from crm_tui.logic.core.vocabulary import ActivityKind, CustomerKind, Lifecycle

CustomValue = str | int | float | bool | None


class CustomerFields(Input):
    kind: CustomerKind | None = None
    company: str | None = None
    lifecycle: Lifecycle | None = None
    segment: str | None = None
    owner: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    industry: str | None = None
    source: str | None = None
    custom: dict[str, CustomValue] | None = None


class CustomerCreate(CustomerFields):
    name: str
    tags: list[str] = Field(default_factory=list)


class CustomerUpdate(CustomerFields):
    """Only the fields set are changed; a field set to None or "" is cleared."""

    name: str | None = None


class CustomerRead(Output):
    id: int
    ref: str
    name: str
    kind: CustomerKind
    company: str | None
    lifecycle: Lifecycle
    segment: str | None
    owner: str | None
    email: str | None
    phone: str | None
    website: str | None
    street: str | None
    city: str | None
    postcode: str | None
    country: str | None
    industry: str | None
    source: str | None
    tags: list[str]
    custom: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    merged_into: str | None
    version: int


class CustomerPage(Output):
    """One page of a customer list; ``next_after`` continues it (None on the last page)."""

    customers: list[CustomerRead]
    next_after: str | None


class DuplicateGroup(Output):
    """Customers that share an email, a phone, or a name (at the same company)."""

    match: str  # "email", "phone" or "name"
    value: str
    customers: list[CustomerRead]


class MergeResult(Output):
    survivor: CustomerRead
    merged: str
    moved: dict[str, Any]


class ContactFields(Input):
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    custom: dict[str, CustomValue] | None = None


class ContactCreate(ContactFields):
    customer: str | int
    name: str


class ContactUpdate(ContactFields):
    name: str | None = None


class ContactRead(Output):
    id: int
    ref: str
    customer: str
    customer_name: str
    name: str
    title: str | None
    email: str | None
    phone: str | None
    mobile: str | None
    custom: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int


class ActivityCreate(Input):
    customer: str | int
    body: str = ""
    kind: ActivityKind = ActivityKind.note
    subject: str | None = None
    occurred_at: datetime | None = None


class ActivityRead(Output):
    id: int
    ref: str
    customer: str
    kind: ActivityKind
    subject: str | None
    body: str
    author: str | None
    occurred_at: datetime
    version: int


class TaskCreate(Input):
    title: str
    customer: str | int | None = None
    assignee: str | None = None
    due: date | None = None
    notes: str = ""


class TaskRead(Output):
    id: int
    ref: str
    title: str
    notes: str
    customer: str | None
    customer_name: str | None
    assignee: str | None
    due: date | None
    done: bool
    done_at: datetime | None
    overdue: bool
    created_at: datetime
    version: int


class CustomerDetail(Output):
    """A customer with everything around it, for show screens."""

    customer: CustomerRead
    contacts: list[ContactRead]
    timeline: list[ActivityRead]
    open_tasks: list[TaskRead]
