"""Importing tickets through ``tickets.create_in``, as `crm ticket add` adds them: types,
priorities, channels and statuses in the words other tools use, assignees by login,
name or email. A ticket opened at its file's created date gets its SLA due times from
then; a resolved or closed one is taken through the workflow to its status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import Invalid, quoted
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.exchange.cells import crm_word, parse_moment, spellings_of
from crm_tui.logic.exchange.companies import RowCustomer
from crm_tui.logic.exchange.lookups import BatchLookups, add_row_by_row
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.logic.exchange.requesters import requester, requesters
from crm_tui.logic.exchange.runner import Outcomes, Row, Skipped, Tally
from crm_tui.logic.exchange.timeline import date_timeline
from crm_tui.logic.service import sla, tickets, workflow
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import Activity, Ticket
from crm_tui.storage.types import utcnow

_TICKET_TYPES = spellings_of({
    "question": "question,inquiry,enquiry,general inquiry,how to,howto",
    "incident": "incident,problem,bug,outage,issue,defect",
    "service_request": "service request,service_request,request,task,feature request,change request",
    "complaint": "complaint,grievance",
})  # fmt: skip
_PRIORITIES = spellings_of({
    "low": "low,lowest,minor",
    "normal": "normal,medium,moderate,standard",
    "high": "high,major,important",
    "urgent": "urgent,critical,highest,emergency,blocker",
})  # fmt: skip
_CHANNELS = spellings_of({
    "email": "email,e-mail,mail",
    "phone": "phone,telephone,call,voice",
    "in_person": "in person,in_person,walk-in,visit,on site,onsite",
    "other": "other,web,web form,form,portal,chat,live chat,api,social,twitter,facebook,whatsapp,sms",
})  # fmt: skip
_TICKET_STATUSES = spellings_of({
    "new": "new,unassigned",
    "open": "open,in progress,assigned,waiting on us,active",
    "pending": "pending,on hold,hold,waiting,waiting on contact,waiting on customer,awaiting customer",
    "resolved": "resolved,solved,fixed,done",
    "closed": "closed",
})  # fmt: skip


def import_tickets(
    work: Work, batch: list[Row], outcomes: Outcomes, tally: Tally, options: ImportOptions
) -> None:
    """Add a batch's tickets, each in its own savepoint; one already in crm is skipped."""
    add_row_by_row(
        work, batch, outcomes, tally, options, ("assignee", "service"), _ticket, requesters,
        "; with a requester's email, --create-customers makes the requester a person customer",
    )  # fmt: skip


def _ticket(work: Work, row: Row, customer: RowCustomer, found: BatchLookups, options: ImportOptions) -> None:
    """One ticket, added as `crm ticket add` adds it, opened at the file's created date
    and taken through the workflow to the file's status."""
    values = row.values
    subject = clean_text(values.get("subject"), "subject", required=True, limit=300)
    opened = parse_moment(values.get("created"), "created date", found.zone, options.date_order)
    _skip_known_ticket(work, customer, subject, opened, found.seen)
    status = crm_word(values.get("status"), "status", _TICKET_STATUSES, "new")
    closed = parse_moment(values.get("closed"), "closed date", found.zone, options.date_order)
    created = tickets.create_in(
        work,
        validated(
            TicketCreate,
            {"customer": ref("customer", customer.id), "subject": subject,
             "description": values.get("description") or "",
             "contact": requester(work, customer, values),
             "type": crm_word(values.get("type"), "type", _TICKET_TYPES, "question"),
             "priority": crm_word(values.get("priority"), "priority", _PRIORITIES, "normal"),
             "channel": crm_word(values.get("channel"), "channel", _CHANNELS, "email"),
             "assignee": found.username(values.get("assignee")), "custom": values.get("custom")},
        ),
    )  # fmt: skip
    ticket = work.session.get_one(Ticket, created.id)
    if opened is not None:
        _date_ticket(work, ticket, opened)
    _settle(work, ticket, status, values.get("resolution") or options.resolution, closed)
    found.seen[(customer.id, subject.lower(), opened)] = row.line


