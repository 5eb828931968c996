"""Service figures, for the CLI's `report service` and the TUI's reports.

Definitions (a period is whole days in UTC, both ends included; archived tickets and
duplicates merged into another ticket count nowhere; times are working time on the SLA
clock, in minutes):

- volume: tickets created in the period, counted by type, priority, channel and status.
- first response time: created to first public reply, for tickets created in the period
  that have one; median and 90th percentile.
- resolution time: created to resolved, less the time spent pending, for tickets
  resolved in the period; median and 90th percentile.
- SLA compliance: of the tickets resolved in the period, the share that got their first
  response by its due time and were resolved by theirs.
- backlog: tickets waiting now (new, open, pending) by age since creation.
- satisfaction: the mean score of tickets resolved in the period that were rated.
- per agent: the same for the tickets assigned to each agent, and how many wait now.

The median is the middle value (the mean of the two middle ones for an even count); the
90th percentile is the nearest-rank one: the value at rank ceil(0.9 n) in sorted order.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import date, datetime
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, case, literal, or_, select

from crm_tui.logic import users
from crm_tui.logic.context import Crm
from crm_tui.logic.sales_report import period_bounds
from crm_tui.logic.tickets import WAITING, working_time
from crm_tui.logic.working_time import WorkingTime
from crm_tui.storage.models import Ticket, User
from crm_tui.storage.sql import seconds_between
from crm_tui.storage.types import UTCDateTime, utcnow

AGE_BUCKETS = [
    (1, "under 1 day"),
    (3, "1-3 days"),
    (7, "3-7 days"),
    (30, "7-30 days"),
    (None, "30 days or more"),
]


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class Times(Row):
    count: int
    median_minutes: float | None
    p90_minutes: float | None


class AgentFigures(Row):
    agent: str
    waiting: int
    resolved: int
    resolution: Times
    sla_compliance: float | None
    satisfaction: float | None


class ServiceReport(Row):
    period_from: date | None
    period_to: date | None
    agent: str | None
    created: int
    by_type: dict[str, int]
    by_priority: dict[str, int]
    by_channel: dict[str, int]
    by_status: dict[str, int]
    first_response: Times
    resolution: Times
    resolved: int
    sla_compliance: float | None  # percent
    backlog: dict[str, int]
    satisfaction: float | None
    rated: int
    agents: list[AgentFigures]


def percentile_90(values: list[float]) -> float:
    """The nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def times(values: list[float]) -> Times:
    if not values:
        return Times(count=0, median_minutes=None, p90_minutes=None)
    return Times(
        count=len(values),
        median_minutes=round(statistics.median(values), 1),
        p90_minutes=round(percentile_90(values), 1),
    )


def _in(moment: datetime | None, low: datetime | None, high: datetime | None) -> bool:
    return moment is not None and (low is None or moment >= low) and (high is None or moment < high)


def _complied(ticket) -> bool:
    return (
        ticket.first_response_at is not None
        and ticket.first_response_at <= ticket.first_response_due
        and ticket.resolved_at <= ticket.resolution_due
    )


def _resolution_minutes(ticket, clock: WorkingTime) -> float:
    return max(clock.between(ticket.created_at, ticket.resolved_at) - ticket.paused_seconds, 0) / 60


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


class Fact(NamedTuple):
    """What the figures need of one ticket, with its times already turned into numbers."""

    type: str
    priority: str
    channel: str
    status: str
    assignee_id: int | None
    created_in: bool  # created in the period
    resolved_in: bool  # resolved in the period
    age_days: float  # since creation, calendar time
    response_minutes: float | None  # created to first public reply, on the SLA clock
    resolution_minutes: float | None  # created to resolved less pending time, on the SLA clock
    complied: bool  # first response and resolution both by their due times
    satisfaction: int | None


def service_report(
    crm: Crm, *, start: date | None = None, end: date | None = None, agent: str | None = None
) -> ServiceReport:
    """Every service figure for the period, for the team or one agent."""
    low, high = period_bounds(start, end)
    clock = working_time(crm)
    now = utcnow()
    with crm.work() as work:
        agent_id = users.find(work, agent).id if agent else None
        conditions = [Ticket.archived_at.is_(None), Ticket.merged_into_id.is_(None)]
        if agent_id is not None:
            conditions.append(Ticket.assignee_id == agent_id)
        # Only the tickets some figure needs: created or resolved in the period, or waiting.
        conditions.append(
            or_(
                Ticket.status.in_(WAITING),
                _between(Ticket.created_at, low, high),
                _between(Ticket.resolved_at, low, high),
            )
        )
        read = _calendar_facts if clock.hours is None else _working_facts
        facts = read(work.session, conditions, low, high, now, clock)
        names = dict(work.session.execute(select(User.id, User.username)).all())
    return _figures(facts, names, start, end, agent)


def _flags(low, high):
    created_in = _between(Ticket.created_at, low, high)
    resolved_in = _between(Ticket.resolved_at, low, high)
    complied = and_(
        Ticket.first_response_at.is_not(None),
        Ticket.first_response_at <= Ticket.first_response_due,
        Ticket.resolved_at <= Ticket.resolution_due,
    )
    return [case((condition, 1), else_=0) for condition in (created_in, resolved_in, complied)]


