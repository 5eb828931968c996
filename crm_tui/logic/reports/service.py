"""Service figures, for the CLI's `report service` and the TUI's reports.

Definitions (a period is whole days in UTC, both ends included; archived tickets and
duplicates merged into another ticket count nowhere; times are working time on the SLA
clock, in minutes, from the spans each ticket keeps as they happen: see
``logic/service/sla.py``):

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

Nothing is measured here (measuring every span at each reading costs seconds at 300,000
tickets): counts and sums are GROUP BYs over the kept spans, and each median or
percentile is the value read at its rank in the order of an index that leads with the
span. The team's report reads covering indexes only, and sorts only the tickets waiting.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_tui.logic.core import users
from crm_tui.logic.core.context import Crm
from crm_tui.logic.reports.sales import period_bounds
from crm_tui.logic.service.sla import WAITING
from crm_tui.storage.models import Ticket, User
from crm_tui.storage.sql import no_index
from crm_tui.storage.types import utcnow

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


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


class Outcomes(NamedTuple):
    """Of the tickets resolved in the period (of one agent, or all): how many, how many
    with a resolution time, within the SLA and rated, and the scores' sum."""

    resolved: int = 0
    timed: int = 0
    met: int = 0
    rated: int = 0
    scores: int = 0


def _add(outcomes: Iterable[Outcomes]) -> Outcomes:
    return Outcomes(*(sum(column) for column in zip(Outcomes(), *outcomes, strict=True)))


def service_report(
    crm: Crm, *, start: date | None = None, end: date | None = None, agent: str | None = None
) -> ServiceReport:
    """Every service figure for the period, for the team or one agent."""
    low, high = period_bounds(start, end)
    now = utcnow()
    with crm.work() as work:
        session = work.session
        counted: list[ColumnElement[bool]] = [
            col(Ticket.archived_at).is_(None),
            col(Ticket.merged_into_id).is_(None),
        ]
        if agent:
            counted.append(col(Ticket.assignee_id) == users.find(work, agent).id)
        created = [*counted, *_between(col(Ticket.created_at), low, high)]
        resolved = [*counted, *_between(col(Ticket.resolved_at), low, high)]
        volume = _volume(session, created)
        outcomes = _outcomes(session, resolved)
        backlog = _backlog(session, counted, now)
        team = _add(outcomes.values())
        names = dict(session.execute(select(col(User.id), col(User.username))).all())
        agent_ids = {row.assignee_id for row in volume} | set(outcomes) | set(backlog)
        agent_ids.discard(None)
        agents = [
            _agent_figures(
                session,
                names.get(agent_id, f"#{agent_id}"),
                [*resolved, col(Ticket.assignee_id) == agent_id],
                outcomes.get(agent_id, Outcomes()),
                sum(backlog.get(agent_id, Counter()).values()),
            )
            for agent_id in sorted(agent_ids, key=lambda agent_id: (names.get(agent_id, ""), agent_id))
        ]
        return ServiceReport(
            period_from=start,
            period_to=end,
            agent=agent,
            created=sum(row.tickets for row in volume),
            by_type=_counted_by(volume, "type"),
            by_priority=_counted_by(volume, "priority"),
            by_channel=_counted_by(volume, "channel"),
            by_status=_counted_by(volume, "status"),
            first_response=_times(
                session, col(Ticket.response_seconds), created, sum(row.responded for row in volume)
            ),
            resolution=_times(session, col(Ticket.resolution_seconds), resolved, team.timed),
            resolved=team.resolved,
            sla_compliance=_percent(team.met, team.resolved),
            backlog={label: sum(ages[label] for ages in backlog.values()) for _, label in AGE_BUCKETS},
            satisfaction=_mean(team.scores, team.rated),
            rated=team.rated,
            agents=agents,
        )


def _volume(session: Session, created: list) -> list[Any]:
    """The tickets created in the period by type, priority, channel, status and agent,
    and how many of them have had their first response."""
    # In the order of the index that covers it, so no group is sorted.
    groups = (
        col(Ticket.assignee_id),
        col(Ticket.type),
        col(Ticket.priority),
        col(Ticket.channel),
        col(Ticket.status),
    )
    return list(
        session.execute(
            select(
                *groups,
                func.count().label("tickets"),
                func.count(col(Ticket.response_seconds)).label("responded"),
            )
            .where(*created)
            .group_by(*groups)
        )
    )


