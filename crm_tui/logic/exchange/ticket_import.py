"""Importing tickets as `crm ticket add` adds them, a batch at a time: types,
priorities, channels and statuses in the words other tools use, assignees by login,
name or email. A ticket opened at its file's created date gets its SLA due times from
then; a resolved or closed one is taken through the workflow to its status.

Every row is checked first, in Python, with what the batch names looked up once; the
rows that pass go in with one statement a table (tickets, timeline, audit), storing
what `crm ticket add`, `status`, `resolve` and `close` would have stored. Each ticket
is taken through the workflow by the workflow's own functions, in memory, before it
is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import CrmError, Forbidden, Invalid, quoted
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.core.vocabulary import Assignment
from crm_tui.logic.exchange import bulk
from crm_tui.logic.exchange.cells import crm_word, parse_moment, spellings_of, time_zone
from crm_tui.logic.exchange.companies import ContactsNamed, Customers, RowCustomer, customer_finder
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.logic.exchange.people import People, people_named
from crm_tui.logic.exchange.requesters import Requesters, requesters
from crm_tui.logic.exchange.runner import SKIPPED, Outcomes, Row, Skipped, Tally, checked
from crm_tui.logic.service import sla, tickets, workflow
from crm_tui.logic.service.assignment import Assigner, service_agent
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.logic.values.custom_fields import merged_custom
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import Activity, SlaPolicy, Ticket, table_of
from crm_tui.storage.types import utcnow

_NO_COMPANY_HINT = "; with a requester's email, --create-customers makes the requester a person customer"
_COLUMNS = [column.name for column in table_of(Ticket).columns if column.name != "id"]

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


@dataclass
class _Ticket:
    """A row checked and ready to store."""

    row: Row
    customer: RowCustomer
    data: TicketCreate
    requester: str | None  # the contact as the row names it
    assignee: str | None  # the username the row names; None: chosen automatically
    status: str  # where the workflow takes it
    resolution: str | None
    opened: datetime | None
    closed: datetime | None
    description: str
    policy: SlaPolicy
    contact_id: int | None = None
    assignee_id: int | None = None


def import_tickets(
    work: Work, batch: list[Row], outcomes: Outcomes, tally: Tally, options: ImportOptions
) -> None:
    """Add a batch's tickets; one already in crm, or on an earlier row, is skipped."""
    templates = requesters(work, batch, options)
    customers = customer_finder(work, batch, options.create_customers, templates, _NO_COMPANY_HINT)
    people = people_named(work, batch, "assignee", "service", options.create_users)
    zone, now = time_zone(work), utcnow()
    known = _subjects_of(work, {pair for row in batch if (pair := _customer_and_subject(customers, row))})
    policies = {policy.priority: policy for policy in work.session.execute(select(SlaPolicy)).scalars()}

    def check(row: Row) -> _Ticket:
        ticket = _planned_ticket(
            row, customers.planned(row.values.get("customer")), known, zone, now, options, policies
        )
        ticket.assignee = people.planned(row.values.get("assignee"))
        return ticket

    planned: list[_Ticket] = checked(batch, check, outcomes, tally)
    contacts = ContactsNamed(work, ((ticket.customer.id, ticket.requester or "") for ticket in planned))
    planned = _without_repeated_tickets(_with_requesters(planned, contacts, outcomes), outcomes, tally)
    kept = _owned(work, planned, customers, people, outcomes)
    _store(work, kept, now)
    tally.created += len(kept)
    people.count_new(tally)


def _owned(
    work: Work, planned: list[_Ticket], customers: Customers, people: People, outcomes: Outcomes
) -> list[_Ticket]:
    """The checked tickets with their customer, agent and requester: the companies,
    users and contacts the import adds for them are added now, for the rows that go in."""
    added = customers.make_all(ticket.customer for ticket in planned)
    agents = people.ids((ticket.assignee for ticket in planned if ticket.assignee), service_agent)
    new_contacts = Requesters(work)
    kept = []
    for ticket in planned:
        made = added.get(ticket.customer.id, ticket.customer)
        agent = agents.get(ticket.assignee) if ticket.assignee else None
        try:
            if isinstance(made, CrmError):
                raise made
            if isinstance(agent, CrmError):
                raise agent
            ticket.customer, ticket.assignee_id = made, agent
            if ticket.contact_id is None and ticket.requester:
                ticket.contact_id = new_contacts.contact(made, ticket.row.values)
        except Forbidden:
            raise  # stops the run: no row would fare better
        except CrmError as exc:
            outcomes[ticket.row.line] = str(exc)
            continue
        kept.append(ticket)
    return kept


