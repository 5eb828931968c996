"""Data-only models of tickets, their messages and SLA policies (Create/Update/Read).

Field names here are the stable names of ``--format json|jsonl|csv``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm_tui.logic.core.schemas import Input, Output
from crm_tui.logic.core.vocabulary import Channel, Priority, TicketStatus, TicketType


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
    custom: dict[str, str | int | float | bool | None] | None = None


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
    custom: dict[str, Any]
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
