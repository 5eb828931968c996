"""The service figures agree with a second computation over generated tickets.

The tickets are written straight to the table with the spans crm keeps on them
(``sla.measure_spans``); the second computation measures from the times alone.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select

from crm_tui.logic.core import users
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.reports import service as service_report
from crm_tui.logic.service import sla
from crm_tui.logic.service.working_time import WorkingTime
from crm_tui.storage.models import Customer, Ticket, User

START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
AGENTS = ["sue", "sam", "tia"]


@dataclass
class GenTicket:
    id: int
    type: str
    priority: str
    channel: str
    status: str
    agent: str | None
    created: datetime
    response: datetime | None
    response_due: datetime
    resolved: datetime | None
    resolution_due: datetime
    paused: int
    score: int | None
    archived: bool
    merged: bool


def _generate(rng: random.Random) -> list[GenTicket]:
    made = []
    for ticket_id in range(1, 2501):
        created = START + timedelta(minutes=rng.randint(0, 290 * 24 * 60))
        response = created + timedelta(minutes=rng.randint(1, 3000)) if rng.random() < 0.85 else None
        status = rng.choice(["new", "open", "pending", "resolved", "resolved", "closed"])
        paused = rng.choice([0, 0, 0, 3600, 7200, 86400])
        resolved = None
        if status in ("resolved", "closed"):
            resolved = (response or created) + timedelta(minutes=rng.randint(1, 8000))
            resolved = max(resolved, created + timedelta(seconds=paused + 60))
        made.append(
            GenTicket(
                id=ticket_id, type=rng.choice(["complaint", "service_request", "question", "incident"]),
                priority=rng.choice(["low", "normal", "high", "urgent"]), channel=rng.choice(["phone", "email", "other"]),
                status=status, agent=rng.choice([*AGENTS, None]), created=created, response=response,
                response_due=created + timedelta(minutes=rng.choice([60, 240, 480])),
                resolved=resolved, resolution_due=created + timedelta(minutes=rng.choice([240, 1440, 4320])),
                paused=paused, score=rng.choice([None, 1, 2, 3, 4, 5]) if resolved else None,
                archived=rng.random() < 0.03, merged=rng.random() < 0.03,
            )
        )  # fmt: skip
    return made


def _with_spans(row: dict, clock: WorkingTime) -> dict:
    """The row with the spans crm would have kept, measured on ``clock``."""
    return row | sla.measure_spans(clock, SimpleNamespace(**row))._asdict()


def _write(crm, made: list[GenTicket]) -> None:
    clock = sla.working_time(crm)
    for name in AGENTS:
        users.add_user(crm, UserCreate(username=name, role="service"))
    with crm.database.unit_of_work() as session:
        ids = dict(session.execute(select(User.username, User.id)).all())
        session.execute(
            insert(Customer.__table__),
            [{"id": 1, "version": 1, "name": "Acme", "name_key": "acme", "kind": "company", "lifecycle": "customer",
              "custom": {}, "created_at": START, "updated_at": START}],
        )  # fmt: skip
        rows = [
            {"id": t.id, "version": 1, "customer_id": 1, "subject": f"T{t.id}", "description": "", "type": t.type,
             "priority": t.priority, "channel": t.channel, "status": t.status,
             "assignee_id": ids[t.agent] if t.agent else None, "created_at": t.created, "updated_at": t.created,
             "first_response_due": t.response_due, "resolution_due": t.resolution_due,
             "first_response_at": t.response, "pending_since": t.created if t.status == "pending" else None,
             "paused_seconds": t.paused, "resolved_at": t.resolved, "closed_at": t.resolved if t.status == "closed" else None,
             "satisfaction": t.score, "archived_at": t.created if t.archived else None,
             "merged_into_id": None}
            for t in made
        ]  # fmt: skip
        session.execute(insert(Ticket.__table__), [_with_spans(row, clock) for row in rows])
        # Merged duplicates point at the first ticket, as a merge leaves them.
        for t in made:
            if t.merged:
                session.get(Ticket, t.id).merged_into_id = 1


@pytest.fixture
def report_now(monkeypatch):
    monkeypatch.setattr(service_report, "utcnow", lambda: NOW)


@pytest.fixture
def generated(crm, report_now):
    made = _generate(random.Random(7))
    _write(crm, made)
    return made


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _times(values):
    if not values:
        return (0, None, None)
    p90 = sorted(values)[math.ceil(0.9 * len(values)) - 1]
    return (len(values), round(_median(values), 1), round(p90, 1))


def expected(made, start=None, end=None, agent=None, clock=WorkingTime()):
    low = datetime(start.year, start.month, start.day, tzinfo=UTC) if start else None
    high = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1) if end else None

    def within(moment):
        return moment is not None and (low is None or moment >= low) and (high is None or moment < high)

    counted = [
        t
        for t in made
        if not t.archived and not (t.merged and t.id != 1) and (agent is None or t.agent == agent)
    ]
    created = [t for t in counted if within(t.created)]
    resolved = [t for t in counted if within(t.resolved)]
    waiting = [t for t in counted if t.status in ("new", "open", "pending")]

    def minutes(a, b):
        return clock.between(a, b) / 60

    def complied(t):
        return t.response is not None and t.response <= t.response_due and t.resolved <= t.resolution_due

    def resolution(t):
        return max(clock.between(t.created, t.resolved) - t.paused, 0) / 60

    ages = Counter()
    for t in waiting:
        days = (NOW - t.created).total_seconds() / 86400
        ages[
            "under 1 day"
            if days < 1
            else "1-3 days"
            if days < 3
            else "3-7 days"
            if days < 7
            else "7-30 days"
            if days < 30
            else "30 days or more"
        ] += 1
    scores = [t.score for t in resolved if t.score is not None]
    per_agent = []
    for name in sorted({t.agent for t in counted if t.agent}):
        mine = [t for t in resolved if t.agent == name]
        mine_scores = [t.score for t in mine if t.score is not None]
        per_agent.append((
            name, sum(t.agent == name for t in waiting), len(mine), _times([resolution(t) for t in mine]),
            round(100 * sum(map(complied, mine)) / len(mine), 1) if mine else None,
            round(sum(mine_scores) / len(mine_scores), 2) if mine_scores else None,
        ))  # fmt: skip
    return {
        "created": len(created),
        "by_type": dict(sorted(Counter(t.type for t in created).items())),
        "by_priority": dict(sorted(Counter(t.priority for t in created).items())),
        "by_channel": dict(sorted(Counter(t.channel for t in created).items())),
        "by_status": dict(sorted(Counter(t.status for t in created).items())),
        "first_response": _times([minutes(t.created, t.response) for t in created if t.response]),
        "resolution": _times([resolution(t) for t in resolved]),
        "sla": round(100 * sum(map(complied, resolved)) / len(resolved), 1) if resolved else None,
        "backlog": ages,
        "satisfaction": (round(sum(scores) / len(scores), 2) if scores else None, len(scores)),
        "agents": per_agent,
    }


def computed(report):
    return {
        "created": report.created,
        "by_type": report.by_type,
        "by_priority": report.by_priority,
        "by_channel": report.by_channel,
        "by_status": report.by_status,
        "first_response": (
            report.first_response.count,
            report.first_response.median_minutes,
            report.first_response.p90_minutes,
        ),
        "resolution": (
            report.resolution.count,
            report.resolution.median_minutes,
            report.resolution.p90_minutes,
        ),
        "sla": report.sla_compliance,
        "backlog": Counter({k: v for k, v in report.backlog.items() if v}),
        "satisfaction": (report.satisfaction, report.rated),
        "agents": [
            (
                a.agent,
                a.waiting,
                a.resolved,
                (a.resolution.count, a.resolution.median_minutes, a.resolution.p90_minutes),
                a.sla_compliance,
                a.satisfaction,
            )
            for a in report.agents
        ],
    }


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"start": date(2026, 3, 1), "end": date(2026, 5, 31)},
        {"agent": "sam"},
        {"start": date(2026, 8, 1), "agent": "tia"},
    ],
)
def test_every_figure_agrees_with_the_second_computation(crm, generated, filters):
    report = service_report.service_report(crm, **filters)
    mine, theirs = computed(report), expected(generated, **filters)
    for figure in theirs:
        assert mine[figure] == theirs[figure], figure
    assert theirs["created"] and theirs["resolution"][0] and theirs["agents"]


def test_working_time_is_what_the_report_counts(crm, report_now):
    """With business hours set, the spans kept are working time, and the figures too."""
    crm.settings.business_hours = "09:00-17:00"
    crm.settings.timezone = "UTC"
    clock = sla.working_time(crm)
    made = _generate(random.Random(7))
    _write(crm, made)
    business = service_report.service_report(crm)
    mine, theirs = computed(business), expected(made, clock=clock)
    for figure in theirs:
        assert mine[figure] == theirs[figure], figure
    calendar = expected(made)
    assert business.first_response.median_minutes < calendar["first_response"][1]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("filters", [{}, {"start": date(2026, 3, 1), "end": date(2026, 5, 31)}])
def test_the_report_reads_covering_indexes_and_sorts_nothing(crm, generated, filters):
    """No ticket row is read whole and nothing is sorted, but for the tickets waiting now
    (the backlog), which are few: at 300,000 tickets that is the report's whole cost."""
    from sqlalchemy import event

    sent = []
    engine = crm.database.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "FROM tickets" in statement:
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        service_report.service_report(crm, **filters)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as conn:
        for statement, parameters in sent:
            plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            if "tickets.status IN" in statement:
                continue
            assert all("COVERING INDEX" in step for step in plan), (plan, statement)
            assert not any("TEMP B-TREE" in step for step in plan), (plan, statement)
    assert len(sent) > 10


def test_ranks_read_past_the_end_fall_back_to_the_values(crm, generated):
    """On PostgreSQL each statement sees the latest commit: tickets resolved or archived
    between the count and the read must not break the figure."""
    conditions = [Ticket.archived_at.is_(None), Ticket.merged_into_id.is_(None)]
    with crm.work() as work:
        read = service_report._times(work.session, Ticket.resolution_seconds, conditions, 10**6)
    assert read == service_report.service_report(crm).resolution
