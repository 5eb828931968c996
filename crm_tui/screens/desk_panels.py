"""How each desk panel reads on screen: its title, its columns, and its rows as text.

The desk's data comes from ``logic/reports/desk.py`` as records; this module chooses
what a person sees of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

from crm_tui.logic.reports.desk import AgentsPanel, DealsPanel, Panel, StagesPanel, TasksPanel, TicketsPanel
from crm_tui.logic.reports.sales import StageFigure
from crm_tui.logic.values import money
from crm_tui.screens.tickets import sla_text

TITLES = {
    "my_deals": "My open deals by stage",
    "my_tasks": "My tasks: overdue and due today",
    "my_pipeline": "My pipeline value",
    "my_tickets": "My tickets, soonest due first",
    "unassigned": "Unassigned tickets",
    "at_risk": "Breached, or due within 2 hours",
    "team_pipeline": "Team pipeline by stage",
    "team_service": "Team service queue",
}
# What an empty panel says instead of showing no rows.
EMPTY = {
    "my_deals": "No open deals.",
    "my_tasks": "Nothing due today.",
    "my_tickets": "No tickets waiting on you.",
    "unassigned": "Every ticket has an agent.",
    "at_risk": "Nothing breached or about to breach.",
}


@dataclass(frozen=True)
class PanelView:
    """A panel as a small table: the record each row opens (if any) and a summary line."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    refs: list[str | None]
    summary: str


def view(panel: Panel) -> PanelView:
    """The panel as a person reads it."""
    columns, rows, refs, summary = _table(panel)
    if not rows and not summary:
        summary = EMPTY.get(panel.key, "")
    return PanelView(TITLES[panel.key], columns, rows, refs, summary)


Table = tuple[list[str], list[list[str]], list[str | None], str]


@singledispatch
def _table(panel: Panel) -> Table:
    raise TypeError(f"no view for a {type(panel).__name__}")


@_table.register
def _(panel: DealsPanel) -> Table:
    rows = [[d.ref, d.title, d.stage, money.format_amount(d.amount_minor, d.currency)] for d in panel.deals]
    return ["Ref", "Deal", "Stage", "Amount"], rows, [d.ref for d in panel.deals], ""


@_table.register
def _(panel: StagesPanel) -> Table:
    rows = [
        [f.stage, str(f.deals), money.format_amount(f.amount_minor, f.currency),
         money.format_amount(f.weighted_minor, f.currency)]
        for f in panel.stages
    ]  # fmt: skip
    return ["Stage", "Deals", "Amount", "Weighted"], rows, [None] * len(rows), _pipeline_summary(panel.stages)


def _pipeline_summary(figures: list[StageFigure]) -> str:
    """The open amount and its weighted value, summed per currency."""
    totals: dict[str, list[int]] = {}
    for figure in figures:
        total = totals.setdefault(figure.currency, [0, 0])
        total[0] += figure.amount_minor
        total[1] += figure.weighted_minor
    summary = "; ".join(
        f"{money.format_amount(amount, code)} open, {money.format_amount(weighted, code)} weighted"
        for code, (amount, weighted) in sorted(totals.items())
    )
    return summary or "No open deals."


@_table.register
def _(panel: TasksPanel) -> Table:
    rows = [
        [t.ref, str(t.due), ("overdue " if t.overdue else "") + t.title, t.customer_name or ""]
        for t in panel.tasks
    ]
    return ["Ref", "Due", "Task", "Customer"], rows, [t.customer for t in panel.tasks], ""


@_table.register
def _(panel: TicketsPanel) -> Table:
    rows = [[t.ref, t.priority.value, sla_text(t), t.subject, t.customer_name] for t in panel.tickets]
    return ["Ref", "Priority", "SLA", "Subject", "Customer"], rows, [t.ref for t in panel.tickets], ""


@_table.register
def _(panel: AgentsPanel) -> Table:
    rows = [[a.agent or "(unassigned)", str(a.waiting), str(a.breached)] for a in panel.agents]
    waiting = sum(a.waiting for a in panel.agents)
    return ["Agent", "Waiting", "Breached"], rows, [None] * len(rows), f"{waiting} tickets waiting"
