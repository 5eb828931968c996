"""Tickets: complaints and after-sales requests, from the first message to a rated resolution.

A ticket is opened with due times from its priority's SLA policy (``sla``) and goes to an
agent (``assignment``); the conversation is kept in ``replies``. Its status moves by the
workflow's rules (``workflow``): set open or pending, resolve, close, reopen, or merge a
duplicate into another ticket, which closes it with a link to the other. Queues list the
waiting tickets, soonest due first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, tuple_, update
from sqlmodel import col

from crm_tui.logic.core import audit, users
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Forbidden, Invalid
from crm_tui.logic.core.records import check_version, fetch
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.vocabulary import Assignment, Channel, Priority, TicketStatus, TicketType
from crm_tui.logic.service.assignment import automatic_agent, service_agent
from crm_tui.logic.service.schemas import (
    MessageRead,
    TicketCreate,
    TicketDetail,
    TicketPage,
    TicketRead,
)
from crm_tui.logic.service.sla import (
    ACTIVE,
    WAITING,
    breached_now,
    is_breached,
    next_due,
    next_due_column,
    resume,
    sla_policy,
    working_time,
)
from crm_tui.logic.service.workflow import clear_resolution, move_status, record_resolution, status_fields
from crm_tui.logic.values.custom_fields import merged_custom
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import Activity, Contact, Customer, Order, Ticket, TicketMessage, User
from crm_tui.storage.types import utcnow

BODY_LIMIT = 50_000


# Reading


def reads(work: Work, tickets: Sequence[Ticket]) -> list[TicketRead]:
    """Read models for many tickets with two lookups."""
    customer_ids = {ticket.customer_id for ticket in tickets}
    user_ids = {ticket.assignee_id for ticket in tickets if ticket.assignee_id}
    names = (
        dict(
            work.session.execute(
                select(col(Customer.id), col(Customer.name)).where(col(Customer.id).in_(customer_ids))
            ).all()
        )
        if customer_ids
        else {}
    )
    agents = (
        dict(
            work.session.execute(
                select(col(User.id), col(User.username)).where(col(User.id).in_(user_ids))
            ).all()
        )
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
        next_due=next_due(ticket),
        breached=is_breached(ticket, now),
        pending_since=ticket.pending_since,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        resolution=ticket.resolution,
        merged_into=ref("ticket", ticket.merged_into_id) if ticket.merged_into_id else None,
        satisfaction=ticket.satisfaction,
        satisfaction_comment=ticket.satisfaction_comment,
        custom=dict(ticket.custom or {}),
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
            select(TicketMessage, col(User.username))
            .outerjoin(User, col(User.id) == col(TicketMessage.author_id))
            .where(col(TicketMessage.ticket_id) == ticket.id)
            .order_by(col(TicketMessage.at), col(TicketMessage.id))
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
        assignee = service_agent(work, data.assignee)
    else:
        assignee = automatic_agent(work, Assignment(work.crm.settings.ticket_assignment))
    ticket = Ticket(
        customer_id=customer.id,
        contact_id=contact_id,
        order_id=order_id,
        subject=clean_text(data.subject, "subject", required=True, limit=300),
        description=clean_text(data.description, "description", limit=BODY_LIMIT, multiline=True) or "",
        type=data.type,
        priority=data.priority,
        channel=data.channel,
        status="new",
        assignee_id=assignee.id if assignee else None,
        created_at=now,
        updated_at=now,
        first_response_due=clock.add(now, policy.first_response_minutes * 60),
        resolution_due=clock.add(now, policy.resolution_minutes * 60),
        custom=merged_custom({}, data.custom or {}),
    )
    work.session.add(ticket)
    work.session.flush()
    on_timeline(work, ticket, f"Opened {ref('ticket', ticket.id)}: {ticket.subject}")
    created = read_one(work, ticket)
    fields = created.model_dump(
        include={"customer", "subject", "type", "priority", "channel", "assignee", "contact", "order",
                 "first_response_due", "resolution_due", "custom"}
    )  # fmt: skip
    work.audit(
        "ticket",
        ticket.id,
        "create",
        audit.diff({}, {k: v for k, v in fields.items() if v not in (None, {})}),
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


def on_timeline(work: Work, ticket: Ticket, text: str) -> None:
    """A system entry on the customer's timeline, linked to the ticket."""
    work.session.add(
        Activity(
            customer_id=ticket.customer_id,
            ticket_id=ticket.id,
            kind="system",
            body=text,
            author_id=work.actor.id,
        )
    )


