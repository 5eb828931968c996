"""The desk: the home screen's panels, chosen by role unless the user chose their own.

Each panel is a small table of display-ready text, so that any front end can show it.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from crm_tui.logic.core.context import Crm
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.records import is_empty
from crm_tui.logic.core.vocabulary import Role, TaskScope
from crm_tui.logic.customers import tasks
from crm_tui.logic.reports import sales as sales_report
from crm_tui.logic.sales import deals
from crm_tui.logic.service import tickets
from crm_tui.logic.values import money
from crm_tui.logic.values.dates import duration_text

PANELS = {
    "my_deals": "My open deals by stage",
    "my_tasks": "My tasks: overdue and due today",
    "my_pipeline": "My pipeline value",
    "my_tickets": "My tickets, soonest due first",
    "unassigned": "Unassigned tickets",
    "at_risk": "Breached, or due within 2 hours",
    "team_pipeline": "Team pipeline by stage",
    "team_service": "Team service queue",
}
ROLE_PANELS = {
    Role.sales: ["my_deals", "my_tasks", "my_pipeline"],
    Role.service: ["my_tickets", "at_risk", "unassigned", "my_tasks"],
    Role.manager: ["team_pipeline", "team_service", "at_risk", "my_tasks"],
    Role.admin: ["team_pipeline", "team_service", "at_risk", "my_tasks"],
    Role.viewer: ["team_pipeline", "team_service"],
}


class Panel(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    refs: list[str | None]  # the record each row opens, if any
    summary: str = ""


class Me(BaseModel):
    model_config = ConfigDict(frozen=True)

    username: str
    display_name: str
    role: Role
    database: str
    new_database: bool  # nothing in it yet: time for a welcome


def whoami(crm: Crm) -> Me:
    """The acting user, and whether the database is still empty."""
    with crm.work() as work:
        actor = work.actor
        me = Me(
            username=actor.username,
            display_name=actor.display_name,
            role=Role(actor.role),
            database=crm.describe(),
            new_database=False,
        )
    return me.model_copy(update={"new_database": is_empty(crm)})


def panels_for(role: Role, chosen: list[str] | None) -> list[str]:
    """The user's own choice of panels if they made one, else their role's."""
    if chosen:
        unknown = [key for key in chosen if key not in PANELS]
        if unknown:
            raise Invalid(f"unknown desk panel {', '.join(unknown)}: choose from {', '.join(PANELS)}")
        return list(chosen)
    return list(ROLE_PANELS[Role(role)])


def desk(crm: Crm, keys: list[str]) -> list[Panel]:
    """The data of each panel named, in order."""
    builders = {
        "my_deals": _my_deals,
        "my_tasks": _my_tasks,
        "my_pipeline": _my_pipeline,
        "my_tickets": _my_tickets,
        "unassigned": _unassigned,
        "at_risk": _at_risk,
        "team_pipeline": _team_pipeline,
        "team_service": _team_service,
    }
    return [builders[key](crm) for key in keys]


def _stage_rows(figures) -> tuple[list[list[str]], str]:
    rows, totals = [], {}
    for figure in figures:
        rows.append(
            [
                figure.stage,
                str(figure.deals),
                money.format_amount(figure.amount_minor, figure.currency),
                money.format_amount(figure.weighted_minor, figure.currency),
            ]
        )
        total = totals.setdefault(figure.currency, [0, 0])
        total[0] += figure.amount_minor
        total[1] += figure.weighted_minor
    summary = "; ".join(
        f"{money.format_amount(a, c)} open, {money.format_amount(w, c)} weighted"
        for c, (a, w) in sorted(totals.items())
    )
    return rows, summary or "No open deals."


def _my_deals(crm: Crm) -> Panel:
    page = deals.list_deals(crm, status="open", owner="me", limit=15)
    rows = [[d.ref, d.title, d.stage, money.format_amount(d.amount_minor, d.currency)] for d in page.deals]
    return Panel(
        key="my_deals",
        title=PANELS["my_deals"],
        columns=["Ref", "Deal", "Stage", "Amount"],
        rows=rows,
        refs=[d.ref for d in page.deals],
        summary="" if rows else "No open deals.",
    )


def _my_pipeline(crm: Crm) -> Panel:
    rows, summary = _stage_rows(sales_report.pipeline_by_stage(crm, owner="me"))
    return Panel(
        key="my_pipeline",
        title=PANELS["my_pipeline"],
        columns=["Stage", "Deals", "Amount", "Weighted"],
        rows=rows,
        refs=[None] * len(rows),
        summary=summary,
    )


def _team_pipeline(crm: Crm) -> Panel:
    rows, summary = _stage_rows(sales_report.pipeline_by_stage(crm))
    return Panel(
        key="team_pipeline",
        title=PANELS["team_pipeline"],
        columns=["Stage", "Deals", "Amount", "Weighted"],
        rows=rows,
        refs=[None] * len(rows),
        summary=summary,
    )


def _my_tasks(crm: Crm) -> Panel:
    due = tasks.list_tasks(crm, scope=TaskScope.overdue, limit=20) + tasks.list_tasks(
        crm, scope=TaskScope.today, limit=20
    )
    rows = [
        [t.ref, str(t.due), ("overdue " if t.overdue else "") + t.title, t.customer_name or ""] for t in due
    ]
    return Panel(
        key="my_tasks",
        title=PANELS["my_tasks"],
        columns=["Ref", "Due", "Task", "Customer"],
        rows=rows,
        refs=[t.customer for t in due],
        summary="" if rows else "Nothing due today.",
    )


def _ticket_rows(found) -> tuple[list[list[str]], list[str | None]]:
    rows = [[t.ref, t.priority.value, sla_text(t), t.subject, t.customer_name] for t in found]
    return rows, [t.ref for t in found]


def _tickets_panel(key: str, found, empty: str) -> Panel:
    rows, refs = _ticket_rows(found)
    return Panel(
        key=key,
        title=PANELS[key],
        columns=["Ref", "Priority", "SLA", "Subject", "Customer"],
        rows=rows,
        refs=refs,
        summary="" if rows else empty,
    )


def _my_tickets(crm: Crm) -> Panel:
    return _tickets_panel(
        "my_tickets", tickets.list_tickets(crm, assignee="me", limit=15).tickets, "No tickets waiting on you."
    )


def _unassigned(crm: Crm) -> Panel:
    return _tickets_panel(
        "unassigned",
        tickets.list_tickets(crm, assignee="none", limit=15).tickets,
        "Every ticket has an agent.",
    )


def _at_risk(crm: Crm) -> Panel:
    late = tickets.list_tickets(crm, breached=True, limit=10).tickets
    soon = tickets.list_tickets(crm, due_within=timedelta(hours=2), limit=10).tickets
    return _tickets_panel("at_risk", late + soon, "Nothing breached or about to breach.")


def _team_service(crm: Crm) -> Panel:
    rows = [
        [name or "(unassigned)", str(count), str(late)] for name, count, late in tickets.waiting_by_agent(crm)
    ]
    waiting = sum(int(row[1]) for row in rows)
    return Panel(
        key="team_service",
        title=PANELS["team_service"],
        columns=["Agent", "Waiting", "Breached"],
        rows=rows,
        refs=[None] * len(rows),
        summary=f"{waiting} tickets waiting",
    )


def sla_text(ticket) -> str:
    """The running SLA clock for people: ``2h 5m left``, ``40m late`` or ``paused``."""
    if ticket.next_due is None:
        return ""
    if ticket.status == "pending":
        return "paused"
    left = (ticket.next_due - tickets.utcnow()).total_seconds()
    return f"{duration_text(left)} left" if left >= 0 else f"{duration_text(-left)} late"


class Target(BaseModel):
    """Somewhere the command palette can jump to."""

    model_config = ConfigDict(frozen=True)

    ref: str
    kind: str
    label: str
    detail: str


def jump_targets(crm: Crm, text: str, *, limit: int = 8) -> list[Target]:
    """Records matching ``text``: a reference (C-12, D-4, T-7, O-3) exactly, else what
    full-text search finds (customers, contacts, deals, tickets), best first."""
    from crm_tui.logic.core.errors import CrmError
    from crm_tui.logic.customers import customers
    from crm_tui.logic.sales import orders

    text = text.strip()
    if not text:
        return []
    lookups = {
        "C": lambda r: customers.get_customer(crm, r),
        "D": lambda r: deals.get_deal(crm, r),
        "T": lambda r: tickets.get_ticket(crm, r),
        "O": lambda r: orders.get_order(crm, r),
    }
    head = text[:1].upper()
    if head in lookups and any(ch.isdigit() for ch in text):
        try:
            record = lookups[head](text)
        except CrmError:
            return []
        label = (
            getattr(record, "name", None)
            or getattr(record, "title", None)
            or getattr(record, "subject", None)
            or record.ref
        )
        return [
            Target(
                ref=record.ref,
                kind=type(record).__name__.removesuffix("Read").lower(),
                label=label,
                detail=record.ref,
            )
        ]
    from crm_tui.logic.customers.search import search

    found = []
    for hit in search(crm, text, limit=limit):
        # A contact opens its customer: people are seen in their company's record.
        ref = hit.customer_ref if hit.kind == "contact" else hit.ref
        owner = hit.customer if hit.kind != "customer" else ""
        detail = " · ".join(part for part in (hit.ref, owner, hit.snippet) if part)
        found.append(Target(ref=ref, kind=hit.kind, label=hit.title, detail=detail))
    return found[:limit]