def _counted_by(volume: list[Any], field: str) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for row in volume:
        counts[getattr(row, field)] += row.tickets
    return dict(sorted(counts.items()))


def _outcomes(session: Session, resolved: list) -> dict[int | None, Outcomes]:
    """Outcomes of the tickets resolved in the period, per agent (None: unassigned)."""
    rows = session.execute(
        select(
            col(Ticket.assignee_id),
            func.count(),
            func.count(col(Ticket.resolution_seconds)),
            func.sum(case((col(Ticket.met_sla).is_(True), 1), else_=0)),
            func.count(col(Ticket.satisfaction)),
            func.sum(col(Ticket.satisfaction)),
        )
        .where(*resolved)
        .group_by(col(Ticket.assignee_id))
    )
    return {
        agent_id: Outcomes(count, timed, int(met or 0), rated, int(scores or 0))
        for agent_id, count, timed, met, rated, scores in rows
    }


def _backlog(session: Session, counted: list, now: datetime) -> dict[int | None, Counter[str]]:
    """The tickets waiting now, per agent, by age since creation."""
    limits = [days for days, _ in AGE_BUCKETS if days is not None]
    # Younger than each limit, counted apart: the buckets are the differences.
    younger = [
        func.sum(case((col(Ticket.created_at) > now - timedelta(days=days), 1), else_=0)) for days in limits
    ]
    rows = session.execute(
        select(col(Ticket.assignee_id), func.count())
        .add_columns(*younger)  # as one select(...) its typing counts the columns wrong
        .where(*counted, col(Ticket.status).in_(WAITING))
        .group_by(col(Ticket.assignee_id))
    )
    backlog: dict[int | None, Counter[str]] = {}
    for agent_id, count, *under in rows:
        bounds = [0, *(int(n) for n in under), count]
        backlog[agent_id] = Counter(
            {label: bounds[i + 1] - bounds[i] for i, (_, label) in enumerate(AGE_BUCKETS)}
        )
    return backlog


def _times(session: Session, span: Any, conditions: list, count: int) -> Times:
    """The median and 90th percentile of ``span`` over the ``count`` tickets that match,
    each read at its rank in the span's order (an index's) instead of sorting them all."""
    if not count:
        return Times(count=0, median_minutes=None, p90_minutes=None)
    timed = select(span).where(*conditions, span.is_not(None))
    middle = (
        session.execute(timed.order_by(span).offset((count - 1) // 2).limit(2 - count % 2)).scalars().all()
    )
    # The 90th percentile counted from the top: ten times fewer index entries to step over.
    high = session.execute(
        timed.order_by(span.desc()).offset(count - math.ceil(0.9 * count)).limit(1)
    ).scalar()
    if len(middle) < 2 - count % 2 or high is None:
        # Tickets changed since they were counted (PostgreSQL reads each statement at the
        # latest commit): read the values themselves.
        return times([value / 60 for value in session.execute(timed).scalars()])
    return Times(
        count=count,
        median_minutes=round(statistics.median(value / 60 for value in middle), 1),
        p90_minutes=round(high / 60, 1),
    )


def _agent_figures(
    session: Session, name: str, resolved: list, outcomes: Outcomes, waiting: int
) -> AgentFigures:
    return AgentFigures(
        agent=name,
        waiting=waiting,
        resolved=outcomes.resolved,
        resolution=_times(session, col(Ticket.resolution_seconds), resolved, outcomes.timed),
        sla_compliance=_percent(outcomes.met, outcomes.resolved),
        satisfaction=_mean(outcomes.scores, outcomes.rated),
    )


def _between(column, low: datetime | None, high: datetime | None) -> list:
    """In the period, checked in the covering indexes: at 300,000 tickets, a year's
    tickets looked up row by row through an index on the time took three times as long
    as reading a whole covering index, and a week's took little less."""
    column = no_index(column)
    conditions: list[ColumnElement[bool]] = [column.is_not(None)]
    if low is not None:
        conditions.append(column >= low)
    if high is not None:
        conditions.append(column < high)
    return conditions
