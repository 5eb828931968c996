"""The tasks screen: its views by due day, planning a task, and done and reopen acting at
once with the list keeping its place."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Input, Static

from crm_tui.app import make_app
from crm_tui.logic.core.vocabulary import TaskScope
from crm_tui.logic.customers import customers, tasks
from crm_tui.logic.customers.schemas import TaskCreate
from crm_tui.logic.values.dates import local_today, parse_relative_day
from crm_tui.screens.customers import CustomerDetailScreen
from crm_tui.screens.record_table import RecordTable
from crm_tui.screens.tasks import TasksScreen
from crm_tui.screens.widgets.forms import FormDialog, Picker, PickField
from crm_tui.screens.widgets.keys_footer import KeysFooter
from tests.tui.customer_steps import notices, settle

pytestmark = pytest.mark.asyncio


@pytest.fixture
def team(demo_crm):
    """The demo, and a task in each view: due today, late, this week, mine without a day."""
    crm = demo_crm
    acme = customers.list_customers(crm, text="acme").customers[0].ref
    today = local_today()
    for title, due, assignee in (
        ("Call about the renewal", today, "sara"),
        ("Chase the late invoice", today - timedelta(days=2), "sven"),
        ("Prepare the workshop", today + timedelta(days=3), None),
        ("Tidy the contacts", None, None),
    ):
        tasks.add_task(crm, TaskCreate(title=title, customer=acme, due=due, assignee=assignee))
    return crm


async def open_tasks(app, pilot) -> TasksScreen:
    await settle(pilot)
    app.push_screen(TasksScreen())
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, TasksScreen)
    return screen


def shown_refs(screen: TasksScreen) -> list[str]:
    return list(screen.query_one(RecordTable).keys)


def status(screen: TasksScreen) -> str:
    return str(screen.query_one("#tasks-status", Static).render())


VIEWS = [
    ("1", {"scope": TaskScope.today, "assignee": None}, "Tasks due today"),
    ("2", {"scope": TaskScope.overdue, "assignee": None}, "Tasks overdue"),
    ("3", {"scope": TaskScope.week, "assignee": None}, "Tasks this week"),
    ("4", {"scope": TaskScope.open, "assignee": "me"}, "Tasks mine"),
    ("5", {"scope": TaskScope.done, "assignee": None}, "Tasks finished"),
]


async def test_each_view_lists_what_it_names(team):
    tasks.set_done(team, tasks.list_tasks(team, assignee=None)[0].ref)  # one for the done view
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tasks(app, pilot)
        for key, filters, heading in VIEWS:
            await pilot.press(key)
            await settle(pilot)
            wanted = [t.ref for t in tasks.list_tasks(team, limit=200, **filters)]
            assert wanted and shown_refs(screen) == wanted, key
            assert status(screen).startswith(f"{heading}: {len(wanted)} shown"), key


async def test_a_late_task_is_marked_in_words(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tasks(app, pilot)
        await pilot.press("2")
        await settle(pilot)
        table = screen.query_one(RecordTable)
        assert str(table.get_row_at(0)[1]).endswith(" late")


async def test_an_empty_view_says_what_is_empty(crm):
    app = make_app(crm)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_tasks(app, pilot)
        assert shown_refs(screen) == []
        assert status(screen).startswith("No tasks due today.")
        await pilot.press("2")
        await settle(pilot)
        assert status(screen).startswith("No overdue tasks.")
        await pilot.press("x")  # nothing to mark done: it says so
        await settle(pilot)
        assert "No task here" in notices(app)[-1]


async def test_plan_a_task_about_a_customer_for_a_colleague(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_tasks(app, pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)
        await pilot.press(*"Book the venue", "tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, Picker)
        await pilot.press(*"kestrel", "enter")
        await settle(pilot)
        await pilot.press("tab", *"today", "tab", "enter")
        await settle(pilot)
        await pilot.press(*"sue", "enter")
        await settle(pilot)
        assert [f.value for f in app.screen.query(PickField)] == [
            customers.list_customers(team, text="kestrel").customers[0].ref,
            "sue",
        ]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        table = screen.query_one(RecordTable)
        added = table.current  # the cursor is on the new task
        assert table.get_row(added)[2:] == ["Book the venue", "Kestrel Freight BV", "sue"]
    stored = tasks.get_task(team, added)
    assert (stored.title, stored.customer_name, stored.assignee, stored.due) == (
        "Book the venue",
        "Kestrel Freight BV",
        "sue",
        parse_relative_day("today"),
    )


async def test_done_acts_at_once_and_the_cursor_takes_the_neighbour(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tasks(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        table = screen.query_one(RecordTable)
        table.move_cursor(row=1)
        done, neighbour = table.keys[1], table.keys[2]
        assert table.current == done
        await pilot.press("x")
        await settle(pilot)
        assert f"Done {done} · ctrl+z undo" in notices(app)
        assert done not in table.keys and table.current == neighbour
        assert tasks.get_task(team, done).done
        await pilot.press("5")  # the finished ones: open it again
        await settle(pilot)
        assert table.current == done
        await pilot.press("o")
        await settle(pilot)
        assert f"Reopened {done} · ctrl+z undo" in notices(app)
        assert done not in table.keys
    assert not tasks.get_task(team, done).done


async def test_done_twice_is_refused_and_said(team, as_user):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tasks(app, pilot)
        chosen = screen.query_one(RecordTable).current
        tasks.set_done(as_user("sara"), chosen)  # a colleague was quicker
        await pilot.press("x")
        await settle(pilot)
        assert f"{chosen} is already done" in notices(app)[-1]


async def test_enter_opens_the_tasks_customer(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tasks(app, pilot)
        chosen = tasks.get_task(team, screen.query_one(RecordTable).current)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen) and app.screen.reference == chosen.customer


async def test_a_task_about_no_customer_says_so_on_enter(team):
    lone = tasks.add_task(team, TaskCreate(title="Renew the domain", due=local_today()))
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tasks(app, pilot)
        screen.query_one(RecordTable).go_to(lone.ref)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert f"{lone.ref} is about no customer." in notices(app)


async def test_ctrl_z_after_done_opens_the_task_again_under_the_cursor(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tasks(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        table = screen.query_one(RecordTable)
        table.move_cursor(row=1)
        done = table.current
        await pilot.press("x")
        await settle(pilot)
        assert done not in table.keys
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert table.current == done
    assert not tasks.get_task(team, done).done


@pytest.mark.parametrize(
    ("due", "assignee", "view", "said"),
    [
        ("today", "", "1", "in due today (1)"),
        ("+3d", "", "3", "in this week (3)"),
        ("", "", "4", "in mine (4)"),
        ("+30d", "sue", "1", "for sue: in none of these views yet"),
    ],
)
async def test_a_new_task_is_shown_in_a_view_that_lists_it_or_said_to_be_in_none(
    team, due, assignee, view, said
):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tasks(app, pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-title", Input).value = "Call back"
        if due:
            form.query_one("#field-due", Input).value = due
        if assignee:
            form.set_value("assignee", assignee)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen and screen.view == view
        (added,) = [n for n in notices(app) if n.startswith("Added ")]
        assert added.endswith(said)
        if not said.endswith("yet"):  # listed, under the cursor
            assert screen.query_one(RecordTable).current == added.split(":")[0].removeprefix("Added ")


async def test_every_column_fits_at_80_columns_and_a_long_title_is_cut_with_an_ellipsis(team):
    long = "Prepare the quarterly review of every open deal with the purchasing team in Hamburg"
    task = tasks.add_task(team, TaskCreate(title=long, customer="C-1", due=local_today(), assignee="sven"))
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_tasks(app, pilot)
        table = screen.query_one(RecordTable)
        widths = {str(column.label): column.width for column in table.columns.values()}
        # Each column with a space either side, all within the table: nothing scrolls away.
        assert sum(widths.values()) + 2 * len(widths) <= table.scrollable_content_region.width
        assert widths["Assignee"] >= len("Assignee") and widths["Task"] < len(long)
        assert table.max_scroll_x == 0
        shown = str(table.get_row(task.ref)[2])
        assert shown.endswith("…") and long.startswith(shown[:-1])


async def test_done_is_offered_in_the_open_views_and_reopen_in_the_finished_one(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tasks(app, pilot)
        assert {"Done"} == footer_steps(screen)
        await pilot.press("5")
        await settle(pilot)
        assert {"Reopen"} == footer_steps(screen)


def footer_steps(screen: TasksScreen) -> set[str]:
    return {k.description for k in screen.query_one(KeysFooter).keys if k.enabled} & {"Done", "Reopen"}
