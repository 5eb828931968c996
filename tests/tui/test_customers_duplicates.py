"""Finding duplicate customers and merging two of them: chosen in a form, asked once
more (a merge cannot be undone), then merged."""

from __future__ import annotations

import pytest
from textual.widgets import Select, Static

from crm_tui.app import make_app
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.screens.duplicates import DuplicatesScreen
from crm_tui.screens.record_table import RecordTable
from crm_tui.screens.widgets.dialogs import Confirm
from crm_tui.screens.widgets.forms import FormDialog
from tests.tui.customer_steps import notices, settle

pytestmark = pytest.mark.asyncio


@pytest.fixture
def twins(team) -> tuple[str, str]:
    """Acme, and a second Acme with the same email (saved anyway)."""
    acme = customers.list_customers(team, text="acme").customers[0]
    second = customers.add_customer(
        team,
        validated(CustomerCreate, {"name": "Acme Logistik", "email": acme.email, "city": "Hamburg"}),
        force=True,
    )
    return acme.ref, second.ref


async def open_duplicates(app, pilot) -> DuplicatesScreen:
    await settle(pilot)
    app.push_screen(DuplicatesScreen())
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, DuplicatesScreen)
    return screen


def status(screen) -> str:
    return str(screen.query_one("#duplicates-status", Static).render())


async def test_the_groups_list_the_customers_that_look_alike(team, twins):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_duplicates(app, pilot)
        table = screen.query_one(RecordTable)
        assert [table.get_row_at(i)[:4] for i in range(table.row_count)] == [
            ["email", "info@acme.example", twins[0], "Acme Logistics GmbH"],
            ["", "", twins[1], "Acme Logistik"],
        ]
        assert status(screen).startswith("1 group of customers that look alike")


async def test_no_duplicates_says_so(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_duplicates(app, pilot)
        assert screen.query_one(RecordTable).row_count == 0
        assert status(screen).startswith("No duplicates:")
        await pilot.press("m")
        await settle(pilot)
        assert app.screen is screen and "No duplicates to merge." in notices(app)


async def test_merge_the_row_under_the_cursor_into_the_other_after_a_yes(team, twins):
    kept, gone = twins
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_duplicates(app, pilot)
        screen.query_one(RecordTable).move_cursor(row=0)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        values = form.values()
        assert values["survivor"].startswith(f"{kept} ") and values["merged"].startswith(f"{gone} ")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        assert "cannot be undone" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert any(n.startswith(f"Merged {gone} into {kept}") for n in notices(app))
        assert status(screen).startswith("No duplicates:")
    merged = customers.get_customer(team, gone)
    assert merged.merged_into == kept and merged.archived_at is not None
    assert customers.get_customer(team, kept).archived_at is None


async def test_no_at_the_question_merges_nothing(team, twins, counts):
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_duplicates(app, pilot)
        await pilot.press("m", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.query_one(RecordTable).row_count == 2
    assert counts() == before
    assert customers.get_customer(team, twins[1]).merged_into is None


async def test_one_customer_twice_is_refused_in_the_form(team, twins):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_duplicates(app, pilot)
        await pilot.press("m")
        await settle(pilot)
        form = app.screen
        form.query_one("#field-merged", Select).value = form.values()["survivor"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "choose two different customers" in str(form.query_one("#error-merged", Static).render())
    assert customers.get_customer(team, twins[1]).merged_into is None
