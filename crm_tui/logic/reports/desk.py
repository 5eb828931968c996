"""The desk: the home screen's panels, chosen by role unless the user chose their own.

Each panel is the records it shows (deals, stage figures, tasks, tickets or agents'
queues); front ends choose the columns and format the values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from crm_tui.logic.core.context import Crm
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.records import is_empty
from crm_tui.logic.core.schemas import Output
from crm_tui.logic.core.vocabulary import Role, TaskScope
from crm_tui.logic.customers import tasks
from crm_tui.logic.customers.schemas import TaskRead
from crm_tui.logic.reports import sales as sales_report
from crm_tui.logic.reports.sales import StageFigure
from crm_tui.logic.sales import deals
from crm_tui.logic.sales.schemas import DealRead
from crm_tui.logic.service import tickets
from crm_tui.logic.service.schemas import TicketRead

PANELS = (
    "my_deals", "my_tasks", "my_pipeline", "my_tickets",
    "unassigned", "at_risk", "team_pipeline", "team_service",
)  # fmt: skip
ROLE_PANELS = {
    Role.sales: ["my_deals", "my_tasks", "my_pipeline"],
    Role.service: ["my_tickets", "at_risk", "unassigned", "my_tasks"],
    Role.manager: ["team_pipeline", "team_service", "at_risk", "my_tasks"],
    Role.admin: ["team_pipeline", "team_service", "at_risk", "my_tasks"],
    Role.viewer: ["team_pipeline", "team_service"],
}


class Me(Output):
    username: str
    display_name: str
    role: Role
    database: str
    new_database: bool  # nothing in it yet: time for a welcome


class DealsPanel(Output):
    key: str
    deals: list[DealRead]


class StagesPanel(Output):
    key: str
    stages: list[StageFigure]


class TasksPanel(Output):
    key: str
    tasks: list[TaskRead]


class TicketsPanel(Output):
    key: str
    tickets: list[TicketRead]


class AgentQueue(Output):
    agent: str | None  # None: the tickets no one is assigned
    waiting: int
    breached: int


class AgentsPanel(Output):
    key: str
    agents: list[AgentQueue]


Panel = DealsPanel | StagesPanel | TasksPanel | TicketsPanel | AgentsPanel


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
    """The records of each panel named, in order."""
    builders: dict[str, Callable[[Crm], Panel]] = {
        "my_deals": lambda crm: DealsPanel(
            key="my_deals", deals=deals.list_deals(crm, status="open", owner="me", limit=15).deals
        ),
        "my_pipeline": lambda crm: StagesPanel(
            key="my_pipeline", stages=sales_report.pipeline_by_stage(crm, owner="me")
        ),
        "team_pipeline": lambda crm: StagesPanel(
            key="team_pipeline", stages=sales_report.pipeline_by_stage(crm)
        ),
        "my_tasks": _my_tasks,
        "my_tickets": lambda crm: TicketsPanel(
            key="my_tickets", tickets=tickets.list_tickets(crm, assignee="me", limit=15).tickets
        ),
        "unassigned": lambda crm: TicketsPanel(
            key="unassigned", tickets=tickets.list_tickets(crm, assignee="none", limit=15).tickets
        ),
        "at_risk": _at_risk,
        "team_service": lambda crm: AgentsPanel(
            key="team_service",
            agents=[
                AgentQueue(agent=name, waiting=waiting, breached=late)
                for name, waiting, late in tickets.waiting_by_agent(crm)
            ],
        ),
    }
    return [builders[key](crm) for key in keys]


def _my_tasks(crm: Crm) -> TasksPanel:
    """My overdue tasks, then those due today."""
    overdue = tasks.list_tasks(crm, scope=TaskScope.overdue, limit=20)
    return TasksPanel(key="my_tasks", tasks=overdue + tasks.list_tasks(crm, scope=TaskScope.today, limit=20))


def _at_risk(crm: Crm) -> TicketsPanel:
    """Tickets past an SLA target, then those due within two hours."""
    late = tickets.list_tickets(crm, breached=True, limit=10).tickets
    soon = tickets.list_tickets(crm, due_within=timedelta(hours=2), limit=10).tickets
    return TicketsPanel(key="at_risk", tickets=late + soon)


class Target(Output):
    """Somewhere the command palette can jump to."""

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
        # A contact opens its customer: people are seen in their company's record, and
        # the label says so ("Tom Becker at Acme"), as the reference shown is the customer's.
        contact = hit.kind == "contact"
        ref = hit.customer_ref if contact else hit.ref
        owner = hit.customer if hit.kind != "customer" else ""
        detail = " · ".join(part for part in (hit.ref, owner, hit.snippet) if part)
        label = f"{hit.title} at {hit.customer}" if contact and hit.customer else hit.title
        found.append(Target(ref=ref, kind=hit.kind, label=label, detail=detail))
    return found[:limit]
