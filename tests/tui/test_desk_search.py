"""`/` on the desk searches every kind of record and opens the one chosen."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from crm_tui.app import make_app
from crm_tui.logic.customers import customers
from crm_tui.logic.service import tickets
from crm_tui.screens.customers import CustomerDetailScreen
from crm_tui.screens.tickets import TicketScreen
from tests.tui.snapshots import settle

pytestmark = pytest.mark.asyncio


async def search_and_open(pilot, text: str) -> None:
    await settle(pilot)
    await pilot.press("slash")
    await pilot.pause()
    await pilot.press(*text)
    await pilot.pause(0.5)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot, 6)


async def test_slash_on_the_desk_finds_a_customer_by_name(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await search_and_open(pilot, "Kestrel")
        assert isinstance(app.screen, CustomerDetailScreen)
        assert "Kestrel Freight BV" in str(app.screen.query_one("#record", Static).render())


async def test_slash_on_the_desk_finds_a_ticket_by_its_reference(team):
    ticket = tickets.list_tickets(team, status="all", limit=1).tickets[0]
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await search_and_open(pilot, ticket.ref)
        assert isinstance(app.screen, TicketScreen)
        assert app.screen.reference == ticket.ref


async def test_f7_opens_the_tasks_and_f8_the_team_screen(team):
    from crm_tui.screens.admin import AdminScreen
    from crm_tui.screens.tasks import TasksScreen

    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, TasksScreen)
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, AdminScreen)


async def test_f3_shows_the_customer_list_even_after_a_customer_was_open_there(team):
    from crm_tui.screens.customers import CustomersScreen

    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        app.open_record("C-1")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen)
        await pilot.press("f4", "f3")
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
        await pilot.press("slash", *"acme")  # typed into the filter, not as the customer's keys
        await settle(pilot)
        assert app.screen.query_one("#filter").value == "acme"
    assert customers.get_customer(team, "C-1").archived_at is None
