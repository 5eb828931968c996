"""How the customer's screens and dialogs and the tasks screen look, at 80x24 and
120x40, as SVG snapshots.

The data is the demo, made at a frozen time in UTC in each test's own folder, as in
test_tui_snapshots.py. Update after a deliberate change with
``pytest tests/tui/test_snapshots_customers.py --snapshot-update``, and look at the result.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_tui.app import make_app
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.core.vocabulary import TaskScope
from crm_tui.logic.customers import customers, tasks
from crm_tui.logic.customers.schemas import CustomerCreate, TaskCreate
from crm_tui.logic.values.dates import local_today
from crm_tui.screens.duplicates import DuplicatesScreen
from crm_tui.screens.tasks import TasksScreen
from tests.tui.snapshots import settle, visit

pytestmark = [
    pytest.mark.sqlite_only,  # the pictures show a SQLite file's path
    pytest.mark.usefixtures("steady_cursor"),
]

ACME = "C-1"  # the demo's first customer, with contacts, deals, tickets, orders and a task


def on_acme(*keys: str, then=None):
    """Open Acme, then press ``keys``, then run ``then``."""

    async def run(pilot) -> None:
        pilot.app.open_record(ACME)
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if then is not None:
            await then(pilot)

    return visit(then=run)


async def on_the_tasks_section(pilot) -> None:
    pilot.app.screen.query_one("#tasks").focus()


async def on_the_timeline(pilot) -> None:
    pilot.app.screen.query_one("#timeline").focus()


async def a_bad_due_day(pilot) -> None:
    await pilot.press(*"Send the quote", "tab", *"someday", "ctrl+s")


async def a_likely_duplicate(pilot) -> None:
    form = pilot.app.screen
    form.query_one("#field-name").value = "Acme Two"
    form.query_one("#field-email").value = "info@acme.example"
    await pilot.press("ctrl+s")


def with_tasks(crm) -> None:
    """Tasks in every view of the tasks screen: late, due today, this week, undated."""
    today = local_today()
    for title, customer, due, assignee in (
        ("Chase the late invoice", "C-4", today - timedelta(days=2), "sven"),
        ("Call about the renewal", ACME, today, "sara"),
        ("Renew the domain", None, today, None),
        ("Prepare the workshop", "C-7", today + timedelta(days=3), None),
    ):
        tasks.add_task(crm, TaskCreate(title=title, customer=customer, due=due, assignee=assignee))


def on_tasks(*keys: str):
    async def run(pilot) -> None:
        with_tasks(pilot.app.crm)
        pilot.app.push_screen(TasksScreen())
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return visit(then=run)


async def empty_tasks(pilot) -> None:
    """Nothing due today: the demo's task for today is done."""
    crm = pilot.app.crm
    for task in tasks.list_tasks(crm, assignee=None, scope=TaskScope.today):
        tasks.set_done(crm, task.ref)
    pilot.app.push_screen(TasksScreen())


def on_duplicates(*keys: str):
    async def run(pilot) -> None:
        crm = pilot.app.crm
        data = {"name": "Acme Logistik", "email": "info@acme.example", "city": "Hamburg"}
        customers.add_customer(crm, validated(CustomerCreate, data), force=True)
        pilot.app.push_screen(DuplicatesScreen())
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return visit(then=run)


async def no_match(pilot) -> None:
    await pilot.press("slash", *"qqqq")


SCREENS = {
    "customer_tasks_section": on_acme(then=on_the_tasks_section),
    "customer_timeline": on_acme(then=on_the_timeline),
    "customer_edit": on_acme("e"),
    "customer_duplicate": visit("f3", "n", then=a_likely_duplicate),
    "customer_tags": on_acme("g"),
    "contact_form": on_acme("c"),
    "contact_edit": on_acme("enter"),
    "contact_remove": on_acme("delete"),
    "entry_form": on_acme("n"),
    "task_form": on_acme("t"),
    "task_form_error": on_acme("t", then=a_bad_due_day),
    "customers_no_match": visit("f3", then=no_match),
    "tasks_today": on_tasks(),
    "tasks_overdue": on_tasks("2"),
    "tasks_empty": visit(then=empty_tasks),
    "tasks_new": on_tasks("n"),
    "duplicates": on_duplicates(),
    "merge_form": on_duplicates("enter"),
    "merge_confirm": on_duplicates("enter", "ctrl+s"),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_customers_screen(snap_compare, frozen, fresh_crm, screen, size):
    crm = fresh_crm()
    assert snap_compare(make_app(crm), terminal_size=size, run_before=SCREENS[screen])
