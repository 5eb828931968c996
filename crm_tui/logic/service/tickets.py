"""Tickets: complaints and after-sales requests, from the first message to a rated resolution.

SLA: at creation a ticket gets a first-response due time and a resolution due time from
its priority's policy, counted on the working-time clock (``working_time``). While a
ticket is pending (waiting on the customer) the clock stops; when it leaves pending, both
due times move on by the working time it waited. The first public reply records the
first response. A ticket is breached when a due time it still has to meet is past.

Status workflow (anything else is refused):
    new -> open, pending, resolved          open -> pending, resolved
    pending -> open, resolved               resolved -> open (reopen), closed
    closed -> open (reopen, admins and managers only)
Resolving needs a resolution text. A merged ticket is closed with a link to the other.

Service figures: each ticket keeps the spans the service report reads, measured on the
SLA clock as they happen, in whole seconds (half a second rounds up). The first public
reply sets the working time from creation to it (``response_seconds``). Resolving sets
the working time from creation to resolution less the time spent pending
(``resolution_seconds``), and whether the first response and the resolution each came
by its due time (``met_sla``); reopening clears both. A merged duplicate keeps its own,
which the report leaves out. Like due times, kept spans stay as they were measured when
the business hours change.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from sqlalchemy import ColumnElement, and_, case, func, or_, select, tuple_, update

from crm_tui.logic.core import audit, users
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Forbidden, Invalid
from crm_tui.logic.core.records import check_version, fetch
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.vocabulary import Assignment, Channel, Priority, Role, TicketStatus, TicketType
from crm_tui.logic.service.schemas import (
    MessageRead,
    SlaPolicyRead,
    TicketCreate,
    TicketDetail,
    TicketPage,
    TicketRead,
)
from crm_tui.logic.service.working_time import WorkingTime
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import (
    Activity,
    Contact,
    Customer,
    Order,
    SlaPolicy,
    Ticket,
    TicketMessage,
    User,
)
from crm_tui.storage.types import utcnow

ACTIVE = ("new", "open")  # the clock runs
WAITING = ("new", "open", "pending")  # not resolved or closed: the backlog
MOVES = {
    "new": {"open", "pending", "resolved"},
    "open": {"pending", "resolved"},
    "pending": {"open", "resolved"},
    "resolved": {"open", "closed"},
    "closed": {"open"},
}
BODY_LIMIT = 50_000


def working_time(crm: Crm) -> WorkingTime:
    """The SLA clock configured in the settings."""
    settings = crm.settings
    return WorkingTime.from_settings(settings.business_hours, settings.business_days, settings.timezone)


# Reading


def _next_due(ticket: Ticket) -> datetime | None:
    if ticket.status not in WAITING:
        return None
    if ticket.first_response_at is None:
        return min(ticket.first_response_due, ticket.resolution_due)
    return ticket.resolution_due


def _breached(ticket: Ticket, now: datetime) -> bool:
    """Past a due time it still has to meet; a pending ticket is judged when it paused."""
    if ticket.status not in WAITING:
        return False
    moment = ticket.pending_since if ticket.status == "pending" and ticket.pending_since else now
    if ticket.first_response_at is None and ticket.first_response_due < moment:
        return True
    return ticket.resolution_due < moment


def reads(work: Work, tickets: Sequence[Ticket]) -> list[TicketRead]:
    """Read models for many tickets with two lookups."""
    customer_ids = {ticket.customer_id for ticket in tickets}
    user_ids = {ticket.assignee_id for ticket in tickets if ticket.assignee_id}
    names = (
        dict(
            work.session.execute(
                select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))
            ).all()
        )
        if customer_ids
        else {}
    )
    agents = (
        dict(work.session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    now = utcnow()
    return [
        _read(ticket, names[ticket.customer_id], agents.get(ticket.assignee_id or 0), now)
        for ticket in tickets
    ]


def _read(ticket: Ticket, customer_name: str, assignee: str | None, now: datetime) -> TicketRead:
    return TicketRead(
        id=ticket.id,
        ref=ref("ticket", ticket.id),
        subject=ticket.subject,
        description=ticket.description,
        customer=ref("customer", ticket.customer_id),
        customer_name=customer_name,
        contact=ref("contact", ticket.contact_id) if ticket.contact_id else None,
        order=ref("order", ticket.order_id) if ticket.order_id else None,
        type=TicketType(ticket.type),
        priority=Priority(ticket.priority),
        channel=Channel(ticket.channel),
        status=TicketStatus(ticket.status),
        assignee=assignee,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        first_response_at=ticket.first_response_at,
        next_due=_next_due(ticket),
        breached=_breached(ticket, now),
        pending_since=ticket.pending_since,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        resolution=ticket.resolution,
        merged_into=ref("ticket", ticket.merged_into_id) if ticket.merged_into_id else None,
        satisfaction=ticket.satisfaction,
        satisfaction_comment=ticket.satisfaction_comment,
        version=ticket.version,
    )


def read_one(work: Work, ticket: Ticket) -> TicketRead:
    return reads(work, [ticket])[0]


def get_ticket(crm: Crm, reference: str | int) -> TicketRead:
    with crm.work() as work:
        return read_one(work, fetch(work, Ticket, "ticket", reference))


def ticket_detail(crm: Crm, reference: str | int) -> TicketDetail:
    """A ticket with its conversation, oldest message first."""
    with crm.work() as work:
        ticket = fetch(work, Ticket, "ticket", reference)
        rows = work.session.execute(
            select(TicketMessage, User.username)
            .outerjoin(User, User.id == TicketMessage.author_id)
            .where(TicketMessage.ticket_id == ticket.id)
            .order_by(TicketMessage.at, TicketMessage.id)
        ).all()
        messages = [
            MessageRead(
                id=m.id,
                ticket=ref("ticket", ticket.id),
                internal=m.internal,
                body=m.body,
                author=name,
                at=m.at,
            )
            for m, name in rows
        ]
        return TicketDetail(ticket=read_one(work, ticket), messages=messages)


# SLA policies


def sla_policy(work: Work, priority: str) -> SlaPolicy:
    policy = work.session.get(SlaPolicy, priority)
    if policy is None:
        raise Invalid(
            f"there is no SLA policy for priority {priority}; set one with `crm sla set {priority}`"
        )
    return policy


def _policy_read(policy: SlaPolicy) -> SlaPolicyRead:
    return SlaPolicyRead(
        priority=Priority(policy.priority),
        first_response_minutes=policy.first_response_minutes,
        resolution_minutes=policy.resolution_minutes,
        version=policy.version,
    )


def sla_policies(crm: Crm) -> list[SlaPolicyRead]:
    """The policies, most urgent first."""
    order = [p.value for p in reversed(Priority)]
    with crm.work() as work:
        found = {p.priority: p for p in work.session.execute(select(SlaPolicy)).scalars()}
        return [_policy_read(found[name]) for name in order if name in found]


def set_sla(
    crm: Crm, priority: Priority, *, first_response: timedelta | None, resolution: timedelta | None
) -> SlaPolicyRead:
    """Change a priority's targets; tickets already open keep the due times they have."""
    with crm.work("sla.manage") as work:
        policy = work.session.get(SlaPolicy, Priority(priority).value)
        if policy is None:
            policy = SlaPolicy(priority=priority, first_response_minutes=0, resolution_minutes=0)
            work.session.add(policy)
        before = _policy_read(policy).model_dump() if policy.first_response_minutes else {}
        if first_response is not None:
            policy.first_response_minutes = int(first_response.total_seconds() // 60)
        if resolution is not None:
            policy.resolution_minutes = int(resolution.total_seconds() // 60)
        if not policy.first_response_minutes or not policy.resolution_minutes:
            raise Invalid("an SLA policy needs both a first-response and a resolution target")
        if policy.resolution_minutes < policy.first_response_minutes:
            raise Invalid("the resolution target cannot be shorter than the first-response target")
        work.session.flush()
        after = _policy_read(policy)
        changes = audit.diff(
            before, after.model_dump(include={"first_response_minutes", "resolution_minutes"})
        )
        changes["priority"] = [None, policy.priority]
        work.audit("sla", list(Priority).index(Priority(policy.priority)) + 1, "set", changes)
        return after


# Creating


def create_in(work: Work, data: TicketCreate) -> TicketRead:
    """Open a ticket inside ``work``: due times from the priority's policy, and an agent
    chosen by the assignment setting unless one is named."""
    work.require("tickets.write")
    customer = fetch(work, Customer, "customer", data.customer)
    if customer.archived_at is not None:
        raise Invalid(f"{ref('customer', customer.id)} is archived; restore it to open tickets for it")
    contact_id = _belonging(work, Contact, "contact", data.contact, customer)
    order_id = _belonging(work, Order, "order", data.order, customer)
    policy = sla_policy(work, data.priority)
    clock = working_time(work.crm)
    now = utcnow()
    if data.assignee:
        assignee = _agent(work, data.assignee)
    else:
        assignee = _automatic_agent(work, Assignment(work.crm.settings.ticket_assignment))
    ticket = Ticket(
        customer_id=customer.id,
        contact_id=contact_id,
        order_id=order_id,
        subject=clean_text(data.subject, "subject", required=True, limit=300),
        description=clean_text(data.description, "description", limit=BODY_LIMIT) or "",
        type=data.type,
        priority=data.priority,
        channel=data.channel,
        status="new",
        assignee_id=assignee.id if assignee else None,
        created_at=now,
        updated_at=now,
        first_response_due=clock.add(now, policy.first_response_minutes * 60),
        resolution_due=clock.add(now, policy.resolution_minutes * 60),
    )
    work.session.add(ticket)
    work.session.flush()
    _on_timeline(work, ticket, f"Opened {ref('ticket', ticket.id)}: {ticket.subject}")
    created = read_one(work, ticket)
    fields = created.model_dump(
        include={"customer", "subject", "type", "priority", "channel", "assignee", "contact", "order",
                 "first_response_due", "resolution_due"}
    )  # fmt: skip
    work.audit(
        "ticket",
        ticket.id,
        "create",
        audit.diff({}, {k: v for k, v in fields.items() if v is not None}),
    )
    return created


def add_ticket(crm: Crm, data: TicketCreate) -> TicketRead:
    with crm.work("tickets.write") as work:
        return create_in(work, data)


def _belonging(work: Work, model, kind: str, reference, customer: Customer) -> int | None:
    """The id of a contact or order, which must belong to the ticket's customer."""
    if reference is None or not str(reference).strip():
        return None
    row = fetch(work, model, kind, reference)
    if row.customer_id != customer.id:
        raise Invalid(f"{ref(kind, row.id)} is not {customer.name}'s ({ref('customer', customer.id)})")
    return row.id


def _agent(work: Work, username: str) -> User:
    """An active user with the service role, who can be given tickets."""
    user = users.find_active(work, username, "assignee")
    if user.role != Role.service:
        raise Invalid(f"{user.username} is {user.role}; tickets go to users with the service role")
    return user


def _agents(work: Work) -> list[User]:
    return list(
        work.session.execute(
            select(User).where(User.role == Role.service, User.active).order_by(User.username)
        ).scalars()
    )


def _automatic_agent(work: Work, mode: Assignment) -> User | None:
    """round_robin: the agent after the one given the latest ticket; least_open: the
    agent with the fewest waiting tickets (by name on a tie)."""
    if mode == Assignment.none:
        return None
    agents = _agents(work)
    if not agents:
        return None
    if mode == Assignment.round_robin:
        last = work.session.execute(
            select(Ticket.assignee_id)
            .where(Ticket.assignee_id.in_([agent.id for agent in agents]))
            .order_by(Ticket.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        ids = [agent.id for agent in agents]
        return agents[(ids.index(last) + 1) % len(agents)] if last in ids else agents[0]
    load = dict(
        work.session.execute(
            select(Ticket.assignee_id, func.count())
            .where(Ticket.status.in_(WAITING), Ticket.assignee_id.in_([agent.id for agent in agents]))
            .group_by(Ticket.assignee_id)
        ).all()
    )
    return min(agents, key=lambda agent: (load.get(agent.id, 0), agent.username))


def _on_timeline(work: Work, ticket: Ticket, text: str) -> None:
    work.session.add(
        Activity(
            customer_id=ticket.customer_id,
            ticket_id=ticket.id,
            kind="system",
            body=text,
            author_id=work.actor.id,
        )
    )


# The clock


class TicketTimes(Protocol):
    """What the spans are measured from: a ticket, or a row of its times."""

    created_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    paused_seconds: int


class Spans(NamedTuple):
    """The service figures kept on a ticket (see the module docstring)."""

    response_seconds: int | None
    resolution_seconds: int | None
    met_sla: bool | None


def measure_spans(clock: WorkingTime, ticket: TicketTimes) -> Spans:
    """A ticket's spans from its times, equal to those kept as they happened when the
    clock has not changed since; for rows written without these rules."""
    response = _response_seconds(clock, ticket) if ticket.first_response_at is not None else None
    if ticket.resolved_at is None:
        return Spans(response, None, None)
    return Spans(response, _resolution_seconds(clock, ticket), _met_sla(ticket))


def span_measure(crm: Crm) -> Callable[[TicketTimes], Spans] | None:
    """What a schema upgrade measures existing tickets' spans with: the SLA clock of the
    settings when business hours are set; None (the database measures calendar time,
    the same and much quicker) when they are not."""
    clock = working_time(crm)
    return functools.partial(measure_spans, clock) if clock.hours else None


def _whole_seconds(seconds: float) -> int:
    return math.floor(seconds + 0.5)


def _response_seconds(clock: WorkingTime, ticket: TicketTimes) -> int:
    assert ticket.first_response_at is not None
    return _whole_seconds(clock.between(ticket.created_at, ticket.first_response_at))


def _resolution_seconds(clock: WorkingTime, ticket: TicketTimes) -> int:
    assert ticket.resolved_at is not None
    worked = clock.between(ticket.created_at, ticket.resolved_at) - ticket.paused_seconds
    return _whole_seconds(max(worked, 0))


def _met_sla(ticket: TicketTimes) -> bool:
    assert ticket.resolved_at is not None
    return (
        ticket.first_response_at is not None
        and ticket.first_response_at <= ticket.first_response_due
        and ticket.resolved_at <= ticket.resolution_due
    )


def _pause(ticket: Ticket, now: datetime) -> None:
    ticket.pending_since = now


def _resume(work: Work, ticket: Ticket, now: datetime) -> None:
    """Leave pending: the due times move on by the working time spent waiting."""
    if ticket.pending_since is None:
        return
    clock = working_time(work.crm)
    waited = clock.between(ticket.pending_since, now)
    ticket.paused_seconds += round(waited)
    ticket.resolution_due = clock.add(ticket.resolution_due, waited)
    if ticket.first_response_at is None:
        ticket.first_response_due = clock.add(ticket.first_response_due, waited)
    ticket.pending_since = None


def move_status(work: Work, ticket: Ticket, status: str, now: datetime) -> None:
    """Apply one allowed move of the workflow, starting or stopping the clock."""
    name = ref("ticket", ticket.id)
    if status == ticket.status:
        raise Invalid(f"{name} is already {status}")
    if status not in MOVES[ticket.status]:
        raise Invalid(
            f"{name} is {ticket.status}; it can go to {', '.join(sorted(MOVES[ticket.status]))}, not {status}"
        )
    if ticket.status == "pending":
        _resume(work, ticket, now)
    if status == "pending":
        _pause(ticket, now)
    ticket.status = status
    ticket.updated_at = now


def _editable(work: Work, reference: str | int, expected_version: int | None) -> Ticket:
    ticket = fetch(work, Ticket, "ticket", reference, for_update=True)
    check_version(work, "ticket", ticket, expected_version)
    if ticket.merged_into_id:
        raise Invalid(
            f"{ref('ticket', ticket.id)} was merged into {ref('ticket', ticket.merged_into_id)}; work there"
        )
    return ticket


def status_fields(ticket: Ticket) -> dict:
    return {
        "status": ticket.status,
        "first_response_due": audit.plain(ticket.first_response_due),
        "resolution_due": audit.plain(ticket.resolution_due),
        "first_response_at": audit.plain(ticket.first_response_at),
        "resolved_at": audit.plain(ticket.resolved_at),
        "closed_at": audit.plain(ticket.closed_at),
        "resolution": ticket.resolution,
    }


def set_status(
    crm: Crm, reference: str | int, status: str, *, expected_version: int | None = None
) -> TicketRead:
    """Move a ticket to open or pending (resolve, close and reopen have their own steps)."""
    if status in ("resolved", "closed"):
        step = "resolve" if status == "resolved" else "close"
        raise Invalid(f"use `crm ticket {step}` to make a ticket {status}")
    if status not in ("open", "pending"):
        raise Invalid(f"a ticket's status is set to open or pending, not {status!r}")
    with crm.work("tickets.write") as work:
        ticket = _editable(work, reference, expected_version)
        before = status_fields(ticket)
        move_status(work, ticket, status, utcnow())
        work.session.flush()
        work.audit("ticket", ticket.id, "status", audit.diff(before, status_fields(ticket)))
        return read_one(work, ticket)


# The conversation


def _message(
    crm: Crm,
    reference: str | int,
    body: str,
    *,
    internal: bool,
    pending: bool,
    expected_version: int | None,
) -> TicketRead:
    with crm.work("tickets.write") as work:
        ticket = _editable(work, reference, expected_version)
        name = ref("ticket", ticket.id)
        if ticket.status == "closed":
            raise Invalid(f"{name} is closed; reopen it to write on it")
        text = clean_text(body, "message", required=True, limit=BODY_LIMIT)
        now = utcnow()
        before = status_fields(ticket)
        work.session.add(
            TicketMessage(ticket_id=ticket.id, internal=internal, body=text, author_id=work.actor.id, at=now)
        )
        if not internal:
            if ticket.first_response_at is None:
                ticket.first_response_at = now
                ticket.response_seconds = _response_seconds(working_time(work.crm), ticket)
            if pending and ticket.status != "pending":
                move_status(work, ticket, "pending", now)
            elif ticket.status == "new":
                move_status(work, ticket, "open", now)
        ticket.updated_at = now
        what = "Internal note" if internal else "Reply"
        _on_timeline(work, ticket, f"{what} on {name} by {work.actor.username}: {text[:200]}")
        work.session.flush()
        changes = audit.diff(before, status_fields(ticket))
        changes["message"] = [None, text[:500]]
        work.audit("ticket", ticket.id, "note" if internal else "reply", changes)
        return read_one(work, ticket)


def reply(
    crm: Crm,
    reference: str | int,
    body: str,
    *,
    pending: bool = False,
    expected_version: int | None = None,
) -> TicketRead:
    """A public reply; the first one is the first response. ``pending``: now waiting on the customer."""
    return _message(crm, reference, body, internal=False, pending=pending, expected_version=expected_version)


def note(crm: Crm, reference: str | int, body: str, *, expected_version: int | None = None) -> TicketRead:
    """An internal note for the team; it does not count as a response."""
    return _message(crm, reference, body, internal=True, pending=False, expected_version=expected_version)


# Assignment, resolution, closing


def assign(
    crm: Crm, reference: str | int, username: str | None, *, expected_version: int | None = None
) -> TicketRead:
    """Give a ticket to a service agent (None: to nobody); reassignments are audited."""
    with crm.work("tickets.write") as work:
        ticket = _editable(work, reference, expected_version)
        agent = _agent(work, username) if username else None
        old = work.session.get(User, ticket.assignee_id) if ticket.assignee_id else None
        if (old.id if old else None) == (agent.id if agent else None):
            raise Invalid(
                f"{ref('ticket', ticket.id)} is already {'with ' + agent.username if agent else 'unassigned'}"
            )
        ticket.assignee_id = agent.id if agent else None
        ticket.updated_at = utcnow()
        work.session.flush()
        work.audit(
            "ticket",
            ticket.id,
            "assign",
            {"assignee": [old.username if old else None, agent.username if agent else None]},
        )
        return read_one(work, ticket)


def resolve(
    crm: Crm, reference: str | int, resolution: str, *, expected_version: int | None = None
) -> TicketRead:
    """Resolve a ticket, saying how; the clock stops."""
    with crm.work("tickets.write") as work:
        ticket = _editable(work, reference, expected_version)
        text = clean_text(resolution, "resolution", limit=BODY_LIMIT)
        if not text:
            raise Invalid(f"say how {ref('ticket', ticket.id)} was resolved: a resolution is required")
        before = status_fields(ticket)
        now = utcnow()
        move_status(work, ticket, "resolved", now)
        record_resolution(work, ticket, now, text)
        _on_timeline(work, ticket, f"Resolved {ref('ticket', ticket.id)}: {text[:200]}")
        work.session.flush()
        work.audit("ticket", ticket.id, "resolve", audit.diff(before, status_fields(ticket)))
        return read_one(work, ticket)


def record_resolution(work: Work, ticket: Ticket, moment: datetime, text: str) -> None:
    """The resolution of a ticket just moved to resolved (which ended any pause), with
    the spans it completes."""
    ticket.resolved_at, ticket.resolution = moment, text
    ticket.resolution_seconds = _resolution_seconds(working_time(work.crm), ticket)
    ticket.met_sla = _met_sla(ticket)


def close(crm: Crm, reference: str | int, *, expected_version: int | None = None) -> TicketRead:
    """Close a resolved ticket."""
    with crm.work("tickets.write") as work:
        ticket = _editable(work, reference, expected_version)
        before = status_fields(ticket)
        if ticket.status != "resolved":
            raise Invalid(f"{ref('ticket', ticket.id)} is {ticket.status}; resolve it before closing it")
        now = utcnow()
        move_status(work, ticket, "closed", now)
        ticket.closed_at = now
        work.session.flush()
        work.audit("ticket", ticket.id, "close", audit.diff(before, status_fields(ticket)))
        return read_one(work, ticket)


def reopen(crm: Crm, reference: str | int, *, expected_version: int | None = None) -> TicketRead:
    """Reopen a resolved ticket, or a closed one (admins and managers only)."""
    with crm.work("tickets.write") as work:
        ticket = _editable(work, reference, expected_version)
        if ticket.status == "closed":
            try:
                work.require("tickets.reopen_closed")
            except Forbidden:
                raise Forbidden(
                    f"{ref('ticket', ticket.id)} is closed; only an admin or a manager can reopen it"
                ) from None
        if ticket.status not in ("resolved", "closed"):
            raise Invalid(f"{ref('ticket', ticket.id)} is {ticket.status}, not resolved or closed")
        before = status_fields(ticket)
        move_status(work, ticket, "open", utcnow())
        ticket.resolved_at = ticket.closed_at = ticket.resolution = None
        ticket.resolution_seconds = ticket.met_sla = None
        work.session.flush()
        work.audit("ticket", ticket.id, "reopen", audit.diff(before, status_fields(ticket)))
        return read_one(work, ticket)


def merge(crm: Crm, duplicate: str | int, into: str | int) -> TicketRead:
    """Merge a duplicate ticket into another: its conversation moves there, and it is
    closed with a link to the ticket it was merged into."""
    with crm.work("tickets.write") as work:
        source = _editable(work, duplicate, None)
        target = _editable(work, into, None)
        if source.id == target.id:
            raise Invalid("a ticket cannot be merged into itself")
        for ticket in (source, target):
            if ticket.status == "closed":
                raise Invalid(f"{ref('ticket', ticket.id)} is closed; reopen it before merging")
        moved = list(
            work.session.execute(
                select(TicketMessage.id).where(TicketMessage.ticket_id == source.id)
            ).scalars()
        )
        work.session.execute(
            update(TicketMessage).where(TicketMessage.ticket_id == source.id).values(ticket_id=target.id),
            execution_options={"synchronize_session": False},
        )
        now = utcnow()
        source_name, target_name = ref("ticket", source.id), ref("ticket", target.id)
        text = f"Merged {source_name} ({source.subject}) into this ticket"
        if source.description:
            text += f":\n{source.description}"
        work.session.add(
            TicketMessage(ticket_id=target.id, internal=True, body=text, author_id=work.actor.id, at=now)
        )
        before = status_fields(source)
        if source.status == "pending":
            _resume(work, source, now)
        source.status, source.closed_at, source.updated_at = "closed", now, now
        source.merged_into_id, source.resolution = target.id, f"Merged into {target_name}"
        target.updated_at = now
        work.session.flush()
        work.audit(
            "ticket",
            source.id,
            "merged_into",
            {**audit.diff(before, status_fields(source)), "merged_into": [None, target_name]},
        )
        work.audit(
            "ticket",
            target.id,
            "merge",
            {"merged": [None, source_name], "messages_moved": [None, len(moved)]},
        )
        return read_one(work, target)


def rate(crm: Crm, reference: str | int, score: int, comment: str | None = None) -> TicketRead:
    """The customer's satisfaction, 1 to 5, once the ticket is resolved (it may be revised)."""
    with crm.work("tickets.write") as work:
        ticket = _editable(work, reference, None)
        if ticket.status not in ("resolved", "closed"):
            raise Invalid(f"{ref('ticket', ticket.id)} is {ticket.status}; rate it once it is resolved")
        if not 1 <= score <= 5:
            raise Invalid("a satisfaction score is 1 to 5")
        before = {
            "satisfaction": ticket.satisfaction,
            "satisfaction_comment": ticket.satisfaction_comment,
        }
        ticket.satisfaction = score
        ticket.satisfaction_comment = clean_text(comment, "comment", limit=1000)
        ticket.updated_at = utcnow()
        work.session.flush()
        after = {
            "satisfaction": ticket.satisfaction,
            "satisfaction_comment": ticket.satisfaction_comment,
        }
        work.audit("ticket", ticket.id, "rate", audit.diff(before, after))
        return read_one(work, ticket)


# Queues


def _breached_now(now: datetime) -> ColumnElement[bool]:
    no_response = Ticket.first_response_at.is_(None)
    running = and_(
        Ticket.status.in_(ACTIVE),
        or_(Ticket.resolution_due < now, and_(no_response, Ticket.first_response_due < now)),
    )
    paused = and_(
        Ticket.status == "pending",
        or_(
            Ticket.resolution_due < Ticket.pending_since,
            and_(no_response, Ticket.first_response_due < Ticket.pending_since),
        ),
    )
    return or_(running, paused)


def _next_due_column() -> ColumnElement:
    return case(
        (
            and_(
                Ticket.first_response_at.is_(None),
                Ticket.first_response_due < Ticket.resolution_due,
            ),
            Ticket.first_response_due,
        ),
        else_=Ticket.resolution_due,
    )


def list_tickets(
    crm: Crm,
    *,
    status: str | None = None,
    assignee: str | None = None,
    customer: str | int | None = None,
    priority: str | None = None,
    breached: bool = False,
    due_within: timedelta | None = None,
    limit: int = 50,
    after: str | int | None = None,
) -> TicketPage:
    """A queue page, soonest due first. ``status`` None means waiting (new, open,
    pending); "all" means every status. ``assignee`` "none" means unassigned."""
    now = utcnow()
    with crm.work() as work:
        query = select(Ticket).where(Ticket.archived_at.is_(None))
        if status is None:
            query = query.where(Ticket.status.in_(WAITING))
        elif status != "all":
            query = query.where(Ticket.status == TicketStatus(status).value)
        if assignee:
            if assignee.lower() == "none":
                query = query.where(Ticket.assignee_id.is_(None))
            else:
                query = query.where(Ticket.assignee_id == users.find(work, assignee).id)
        if customer is not None:
            query = query.where(Ticket.customer_id == fetch(work, Customer, "customer", customer).id)
        if priority:
            query = query.where(Ticket.priority == Priority(priority).value)
        if breached:
            query = query.where(_breached_now(now))
        if due_within is not None:
            horizon = now + due_within
            query = query.where(
                Ticket.status.in_(ACTIVE),
                ~_breached_now(now),
                or_(
                    and_(Ticket.first_response_at.is_(None), Ticket.first_response_due <= horizon),
                    Ticket.resolution_due <= horizon,
                ),
            )
        due = _next_due_column()
        if after is not None:
            anchor = fetch(work, Ticket, "ticket", after)
            mark = _next_due(anchor) or anchor.resolution_due
            query = query.where(tuple_(due, Ticket.id) > tuple_(mark, anchor.id))
        rows = list(work.session.execute(query.order_by(due, Ticket.id).limit(limit + 1)).scalars())
        more = len(rows) > limit
        rows = rows[:limit]
        return TicketPage(tickets=reads(work, rows), next_after=ref("ticket", rows[-1].id) if more else None)


def waiting_by_agent(crm: Crm) -> list[tuple[str, int, int]]:
    """Per agent (None: unassigned): tickets waiting, and of those breached now."""
    now = utcnow()
    with crm.work() as work:
        rows = work.session.execute(
            select(User.username, func.count(), func.sum(case((_breached_now(now), 1), else_=0)))
            .select_from(Ticket)
            .outerjoin(User, User.id == Ticket.assignee_id)
            .where(Ticket.status.in_(WAITING), Ticket.archived_at.is_(None))
            .group_by(User.username)
        ).all()
        return sorted(
            ((name, count, int(late or 0)) for name, count, late in rows), key=lambda row: row[0] or ""
        )