def _planned_ticket(
    row: Row, customer: RowCustomer, known: dict[tuple[int, str], list[tuple[datetime, int]]], zone: Any,
    now: datetime, options: ImportOptions, policies: dict[str, SlaPolicy],
) -> _Ticket:  # fmt: skip
    """A row's ticket, checked as `crm ticket add` checks one, with its status and dates."""
    values = row.values
    subject = clean_text(values.get("subject"), "subject", required=True, limit=300)
    opened = parse_moment(values.get("created"), "created date", zone, options.date_order)
    _skip_known_ticket(customer, subject, opened, known)
    status = crm_word(values.get("status"), "status", _TICKET_STATUSES, "new")
    closed = parse_moment(values.get("closed"), "closed date", zone, options.date_order)
    data = validated(
        TicketCreate,
        {"customer": ref("customer", max(customer.id, 1)), "subject": subject,
         "description": values.get("description") or "",
         "type": crm_word(values.get("type"), "type", _TICKET_TYPES, "question"),
         "priority": crm_word(values.get("priority"), "priority", _PRIORITIES, "normal"),
         "channel": crm_word(values.get("channel"), "channel", _CHANNELS, "email"),
         "custom": values.get("custom")},
    )  # fmt: skip
    if opened is not None and opened > now:
        raise Invalid(f"the created date {opened:%Y-%m-%d %H:%M} is in the future")
    resolution = None
    if status in ("resolved", "closed"):
        resolution = clean_text(
            values.get("resolution") or options.resolution,
            "resolution",
            limit=tickets.BODY_LIMIT,
            multiline=True,
        )
        if not resolution:
            raise Invalid(
                f"a {status} ticket needs a resolution: give a Resolution column or --resolution TEXT"
            )
        moment = closed or now
        if moment > now:
            raise Invalid(f"the closed date {moment:%Y-%m-%d} is in the future")
        if moment < (opened or now):
            raise Invalid(f"the ticket was closed ({moment:%Y-%m-%d}) before it was created")
    requester = (values.get("contact") or values.get("contact_name") or "").strip() or None
    policy = policies.get(data.priority)
    if policy is None:
        raise Invalid(
            f"there is no SLA policy for priority {data.priority}; set one with `crm sla set {data.priority}`"
        )
    description = clean_text(data.description, "description", limit=tickets.BODY_LIMIT, multiline=True) or ""
    return _Ticket(
        row, customer, data, requester, None, status, resolution, opened, closed, description, policy
    )


def _customer_and_subject(customers: Customers, row: Row) -> tuple[int, str] | None:
    """The customer a row names and its ticket's subject, if both are there to be checked."""
    try:
        subject = clean_text(row.values.get("subject"), "subject", limit=300) or ""
        return customers.planned(row.values.get("customer")).id, subject
    except CrmError:
        return None


def _subjects_of(
    work: Work, pairs: set[tuple[int, str]]
) -> dict[tuple[int, str], list[tuple[datetime, int]]]:
    """The tickets with one of the (customer, subject) ``pairs``, the subject in any
    case, by (customer, subject in lower case): when each was opened, and its id. One
    seek a pair in ``ix_tickets_customer_subject``, found through ``bulk.case_foldings``."""
    columns = ["customer_id", "subject", "created_at", "id"]
    found: dict[tuple[int, str], list[tuple[datetime, int]]] = {}
    for customer_id, subject, created_at, ticket_id in bulk.matching_pairs(
        work, Ticket, "subject", pairs, columns, "ORDER BY r.id"
    ):
        found.setdefault((customer_id, subject.lower()), []).append((created_at, ticket_id))
    return found


