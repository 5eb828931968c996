"""SLA: how soon tickets are due, judged on the working-time clock, and how soon they were served.

At creation a ticket gets a first-response due time and a resolution due time from its
priority's policy, counted on the working-time clock (``working_time``). While a ticket
is pending (waiting on the customer) the clock stops; when it leaves pending, both due
times move on by the working time it waited. The first public reply records the first
response. A ticket is breached when a due time it still has to meet is past.

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
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.vocabulary import Priority
from crm_tui.logic.service.schemas import SlaPolicyRead
from crm_tui.logic.service.working_time import WorkingTime
from crm_tui.storage.models import SlaPolicy, Ticket

ACTIVE = ("new", "open")  # the clock runs
WAITING = ("new", "open", "pending")  # not resolved or closed: the backlog, due times still to meet


def working_time(crm: Crm) -> WorkingTime:
    """The SLA clock configured in the settings."""
    settings = crm.settings
    return WorkingTime.from_settings(settings.business_hours, settings.business_days, settings.timezone)


# Policies


def sla_policy(work: Work, priority: str) -> SlaPolicy:
    """The policy of ``priority``; a priority without one cannot take tickets."""
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


# Due times


def next_due(ticket: Ticket) -> datetime | None:
    """The soonest due time the ticket still has to meet; None once it is resolved."""
    if ticket.status not in WAITING:
        return None
    if ticket.first_response_at is None:
        return min(ticket.first_response_due, ticket.resolution_due)
    return ticket.resolution_due


def is_breached(ticket: Ticket, now: datetime) -> bool:
    """Past a due time it still has to meet; a pending ticket is judged when it paused."""
    if ticket.status not in WAITING:
        return False
    moment = ticket.pending_since if ticket.status == "pending" and ticket.pending_since else now
    if ticket.first_response_at is None and ticket.first_response_due < moment:
        return True
    return ticket.resolution_due < moment


def breached_now(now: datetime) -> ColumnElement[bool]:
    """``is_breached`` as a condition on the tickets table, for queues and counts."""
    no_response = col(Ticket.first_response_at).is_(None)
    running = and_(
        col(Ticket.status).in_(ACTIVE),
        or_(col(Ticket.resolution_due) < now, and_(no_response, col(Ticket.first_response_due) < now)),
    )
    paused = and_(
        col(Ticket.status) == "pending",
        or_(
            col(Ticket.resolution_due) < col(Ticket.pending_since),
            and_(no_response, col(Ticket.first_response_due) < col(Ticket.pending_since)),
        ),
    )
    return or_(running, paused)


def next_due_column() -> ColumnElement:
    """``next_due`` of a waiting ticket as a column expression, for sorting queues."""
    return case(
        (
            and_(
                col(Ticket.first_response_at).is_(None),
                col(Ticket.first_response_due) < col(Ticket.resolution_due),
            ),
            col(Ticket.first_response_due),
        ),
        else_=col(Ticket.resolution_due),
    )


# The clock stops while a ticket is pending


def pause(ticket: TicketState, now: datetime) -> None:
    """Enter pending: the clock stops from ``now``."""
    ticket.pending_since = now


def resume(work: Work, ticket: TicketState, now: datetime) -> None:
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


# Spans


class TicketTimes(Protocol):
    """What the spans are measured from: a ticket, or a row of its times."""

    created_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    paused_seconds: int


class TicketState(TicketTimes, Protocol):
    """What the workflow reads and moves: a stored ticket, or a new one an import takes
    through the workflow before it is written."""

    id: int
    status: str
    updated_at: datetime
    pending_since: datetime | None
    closed_at: datetime | None
    resolution: str | None
    resolution_seconds: int | None
    met_sla: bool | None


class Spans(NamedTuple):
    """The service figures kept on a ticket (see the module docstring)."""

    response_seconds: int | None
    resolution_seconds: int | None
    met_sla: bool | None


def measure_spans(clock: WorkingTime, ticket: TicketTimes) -> Spans:
    """A ticket's spans from its times, equal to those kept as they happened when the
    clock has not changed since; for rows written without these rules."""
    response = response_seconds(clock, ticket) if ticket.first_response_at is not None else None
    if ticket.resolved_at is None:
        return Spans(response, None, None)
    return Spans(response, resolution_seconds(clock, ticket), met_sla(ticket))


def span_measure(crm: Crm) -> Callable[[TicketTimes], Spans] | None:
    """What a schema upgrade measures existing tickets' spans with: the SLA clock of the
    settings when business hours are set; None (the database measures calendar time,
    the same and much quicker) when they are not."""
    clock = working_time(crm)
    return functools.partial(measure_spans, clock) if clock.hours else None


def _whole_seconds(seconds: float) -> int:
    return math.floor(seconds + 0.5)


def response_seconds(clock: WorkingTime, ticket: TicketTimes) -> int:
    """Working time from creation to the first response."""
    assert ticket.first_response_at is not None
    return _whole_seconds(clock.between(ticket.created_at, ticket.first_response_at))


def resolution_seconds(clock: WorkingTime, ticket: TicketTimes) -> int:
    """Working time from creation to resolution, less the time spent pending."""
    assert ticket.resolved_at is not None
    worked = clock.between(ticket.created_at, ticket.resolved_at) - ticket.paused_seconds
    return _whole_seconds(max(worked, 0))


def met_sla(ticket: TicketTimes) -> bool:
    """Whether the first response and the resolution each came by its due time."""
    assert ticket.resolved_at is not None
    return (
        ticket.first_response_at is not None
        and ticket.first_response_at <= ticket.first_response_due
        and ticket.resolved_at <= ticket.resolution_due
    )
