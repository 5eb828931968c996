"""The fixed words of the domain: roles, lifecycle stages, kinds. Standard library only."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    sales = "sales"
    service = "service"
    viewer = "viewer"


class CustomerKind(StrEnum):
    company = "company"
    person = "person"


class Lifecycle(StrEnum):
    lead = "lead"
    prospect = "prospect"
    customer = "customer"
    inactive = "inactive"


class ActivityKind(StrEnum):
    note = "note"
    call = "call"
    email = "email"
    meeting = "meeting"
    system = "system"


class CustomerSort(StrEnum):
    # Not a member called `name`: that would hide every member's own `.name`.
    alphabetical = "name"
    created = "created"
    updated = "updated"


class TaskScope(StrEnum):
    """Which open tasks a task list shows, by due date."""

    open = "open"
    today = "today"
    overdue = "overdue"
    week = "week"
    done = "done"
    all = "all"


class TicketType(StrEnum):
    complaint = "complaint"
    service_request = "service_request"
    question = "question"
    incident = "incident"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Channel(StrEnum):
    phone = "phone"
    email = "email"
    in_person = "in_person"
    other = "other"


class TicketStatus(StrEnum):
    new = "new"
    open = "open"
    pending = "pending"
    resolved = "resolved"
    closed = "closed"


class DealStatus(StrEnum):
    open = "open"
    won = "won"
    lost = "lost"


class DealSort(StrEnum):
    """What a deal list is ordered by."""

    updated = "updated"
    created = "created"
    amount = "amount"


class StageKind(StrEnum):
    """Where a pipeline stage leaves its deals: open, or closed as won or lost."""

    open = "open"
    won = "won"
    lost = "lost"


class OrderStatus(StrEnum):
    draft = "draft"
    confirmed = "confirmed"
    fulfilled = "fulfilled"
    paid = "paid"
    cancelled = "cancelled"


class Assignment(StrEnum):
    """How a new ticket without an assignee finds one."""

    none = "none"
    round_robin = "round_robin"
    least_open = "least_open"