def _skip_known_ticket(
    customer: RowCustomer, subject: str, opened: datetime | None,
    known: dict[tuple[int, str], list[tuple[datetime, int]]],
) -> None:  # fmt: skip
    """A ticket of the same customer with the same subject (any case) is a duplicate;
    when the file dates tickets, only one opened at the same moment."""
    for created_at, ticket_id in known.get((customer.id, subject.lower()), []):
        if opened is None or created_at == opened:
            raise Skipped(
                f"{ref('ticket', ticket_id)} {quoted(subject)} of {ref('customer', customer.id)} exists"
            )


def _with_requesters(planned: list[_Ticket], contacts: ContactsNamed, outcomes: Outcomes) -> list[_Ticket]:
    """The tickets whose requester is found at their customer, or is to be added there."""
    found = []
    for ticket in planned:
        try:
            ticket.contact_id = contacts.at(ticket.customer, ticket.requester, missing_ok=True)
        except CrmError as exc:
            outcomes[ticket.row.line] = str(exc)
        else:
            found.append(ticket)
    return found


def _without_repeated_tickets(planned: list[_Ticket], outcomes: Outcomes, tally: Tally) -> list[_Ticket]:
    """A ticket an earlier row of the batch adds (the same customer, subject in any
    case, and opening moment) is a duplicate too."""
    seen: dict[tuple[Any, ...], int] = {}
    kept = []
    for ticket in planned:
        key = (ticket.customer.id, ticket.data.subject.lower(), ticket.opened)
        if key in seen:
            tally.skipped += 1
            customer = ref("customer", ticket.customer.id)
            outcomes[ticket.row.line] = f"{SKIPPED}line {seen[key]} has the same ticket for {customer}"
            continue
        seen[key] = ticket.row.line
        kept.append(ticket)
    return kept


def _store(work: Work, planned: list[_Ticket], now: datetime) -> None:
    """The tickets, each taken through the workflow in memory by the workflow's own
    functions, then written with their timeline and audit entries, one statement a table."""
    clock = sla.working_time(work.crm)
    assigner = Assigner(work, Assignment(work.crm.settings.ticket_assignment))
    stories = []
    for ticket in planned:
        if ticket.assignee is None:
            agent = assigner.choose()
            ticket.assignee_id, ticket.assignee = (agent.id, agent.username) if agent else (None, None)
        stories.append(_story(work, ticket, clock, now))
        assigner.note(ticket.assignee_id, stories[-1].record.status)
    ids = bulk.insert_records(work, Ticket, [_columns(story.record) for story in stories])
    notes, entries = [], []
    for ticket_id, story in zip(ids, stories, strict=True):
        name = ref("ticket", ticket_id)
        for text, moment in story.notes:
            notes.append(_note(work, story.record, ticket_id, text.replace(_NAME, name), moment, now))
        for action, changes in story.trail:
            entries.append(bulk.audit_entry(work, now, "ticket", ticket_id, action, changes))
    bulk.insert_plain(work, Activity, notes)
    bulk.insert_audit(work, entries)


@dataclass(slots=True)
class _NewTicket:
    """A new ticket's columns, taken through the workflow before it is written: the
    workflow's functions take it as they take a stored ticket (``sla.TicketState``),
    and it costs a tenth of an ORM object to make."""

    customer_id: int
    contact_id: int | None
    subject: str
    description: str
    type: str
    priority: str
    channel: str
    assignee_id: int | None
    created_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    custom: dict[str, Any]
    id: int = 0  # none yet: the workflow names it only when refusing a move, and these moves are allowed
    version: int = 1
    order_id: int | None = None
    status: str = "new"
    updated_at: datetime = field(default_factory=utcnow)
    first_response_at: datetime | None = None
    pending_since: datetime | None = None
    paused_seconds: int = 0
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str | None = None
    merged_into_id: int | None = None
    satisfaction: int | None = None
    satisfaction_comment: str | None = None
    archived_at: datetime | None = None
    response_seconds: int | None = None
    resolution_seconds: int | None = None
    met_sla: bool | None = None


_NAME = "\x00ticket\x00"  # stands for the ticket's reference until it has an id


