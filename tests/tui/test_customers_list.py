"""The customer list: where the cursor starts, the filter's keys, and a list that keeps
its place after every action."""

from __future__ import annotations

import io
import string

import pytest
from rich.console import Console
from textual.widgets import Input, Static

from crm_tui.app import make_app
from crm_tui.logic.admin import demo
from crm_tui.logic.core.vocabulary import CustomerSort
from crm_tui.logic.customers import customers
from crm_tui.screens.customers import HOLD_LETTER, CustomerDetailScreen, CustomerForm, CustomersScreen
from crm_tui.screens.duplicates import DuplicatesScreen
from crm_tui.screens.widgets.row_table import RowTable
from tests.tui.customer_steps import notices, settle

pytestmark = pytest.mark.asyncio


async def open_list(app, pilot) -> CustomersScreen:
    await settle(pilot)
    await pilot.press("f3")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, CustomersScreen)
    return screen


def names(screen: CustomersScreen) -> list[str]:
    table = screen.query_one(RowTable)
    return [table.get_row_at(i)[1] for i in range(table.row_count)]


def under_cursor(screen: CustomersScreen) -> str:
    table = screen.query_one(RowTable)
    return table.keys[table.cursor_row]


def status(screen: CustomersScreen) -> str:
    return str(screen.query_one("#status", Static).render())