# Working on a ticket


def editable_ticket(work: Work, reference: str | int, expected_version: int | None) -> Ticket:
    """The ticket to change, locked; an edit based on an older version is refused, and a
    merged ticket is worked on where it was merged into."""
    ticket = fetch(work, Ticket, "ticket", reference, for_update=True)
    check_version(work, "ticket", ticket, expected_version)
    if ticket.merged_into_id:
        raise Invalid(
            f"{ref('ticket', ticket.id)} was merged into {ref('ticket', ticket.merged_into_id)}; work there"
        )
    return ticket


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
        ticket = editable_ticket(work, reference, expected_version)
        before = status_fields(ticket)
        move_status(work, ticket, status, utcnow())
        work.session.flush()
        work.audit("ticket", ticket.id, "status", audit.diff(before, status_fields(ticket)))
        return read_one(work, ticket)


def assign(
    crm: Crm, reference: str | int, username: str | None, *, expected_version: int | None = None
) -> TicketRead:
    """Give a ticket to a service agent (None: to nobody); reassignments are audited."""
    with crm.work("tickets.write") as work:
        ticket = editable_ticket(work, reference, expected_version)
        agent = service_agent(work, username) if username else None
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
        ticket = editable_ticket(work, reference, expected_version)
        text = clean_text(resolution, "resolution", limit=BODY_LIMIT, multiline=True)
        if not text:
            raise Invalid(f"say how {ref('ticket', ticket.id)} was resolved: a resolution is required")
        before = status_fields(ticket)
        now = utcnow()
        move_status(work, ticket, "resolved", now)
        record_resolution(work, ticket, now, text)
        on_timeline(work, ticket, f"Resolved {ref('ticket', ticket.id)}: {text[:200]}")
        work.session.flush()
        work.audit("ticket", ticket.id, "resolve", audit.diff(before, status_fields(ticket)))
        return read_one(work, ticket)


def close(crm: Crm, reference: str | int, *, expected_version: int | None = None) -> TicketRead:
    """Close a resolved ticket."""
    with crm.work("tickets.write") as work:
        ticket = editable_ticket(work, reference, expected_version)
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
        ticket = editable_ticket(work, reference, expected_version)
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
        clear_resolution(ticket)
        work.session.flush()
        work.audit("ticket", ticket.id, "reopen", audit.diff(before, status_fields(ticket)))
        return read_one(work, ticket)


def merge(crm: Crm, duplicate: str | int, into: str | int) -> TicketRead:
    """Merge a duplicate ticket into another: its conversation moves there, and it is
    closed with a link to the ticket it was merged into."""
    with crm.work("tickets.write") as work:
        source = editable_ticket(work, duplicate, None)
        target = editable_ticket(work, into, None)
        if source.id == target.id:
            raise Invalid("a ticket cannot be merged into itself")
        for ticket in (source, target):
            if ticket.status == "closed":
                raise Invalid(f"{ref('ticket', ticket.id)} is closed; reopen it before merging")
        now = utcnow()
        moved = _move_conversation(work, source, target, now)
        source_name, target_name = ref("ticket", source.id), ref("ticket", target.id)
        before = status_fields(source)
        if source.status == "pending":
            resume(work, source, now)
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
            {"merged": [None, source_name], "messages_moved": [None, moved]},
        )
        return read_one(work, target)