def _calendar_facts(session, conditions, low, high, now, clock) -> list[Fact]:
    """On calendar time every span is a subtraction the database does, so no datetime
    is built in Python (at 300,000 tickets that was most of the report's time)."""
    created_in, resolved_in, complied = _flags(low, high)
    rows = session.execute(
        select(
            Ticket.type,
            Ticket.priority,
            Ticket.channel,
            Ticket.status,
            Ticket.assignee_id,
            created_in,
            resolved_in,
            seconds_between(Ticket.created_at, literal(now, UTCDateTime)),
            seconds_between(Ticket.created_at, Ticket.first_response_at),
            seconds_between(Ticket.created_at, Ticket.resolved_at),
            Ticket.paused_seconds,
            complied,
            Ticket.satisfaction,
        ).where(*conditions)
    )
    return [
        Fact(
            kind,
            priority,
            channel,
            status,
            assignee,
            bool(made),
            bool(done),
            age / 86_400,
            response / 60 if response is not None else None,
            max(resolution - paused, 0) / 60 if resolution is not None else None,
            bool(ok),
            score,
        )
        for (
            kind,
            priority,
            channel,
            status,
            assignee,
            made,
            done,
            age,
            response,
            resolution,
            paused,
            ok,
            score,
        ) in rows
    ]


def _working_facts(session, conditions, low, high, now, clock: WorkingTime) -> list[Fact]:
    """With business hours the spans are working time, measured here."""
    rows = session.execute(
        select(
            Ticket.type,
            Ticket.priority,
            Ticket.channel,
            Ticket.status,
            Ticket.assignee_id,
            Ticket.created_at,
            Ticket.first_response_at,
            Ticket.first_response_due,
            Ticket.resolved_at,
            Ticket.resolution_due,
            Ticket.paused_seconds,
            Ticket.satisfaction,
        ).where(*conditions)
    ).all()
    return [
        Fact(
            t.type,
            t.priority,
            t.channel,
            t.status,
            t.assignee_id,
            _in(t.created_at, low, high),
            _in(t.resolved_at, low, high),
            (now - t.created_at).total_seconds() / 86_400,
            clock.between(t.created_at, t.first_response_at) / 60 if t.first_response_at else None,
            _resolution_minutes(t, clock) if t.resolved_at else None,
            t.resolved_at is not None and _complied(t),
            t.satisfaction,
        )
        for t in rows
    ]


def _figures(facts: list[Fact], names: dict[int, str], start, end, agent) -> ServiceReport:
    """Every figure in one pass over the facts (and one more per agent's own)."""
    created = [f for f in facts if f.created_in]
    resolved = [f for f in facts if f.resolved_in]
    waiting = [f for f in facts if f.status in WAITING]
    rated = [f.satisfaction for f in resolved if f.satisfaction is not None]
    backlog = Counter(_age_bucket(f.age_days) for f in waiting)
    by_agent: dict[int, list[Fact]] = {}
    for fact in facts:
        if fact.assignee_id:
            by_agent.setdefault(fact.assignee_id, []).append(fact)
    return ServiceReport(
        period_from=start,
        period_to=end,
        agent=agent,
        created=len(created),
        by_type=dict(sorted(Counter(f.type for f in created).items())),
        by_priority=dict(sorted(Counter(f.priority for f in created).items())),
        by_channel=dict(sorted(Counter(f.channel for f in created).items())),
        by_status=dict(sorted(Counter(f.status for f in created).items())),
        first_response=times([f.response_minutes for f in created if f.response_minutes is not None]),
        resolution=times([f.resolution_minutes for f in resolved]),
        resolved=len(resolved),
        sla_compliance=_percent(sum(f.complied for f in resolved), len(resolved)),
        backlog={label: backlog.get(label, 0) for _, label in AGE_BUCKETS},
        satisfaction=_mean(rated),
        rated=len(rated),
        agents=[
            _agent_figures(names.get(agent_id, f"#{agent_id}"), mine)
            for agent_id, mine in sorted(by_agent.items(), key=lambda item: names.get(item[0], ""))
        ],
    )


def _agent_figures(name: str, mine: list[Fact]) -> AgentFigures:
    resolved = [f for f in mine if f.resolved_in]
    scores = [f.satisfaction for f in resolved if f.satisfaction is not None]
    return AgentFigures(
        agent=name,
        waiting=sum(f.status in WAITING for f in mine),
        resolved=len(resolved),
        resolution=times([f.resolution_minutes for f in resolved]),
        sla_compliance=_percent(sum(f.complied for f in resolved), len(resolved)),
        satisfaction=_mean(scores),
    )


def _between(column, low, high):
    conditions = [column.is_not(None)]
    if low is not None:
        conditions.append(column >= low)
    if high is not None:
        conditions.append(column < high)
    return and_(*conditions)


def _age_bucket(days: float) -> str:
    for limit, label in AGE_BUCKETS:
        if limit is None or days < limit:
            return label
    raise AssertionError("the last bucket has no limit")