async def test_the_list_opens_in_the_table_every_time(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        table = screen.query_one(RowTable)
        assert screen.focused is table
        await pilot.press("slash")  # into the filter, then away and back
        assert screen.focused is screen.query_one("#filter", Input)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert app.screen is screen and screen.focused is table


async def test_letters_and_digits_in_the_filter_are_text_and_never_keys(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("slash", *"nxm26")  # n, x, m and the digits are the table's keys
        await settle(pilot)
        assert screen.query_one("#filter", Input).value == "nxm26"
        assert (screen.view, screen.archived, screen.stage) == ("1", False, None)
        assert app.screen is screen  # n did not open the new customer form, nor m the duplicates
        shown = {key for key, active in screen.active_bindings.items() if active.binding.show}
        assert not shown & {"n", "x", "m"}  # nor does the footer offer them


async def test_letters_typed_in_the_table_never_change_the_view(team):
    """Every letter but the three actions (n new, x archive, m duplicates), typed with the
    cursor in the table, leaves the list as it was: a name typed there by mistake changes
    nothing."""
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        before = names(screen)
        letters = [c for c in string.ascii_letters if c not in "nxm"]
        await pilot.press(*letters)
        await settle(pilot)
        assert app.screen is screen
        assert (screen.view, screen.sort) == ("1", CustomerSort.alphabetical)
        assert names(screen) == before and status(screen).startswith("Customers by name:")
    assert not customers.list_customers(team, archived="archived").customers


async def test_digits_choose_the_view_and_ctrl_o_the_order_and_the_status_says_so(team):
    archived = customers.list_customers(team, text="acme").customers[0]
    customers.archive_customer(team, archived.ref)
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        assert "Acme Logistics GmbH" not in names(screen)
        await pilot.press("6")
        await settle(pilot)
        assert names(screen) == ["Acme Logistics GmbH"]
        assert status(screen) == "Archived customers by name: 1 shown. 1-6 views"
        await pilot.press("2")  # active again, leads only
        await settle(pilot)
        leads = [c.name for c in customers.list_customers(team, lifecycle="lead", limit=100).customers]
        assert names(screen) == leads and status(screen).startswith("Leads by name:")
        await pilot.press("1", "ctrl+o")
        await settle(pilot)
        newest = customers.list_customers(team, sort=CustomerSort.created, descending=True, limit=100)
        assert names(screen) == [c.name for c in newest.customers] != sorted(names(screen))
        assert status(screen).startswith("Customers newest first:")


async def test_ctrl_o_sorts_from_the_filter_too(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("slash", *"gmbh", "ctrl+o")
        await settle(pilot)
        assert screen.sort == CustomerSort.created and screen.focused is screen.filter_box
        found = customers.list_customers(
            team, text="gmbh", sort=CustomerSort.created, descending=True, limit=100
        ).customers
        assert names(screen) == [c.name for c in found]


async def test_escape_in_the_filter_goes_back_to_the_table_keeping_the_filter(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("slash", *"kestrel", "escape")
        await settle(pilot)
        assert screen.focused is screen.query_one(RowTable)
        assert names(screen) == ["Kestrel Freight BV"]
        await pilot.press("escape")  # in the table: the filter is cleared
        await settle(pilot)
        assert len(names(screen)) == len(demo.FIRMS)


async def test_enter_in_the_filter_opens_the_first_match(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_list(app, pilot)
        await pilot.press("slash", *"zür", "enter")
        await settle(pilot, 6)
        assert isinstance(app.screen, CustomerDetailScreen)
        assert "Café Zürich AG" in str(app.screen.query_one("#record", Static).render())


async def test_enter_in_the_filter_with_no_match_says_so_and_stays(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("slash", *"qqqq", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.focused is screen.query_one("#filter", Input)
        assert "No customer matches 'qqqq'" in notices(app)[-1]
        assert status(screen) == "No customers match 'qqqq'. Esc clears the filter."


async def test_the_list_keeps_its_place_after_a_customer_is_opened_and_edited(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("down", "down", "down")
        chosen = under_cursor(screen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen) and app.screen.reference == chosen
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, CustomerForm)
        app.screen.query_one("#field-city", Input).value = "Kiel"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")  # back to the list
        await settle(pilot)
        assert app.screen is screen
        assert under_cursor(screen) == chosen
        assert screen.query_one(RowTable).get_row_at(3)[6] == "Kiel"  # and it shows the change
    assert customers.get_customer(team, chosen).city == "Kiel"


async def test_archive_from_the_list_acts_at_once_and_the_cursor_takes_the_neighbour(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("down", "down")
        table = screen.query_one(RowTable)
        gone, neighbour = table.keys[2], table.keys[3]
        await pilot.press("x")
        await settle(pilot)
        assert f"Archived {gone} · ctrl+z undo" in notices(app)
        assert gone not in table.keys
        assert under_cursor(screen) == neighbour and table.cursor_row == 2
        await pilot.press("6")  # the archived view: restore it from there
        await settle(pilot)
        assert table.keys == [gone]
        await pilot.press("x")
        await settle(pilot)
        assert f"Restored {gone} · ctrl+z undo" in notices(app)
        assert status(screen) == "No archived customers. n adds one; 1-6 views."
    assert customers.get_customer(team, gone).archived_at is None


async def test_m_opens_the_duplicates(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_list(app, pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, DuplicatesScreen)


async def test_a_palette_command_chosen_in_the_filter_acts(team):
    """The palette lists the screen's actions; one chosen while the filter had the cursor
    still runs (the table takes the cursor when the palette opens)."""
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("slash")
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Duplicates")
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DuplicatesScreen), app.screen
        assert screen.focused is screen.query_one(RowTable)


async def test_ctrl_z_after_an_archive_brings_the_customer_back_under_the_cursor(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("down", "down")
        gone = under_cursor(screen)
        await pilot.press("x")
        await settle(pilot)
        assert gone not in screen.query_one(RowTable).keys
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert under_cursor(screen) == gone
    assert customers.get_customer(team, gone).archived_at is None


def frames_drawn(app) -> list[str]:
    """The text of each frame the app hands to its terminal from now on."""
    drawn: list[str] = []
    display = app._display

    def text_of(screen, update) -> None:
        display(screen, update)
        if update is not None:
            out = io.StringIO()
            Console(file=out, width=200, force_terminal=True, color_system=None).print(update, end="")
            drawn.append(out.getvalue())

    app._display = text_of
    return drawn


async def test_a_letter_typed_in_the_filter_is_drawn_with_the_rows_it_filters_to(team):
    """One frame for both: drawn alone, the letter would take the frame at hand and the
    rows would wait for the next one."""
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("slash")
        await settle(pilot)
        drawn = frames_drawn(app)
        await pilot.press("k")
        await settle(pilot)
        assert names(screen) == ["Kestrel Freight BV"]
        with_letter = [frame for frame in drawn if "▊k" in frame.replace(" ", "")]
        assert with_letter and "Kestrel Freight BV" in with_letter[0]


async def test_a_letter_is_drawn_in_time_even_without_its_rows(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(app, pilot)
        drawn = frames_drawn(app)
        screen.hold_frames()  # as for a letter whose rows never come
        screen.query_one("#status", Static).update("Still waiting")
        await pilot.pause(HOLD_LETTER * 3)
        assert any("Still waiting" in frame for frame in drawn)
