"""The ticket queue: new tickets, opening one, and a cursor that keeps its place."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Static

from crm_tui.app import make_app
from crm_tui.logic.service import tickets
from crm_tui.screens.tickets import TicketForm, TicketScreen, TicketsScreen
from crm_tui.screens.widgets.forms import Picker, PickField
from tests.tui.snapshots import settle

pytestmark = pytest.mark.asyncio


def notes(app) -> list[str]:
    return [str(note.message) for note in app._notifications]


def under_cursor(screen) -> str:
    table = screen.query_one(DataTable)
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


def rows(screen) -> list[str]:
    return [str(key.value) for key in screen.query_one(DataTable).rows]


def status_line(screen) -> str:
    return str(screen.query_one("#queue-status", Static).render())


async def queue(app, pilot) -> TicketsScreen:
    await settle(pilot)
    await pilot.press("f5")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, TicketsScreen)
    assert screen.focused is screen.query_one(DataTable)
    return screen


async def pick(pilot, field: str, text: str) -> None:
    pilot.app.screen.query_one(f"#field-{field}", PickField).focus()
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, Picker)
    await pilot.press(*text, "enter")
    await settle(pilot)


async def test_a_new_ticket_from_the_queue_is_stored_and_the_cursor_goes_to_it(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await queue(app, pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, TicketForm)
        await pick(pilot, "customer", "brightwater")
        await pick(pilot, "contact", "")
        form.query_one("#field-subject", Input).value = "Licence key rejected"
        await pick(pilot, "assignee", "sue")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        created = [
            t for t in tickets.list_tickets(team, limit=100).tickets if t.subject == "Licence key rejected"
        ]
        assert len(created) == 1
        ref = created[0].ref
        assert under_cursor(screen) == ref
        assert f"Opened {ref} (normal, with sue)" in notes(app)
    stored = tickets.get_ticket(team, ref)
    assert (stored.customer_name, stored.assignee, stored.status) == ("Brightwater Labs Ltd", "sue", "new")
    assert stored.contact is not None


async def test_the_queue_keeps_its_place_after_returning_from_a_ticket(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await queue(app, pilot)
        table = screen.query_one(DataTable)
        table.move_cursor(row=4)
        chosen = under_cursor(screen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen) and app.screen.reference == chosen
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert under_cursor(screen) == chosen


async def test_a_ticket_that_left_the_view_leaves_the_cursor_on_its_neighbour(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await queue(app, pilot)
        screen.query_one(DataTable).move_cursor(row=3)
        before = rows(screen)
        chosen, neighbour = before[3], before[4]
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("v", *"Sent a new part", "ctrl+s")  # resolved: no longer waiting
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert chosen not in rows(screen)
        assert under_cursor(screen) == neighbour


async def test_records_changed_elsewhere_keep_the_cursor_on_its_ticket(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await queue(app, pilot)
        screen.query_one(DataTable).move_cursor(row=5)
        chosen, first = under_cursor(screen), rows(screen)[0]
        tickets.resolve(team, first, "Answered by phone")  # a row above it leaves the view
        screen.records_changed()
        await settle(pilot)
        assert first not in rows(screen)
        assert under_cursor(screen) == chosen


async def test_empty_views_say_what_is_empty(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await queue(app, pilot)
        assert "Tickets: waiting" in status_line(screen)
        await pilot.press("4")
        await settle(pilot)
        assert rows(screen) == []
        assert "No breached tickets." in status_line(screen)
        await pilot.press("2")  # alice, an admin, has no tickets
        await settle(pilot)
        assert "No tickets of yours waiting." in status_line(screen)
        await pilot.press("5")
        await settle(pilot)
        assert rows(screen) == [t.ref for t in tickets.list_tickets(team, status="resolved").tickets]


async def test_a_view_starts_at_its_top(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await queue(app, pilot)
        screen.query_one(DataTable).move_cursor(row=4)
        await pilot.press("3")
        await settle(pilot)
        assert screen.query_one(DataTable).cursor_row == 0
        assert rows(screen) == [t.ref for t in tickets.list_tickets(team, assignee="none").tickets]


async def test_the_palettes_open_shows_the_ticket_under_the_cursor(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await queue(app, pilot)
        screen.query_one(DataTable).move_cursor(row=2)
        chosen = under_cursor(screen)
        await screen.run_action("open")  # what the palette's "Open" entry runs
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen) and app.screen.reference == chosen
        assert chosen in str(app.screen.query_one("#ticket-head", Static).render())