def _skip_known_ticket(
    work: Work,
    customer: RowCustomer,
    subject: str,
    opened: datetime | None,
    seen: dict[tuple[int, str, Any], int],
) -> None:
    """A ticket of the same customer with the same subject (any case) is a duplicate;
    when the file dates tickets, only one opened at the same moment."""
    key = (customer.id, subject.lower(), opened)
    if key in seen:
        raise Skipped(f"line {seen[key]} has the same ticket for {ref('customer', customer.id)}")
    query = select(col(Ticket.id)).where(
        col(Ticket.customer_id) == customer.id, func.lower(col(Ticket.subject)) == func.lower(subject)
    )
    if opened is not None:
        query = query.where(col(Ticket.created_at) == opened)
    existing = work.session.execute(query.limit(1)).scalar_one_or_none()
    if existing is not None:
        raise Skipped(f"{ref('ticket', existing)} {quoted(subject)} of {ref('customer', customer.id)} exists")


def _date_ticket(work: Work, ticket: Ticket, opened: datetime) -> None:
    """Open the ticket at the file's moment: the SLA due times are its priority's
    targets counted from then on the working-time clock, as at `crm ticket add`."""
    if opened > utcnow():
        raise Invalid(f"the created date {opened:%Y-%m-%d %H:%M} is in the future")
    policy = sla.sla_policy(work, ticket.priority)
    clock = sla.working_time(work.crm)
    before = workflow.status_fields(ticket) | {"created_at": audit.plain(ticket.created_at)}
    ticket.created_at = opened
    ticket.first_response_due = clock.add(opened, policy.first_response_minutes * 60)
    ticket.resolution_due = clock.add(opened, policy.resolution_minutes * 60)
    date_timeline(work, col(Activity.ticket_id) == ticket.id, opened)
    work.session.flush()
    after = workflow.status_fields(ticket) | {"created_at": audit.plain(ticket.created_at)}
    work.audit("ticket", ticket.id, "import", audit.diff(before, after))


def _settle(work: Work, ticket: Ticket, status: str, resolution: str | None, closed: datetime | None) -> None:
    """Take a new ticket through the workflow to ``status``, each step audited as the
    ticket commands audit it; a resolved or closed one is resolved at ``closed``, with
    the service report's spans kept as `crm ticket resolve` keeps them."""
    now = utcnow()
    if status == "new":
        return
    if status in ("open", "pending"):
        before = workflow.status_fields(ticket)
        workflow.move_status(work, ticket, status, now)
        work.session.flush()
        work.audit("ticket", ticket.id, "status", audit.diff(before, workflow.status_fields(ticket)))
        return
    text = clean_text(resolution, "resolution", limit=tickets.BODY_LIMIT, multiline=True)
    if not text:
        raise Invalid(f"a {status} ticket needs a resolution: give a Resolution column or --resolution TEXT")
    moment = closed or now
    if moment > now:
        raise Invalid(f"the closed date {moment:%Y-%m-%d} is in the future")
    if moment < ticket.created_at:
        raise Invalid(f"the ticket was closed ({moment:%Y-%m-%d}) before it was created")
    name = ref("ticket", ticket.id)
    for step in ("resolved", "closed") if status == "closed" else ("resolved",):
        before = workflow.status_fields(ticket)
        workflow.move_status(work, ticket, step, moment)
        if step == "resolved":
            workflow.record_resolution(work, ticket, moment, text)  # with the spans it completes
            work.session.add(
                Activity(customer_id=ticket.customer_id, ticket_id=ticket.id, kind="system",
                         body=f"Resolved {name}: {text[:200]}", author_id=work.actor.id, occurred_at=moment)
            )  # fmt: skip
        else:
            ticket.closed_at = moment
        ticket.updated_at = now
        work.session.flush()
        work.audit("ticket", ticket.id, "resolve" if step == "resolved" else "close",
                   audit.diff(before, workflow.status_fields(ticket)))  # fmt: skip