@dataclass
class _Story:
    """A new ticket as the workflow leaves it, with what its timeline and audit trail
    say of it, in order."""

    record: _NewTicket
    notes: list[tuple[str, datetime]]  # text, when
    trail: list[tuple[str, dict[str, Any]]]  # action, changes


def _story(work: Work, ticket: _Ticket, clock: Any, now: datetime) -> _Story:
    """Open the ticket as `crm ticket add` opens it, at the file's moment if it gives
    one, and take it through the workflow to its status."""
    data, policy = ticket.data, ticket.policy
    record = _NewTicket(
        customer_id=ticket.customer.id, contact_id=ticket.contact_id, subject=data.subject,
        description=ticket.description, type=data.type, priority=data.priority, channel=data.channel,
        assignee_id=ticket.assignee_id, created_at=now, updated_at=now,
        first_response_due=clock.add(now, policy.first_response_minutes * 60),
        resolution_due=clock.add(now, policy.resolution_minutes * 60),
        custom=merged_custom({}, data.custom or {}),
    )  # fmt: skip
    story = _Story(record, [(f"Opened {_NAME}: {record.subject}", ticket.opened or now)], [])
    story.trail.append(("create", _created(ticket, record)))
    if ticket.opened is not None:
        before = workflow.status_fields(record) | {"created_at": audit.plain(record.created_at)}
        record.created_at = ticket.opened
        record.first_response_due = clock.add(ticket.opened, policy.first_response_minutes * 60)
        record.resolution_due = clock.add(ticket.opened, policy.resolution_minutes * 60)
        after = workflow.status_fields(record) | {"created_at": audit.plain(record.created_at)}
        story.trail.append(("import", audit.diff(before, after)))
    _settle(work, ticket, story, now)
    return story


def _created(ticket: _Ticket, record: _NewTicket) -> dict[str, Any]:
    """The "create" audit entry's changes, as `crm ticket add` writes them."""
    fields = {
        "subject": record.subject, "customer": ref("customer", record.customer_id),
        "contact": ref("contact", record.contact_id) if record.contact_id else None,
        "type": record.type, "priority": record.priority, "channel": record.channel,
        "assignee": ticket.assignee, "first_response_due": record.first_response_due.isoformat(),
        "resolution_due": record.resolution_due.isoformat(), "custom": record.custom,
    }  # fmt: skip
    return {key: [None, value] for key, value in fields.items() if value not in (None, {})}


def _settle(work: Work, ticket: _Ticket, story: _Story, now: datetime) -> None:
    """Take the new ticket through the workflow to its status, each step told in the
    trail as the ticket commands tell it; a resolved or closed one is resolved at its
    closed date, with the service report's spans kept as `crm ticket resolve` keeps them."""
    record, status = story.record, ticket.status
    if status == "new":
        return
    if status in ("open", "pending"):
        before = workflow.status_fields(record)
        workflow.move_status(work, record, status, now)
        story.trail.append(("status", audit.diff(before, workflow.status_fields(record))))
        return
    assert ticket.resolution is not None  # checked with the row
    moment = ticket.closed or now
    for step in ("resolved", "closed") if status == "closed" else ("resolved",):
        before = workflow.status_fields(record)
        workflow.move_status(work, record, step, moment)
        if step == "resolved":
            workflow.record_resolution(work, record, moment, ticket.resolution)
            story.notes.append((f"Resolved {_NAME}: {ticket.resolution[:200]}", moment))
        else:
            record.closed_at = moment
        record.updated_at = now
        story.trail.append(
            ("resolve" if step == "resolved" else "close", audit.diff(before, workflow.status_fields(record)))
        )


def _columns(record: _NewTicket) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _COLUMNS}


def _note(
    work: Work, record: _NewTicket, ticket_id: int, text: str, moment: datetime, now: datetime
) -> dict[str, Any]:
    """A system entry on the customer's timeline, linked to the ticket (``tickets.on_timeline``)."""
    return {
        "version": 1, "customer_id": record.customer_id, "kind": "system", "subject": None, "body": text,
        "author_id": work.actor.id, "deal_id": None, "ticket_id": ticket_id, "occurred_at": moment,
        "created_at": now,
    }  # fmt: skip
