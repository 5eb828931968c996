"""Data-only models: what front ends send in (Create/Update) and get back (Read).

Input models forbid unknown fields, so a typo in a JSON Lines record is an error and
not a silently dropped value. Read models are plain objects, detached from the database.
Field names here are the stable names of ``--format json|jsonl|csv``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.vocabulary import (
    ActivityKind,
    Channel,
    CustomerKind,
    Lifecycle,
    Priority,
    Role,
    TicketStatus,
    TicketType,
)

CustomValue = str | int | float | bool | None


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(frozen=True)


In = TypeVar("In", bound=Input)


# Users


class UserCreate(Input):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: str = Field(default="", max_length=200)
    role: Role = Role.sales


class UserUpdate(Input):
    display_name: str | None = Field(default=None, max_length=200)
    role: Role | None = None


class UserRead(Output):
    id: int
    ref: str
    username: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime
    version: int


# Customers


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


# Contacts


class ContactFields(Input):
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None


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
    created_at: datetime
    updated_at: datetime
    version: int


# Timeline


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


# Tasks


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


# Audit


class AuditRead(Output):
    id: int
    at: datetime
    actor: str | None
    record: str
    action: str
    changes: dict[str, Any]


class CustomerDetail(Output):
    """A customer with everything around it, for show screens."""

    customer: CustomerRead
    contacts: list[ContactRead]
    timeline: list[ActivityRead]
    open_tasks: list[TaskRead]


# Sales

MoneyText = str | int  # "1234.50" or 1234: amounts are never floats


class StageRead(Output):
    id: int
    name: str
    position: int
    probability: int
    kind: str  # open, won, lost
    deals: int  # active deals in the stage now


class PipelineRead(Output):
    id: int
    name: str
    is_default: bool
    stages: list[StageRead]
    version: int


class DealFields(Input):
    contact: str | int | None = None
    amount: MoneyText | None = None
    currency: str | None = None
    owner: str | None = None
    expected_close: date | None = None
    source: str | None = None


class DealCreate(DealFields):
    customer: str | int
    title: str
    pipeline: str | None = None
    stage: str | None = None


class DealUpdate(DealFields):
    """Only the fields set are changed; a field set to None or "" is cleared."""

    title: str | None = None


class StageChangeRead(Output):
    at: datetime
    from_stage: str | None
    to_stage: str
    actor: str | None


class DealRead(Output):
    id: int
    ref: str
    title: str
    customer: str
    customer_name: str
    contact: str | None
    amount_minor: int
    amount: str
    currency: str
    pipeline: str
    stage: str
    probability: int
    weighted_minor: int
    status: str  # open, won, lost
    owner: str | None
    expected_close: date | None
    closed_at: datetime | None
    lost_reason: str | None
    source: str | None
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    version: int


class DealDetail(Output):
    deal: DealRead
    history: list[StageChangeRead]
    orders: list[str]


class DealPage(Output):
    deals: list[DealRead]
    next_after: str | None


class ProductCreate(Input):
    sku: str = Field(min_length=1, max_length=64)
    name: str
    price: MoneyText
    currency: str | None = None
    tax_rate: MoneyText | None = None
    active: bool = True


class ProductUpdate(Input):
    name: str | None = None
    price: MoneyText | None = None
    currency: str | None = None
    tax_rate: MoneyText | None = None


class ProductRead(Output):
    id: int
    ref: str
    sku: str
    name: str
    unit_price_minor: int
    price: str
    currency: str
    tax_rate: str
    active: bool
    version: int


class LineCreate(Input):
    """A product line (price and tax from the product unless given) or a free-text line."""

    product: str | None = None
    description: str | None = None
    quantity: MoneyText = "1"
    unit_price: MoneyText | None = None
    discount: MoneyText | None = None
    tax_rate: MoneyText | None = None


class OrderCreate(Input):
    customer: str | int
    currency: str | None = None
    deal: str | int | None = None
    owner: str | None = None
    lines: list[LineCreate] = Field(default_factory=list)


class LineRead(Output):
    id: int
    position: int
    product: str | None
    description: str
    quantity: str
    unit_price_minor: int
    discount: str
    tax_rate: str
    net_minor: int
    tax_minor: int


class OrderRead(Output):
    id: int
    ref: str
    customer: str
    customer_name: str
    deal: str | None
    owner: str | None
    status: str
    currency: str
    net_minor: int
    tax_minor: int
    total_minor: int
    total: str
    lines: list[LineRead]
    cancel_reason: str | None
    created_at: datetime
    confirmed_at: datetime | None
    fulfilled_at: datetime | None
    paid_at: datetime | None
    cancelled_at: datetime | None
    version: int


# Service desk


class TicketCreate(Input):
    customer: str | int
    subject: str
    description: str = ""
    contact: str | int | None = None
    order: str | int | None = None
    type: TicketType = TicketType.question
    priority: Priority = Priority.normal
    channel: Channel = Channel.email
    assignee: str | None = None


class TicketRead(Output):
    id: int
    ref: str
    subject: str
    description: str
    customer: str
    customer_name: str
    contact: str | None
    order: str | None
    type: TicketType
    priority: Priority
    channel: Channel
    status: TicketStatus
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    first_response_at: datetime | None
    next_due: datetime | None  # the clock that runs now: first response, else resolution
    breached: bool
    pending_since: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str | None
    merged_into: str | None
    satisfaction: int | None
    satisfaction_comment: str | None
    version: int


class MessageRead(Output):
    id: int
    ticket: str
    internal: bool
    body: str
    author: str | None
    at: datetime


class TicketDetail(Output):
    ticket: TicketRead
    messages: list[MessageRead]


class TicketPage(Output):
    tickets: list[TicketRead]
    next_after: str | None


class SlaPolicyRead(Output):
    priority: Priority
    first_response_minutes: int
    resolution_minutes: int
    version: int


class DatabaseStatus(Output):
    location: str
    backend: str
    schema_version: str | None
    code_schema_version: str
    state: str
    message: str


def describe_validation(exc: ValidationError) -> str:
    """A pydantic error as one line in the user's words: ``field: problem; ...``."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "record"
        if error["type"] == "extra_forbidden":
            parts.append(f"unknown field {field!r}")
        elif error["type"] == "missing":
            parts.append(f"{field} is required")
        else:
            parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)


def validated(model: type[In], data: Any) -> In:
    """``data`` checked against ``model``; Invalid (not a pydantic error) when it fails."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(describe_validation(exc)) from None