def _move_conversation(work: Work, source: Ticket, target: Ticket, now: datetime) -> int:
    """Move the duplicate's messages to the ticket it is merged into, with a note there of
    what it was; returns how many moved."""
    moved = list(
        work.session.execute(
            select(col(TicketMessage.id)).where(col(TicketMessage.ticket_id) == source.id)
        ).scalars()
    )
    work.session.execute(
        update(TicketMessage).where(col(TicketMessage.ticket_id) == source.id).values(ticket_id=target.id),
        execution_options={"synchronize_session": False},
    )
    text = f"Merged {ref('ticket', source.id)} ({source.subject}) into this ticket"
    if source.description:
        text += f":\n{source.description}"
    work.session.add(
        TicketMessage(ticket_id=target.id, internal=True, body=text, author_id=work.actor.id, at=now)
    )
    return len(moved)


def rate(crm: Crm, reference: str | int, score: int, comment: str | None = None) -> TicketRead:
    """The customer's satisfaction, 1 to 5, once the ticket is resolved (it may be revised)."""
    with crm.work("tickets.write") as work:
        ticket = editable_ticket(work, reference, None)
        if ticket.status not in ("resolved", "closed"):
            raise Invalid(f"{ref('ticket', ticket.id)} is {ticket.status}; rate it once it is resolved")
        if not 1 <= score <= 5:
            raise Invalid("a satisfaction score is 1 to 5")
        before = {
            "satisfaction": ticket.satisfaction,
            "satisfaction_comment": ticket.satisfaction_comment,
        }
        ticket.satisfaction = score
        ticket.satisfaction_comment = clean_text(comment, "comment", limit=1000, multiline=True)
        ticket.updated_at = utcnow()
        work.session.flush()
        after = {
            "satisfaction": ticket.satisfaction,
            "satisfaction_comment": ticket.satisfaction_comment,
        }
        work.audit("ticket", ticket.id, "rate", audit.diff(before, after))
        return read_one(work, ticket)


# Queues


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
        query = select(Ticket).where(col(Ticket.archived_at).is_(None))
        if status is None:
            query = query.where(col(Ticket.status).in_(WAITING))
        elif status != "all":
            query = query.where(col(Ticket.status) == TicketStatus(status).value)
        if assignee:
            if assignee.lower() == "none":
                query = query.where(col(Ticket.assignee_id).is_(None))
            else:
                query = query.where(col(Ticket.assignee_id) == users.find(work, assignee).id)
        if customer is not None:
            query = query.where(col(Ticket.customer_id) == fetch(work, Customer, "customer", customer).id)
        if priority:
            query = query.where(col(Ticket.priority) == Priority(priority).value)
        if breached:
            query = query.where(breached_now(now))
        if due_within is not None:
            horizon = now + due_within
            query = query.where(
                col(Ticket.status).in_(ACTIVE),
                ~breached_now(now),
                or_(
                    and_(col(Ticket.first_response_at).is_(None), col(Ticket.first_response_due) <= horizon),
                    col(Ticket.resolution_due) <= horizon,
                ),
            )
        due = next_due_column()
        if after is not None:
            anchor = fetch(work, Ticket, "ticket", after)
            mark = next_due(anchor) or anchor.resolution_due
            query = query.where(tuple_(due, col(Ticket.id)) > tuple_(mark, anchor.id))
        rows = list(work.session.execute(query.order_by(due, col(Ticket.id)).limit(limit + 1)).scalars())
        more = len(rows) > limit
        rows = rows[:limit]
        return TicketPage(tickets=reads(work, rows), next_after=ref("ticket", rows[-1].id) if more else None)


def waiting_by_agent(crm: Crm) -> list[tuple[str, int, int]]:
    """Per agent (None: unassigned): tickets waiting, and of those breached now."""
    now = utcnow()
    with crm.work() as work:
        rows = work.session.execute(
            select(col(User.username), func.count(), func.sum(case((breached_now(now), 1), else_=0)))
            .select_from(Ticket)
            .outerjoin(User, col(User.id) == col(Ticket.assignee_id))
            .where(col(Ticket.status).in_(WAITING), col(Ticket.archived_at).is_(None))
            .group_by(col(User.username))
        ).all()
        return sorted(
            ((name, count, int(late or 0)) for name, count, late in rows), key=lambda row: row[0] or ""
        )
