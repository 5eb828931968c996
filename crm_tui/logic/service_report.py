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

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, or_, select

from crm_tui.logic import users
from crm_tui.logic.context import Crm
from crm_tui.logic.sales_report import period_bounds
from crm_tui.logic.tickets import WAITING, working_time
from crm_tui.logic.working_time import WorkingTime
from crm_tui.storage.models import Ticket, User
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


def service_report(
    crm: Crm, *, start: date | None = None, end: date | None = None, agent: str | None = None
) -> ServiceReport:
    """Every service figure for the period, for the team or one agent."""
    low, high = period_bounds(start, end)
    clock = working_time(crm)
    now = utcnow()
    with crm.work() as work:
        columns = (
            Ticket.id, Ticket.type, Ticket.priority, Ticket.channel, Ticket.status, Ticket.assignee_id,
            Ticket.created_at, Ticket.first_response_at, Ticket.first_response_due, Ticket.resolved_at,
            Ticket.resolution_due, Ticket.paused_seconds, Ticket.satisfaction,
        )  # fmt: skip
        query = select(*columns).where(Ticket.archived_at.is_(None), Ticket.merged_into_id.is_(None))
        agent_id = users.find(work, agent).id if agent else None
        if agent_id is not None:
            query = query.where(Ticket.assignee_id == agent_id)
        # Only the tickets some figure needs: created or resolved in the period, or waiting.
        relevant = [Ticket.status.in_(WAITING)]
        relevant.append(_between(Ticket.created_at, low, high))
        relevant.append(_between(Ticket.resolved_at, low, high))
        rows = work.session.execute(query.where(or_(*relevant))).all()
        names = dict(work.session.execute(select(User.id, User.username)).all())

    created = [t for t in rows if _in(t.created_at, low, high)]
    resolved = [t for t in rows if _in(t.resolved_at, low, high)]
    waiting = [t for t in rows if t.status in WAITING]
    rated = [t.satisfaction for t in resolved if t.satisfaction is not None]
    backlog = Counter(_age_bucket(now - t.created_at) for t in waiting)
    return ServiceReport(
        period_from=start,
        period_to=end,
        agent=agent,
        created=len(created),
        by_type=dict(sorted(Counter(t.type for t in created).items())),
        by_priority=dict(sorted(Counter(t.priority for t in created).items())),
        by_channel=dict(sorted(Counter(t.channel for t in created).items())),
        by_status=dict(sorted(Counter(t.status for t in created).items())),
        first_response=times(
            [clock.between(t.created_at, t.first_response_at) / 60 for t in created if t.first_response_at]
        ),
        resolution=times([_resolution_minutes(t, clock) for t in resolved]),
        resolved=len(resolved),
        sla_compliance=_percent(sum(_complied(t) for t in resolved), len(resolved)),
        backlog={label: backlog.get(label, 0) for _, label in AGE_BUCKETS},
        satisfaction=_mean(rated),
        rated=len(rated),
        agents=_per_agent(rows, resolved, waiting, names, clock),
    )


def _between(column, low, high):
    conditions = [column.is_not(None)]
    if low is not None:
        conditions.append(column >= low)
    if high is not None:
        conditions.append(column < high)
    return and_(*conditions)


def _age_bucket(age) -> str:
    days = age.total_seconds() / 86_400
    for limit, label in AGE_BUCKETS:
        if limit is None or days < limit:
            return label
    raise AssertionError("the last bucket has no limit")


def _per_agent(rows, resolved, waiting, names: dict[int, str], clock: WorkingTime) -> list[AgentFigures]:
    agent_ids = sorted({t.assignee_id for t in rows if t.assignee_id}, key=lambda i: names.get(i, ""))
    figures = []
    for agent_id in agent_ids:
        mine = [t for t in resolved if t.assignee_id == agent_id]
        scores = [t.satisfaction for t in mine if t.satisfaction is not None]
        figures.append(
            AgentFigures(
                agent=names.get(agent_id, f"#{agent_id}"),
                waiting=sum(t.assignee_id == agent_id for t in waiting),
                resolved=len(mine),
                resolution=times([_resolution_minutes(t, clock) for t in mine]),
                sla_compliance=_percent(sum(_complied(t) for t in mine), len(mine)),
                satisfaction=_mean(scores),
            )
        )
    return figures
