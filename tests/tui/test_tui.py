"""The TUI driven by the Pilot: each main flow, asserting what is shown and what is stored."""

from __future__ import annotations

import pytest
from textual.widgets import Button, DataTable, Input, Static

from crm_tui.app import make_app
from crm_tui.logic.admin import demo
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerUpdate
from crm_tui.logic.sales import deals
from crm_tui.logic.service import tickets
from crm_tui.screens.customers import CustomerDetailScreen, CustomerForm, CustomersScreen
from crm_tui.screens.desk import DeskScreen, WelcomeScreen
from crm_tui.screens.pipeline import PipelineScreen
from crm_tui.screens.tickets import TicketScreen, TicketsScreen
from crm_tui.screens.widgets.row_table import RowTable
from tests.tui.snapshots import settle

pytestmark = pytest.mark.asyncio


def table_refs(table) -> list[str]:
    return list(table.keys)


async def test_a_new_database_is_welcomed_and_can_start_with_demo_data(crm):
    app = make_app(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        name = app.screen.query_one("#display-name", Input)
        name.value = "Alice Admin"
        await pilot.click("#demo")
        await settle(pilot, 8)
        assert isinstance(app.screen, DeskScreen)
        greeting = app.screen.query_one("#greeting", Static)
        assert "Alice Admin (admin)" in str(greeting.render())
    assert len(customers.list_customers(crm, limit=100).customers) == len(demo.FIRMS)


async def test_starting_empty_keeps_the_name_given_and_greets_by_it(crm):
    app = make_app(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#display-name", Input).value = "Alice Admin"
        await pilot.click("#empty")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert "Alice Admin (admin)" in str(app.screen.query_one("#greeting", Static).render())
    assert customers.list_customers(crm, limit=1).customers == []


async def test_create_a_customer_through_the_form(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
        assert app.screen.focused is app.screen.query_one(RowTable)  # the list's keys work at once
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CustomerForm)
        app.screen.query_one("#field-name", Input).value = "Zephyr Kites GmbH"
        app.screen.query_one("#field-email", Input).value = "hello@zephyr.example"
        app.screen.query_one("#field-city", Input).value = "Kiel"
        app.screen.query_one("#field-tags", Input).value = "vip, new"
        await pilot.press("ctrl+s")
        await settle(pilot, 6)
        assert isinstance(app.screen, CustomerDetailScreen)
        assert "Zephyr Kites GmbH" in str(app.screen.query_one("#record", Static).render())
    stored = customers.list_customers(team, text="zephyr").customers
    assert [(c.name, c.email, c.city, c.tags) for c in stored] == [
        ("Zephyr Kites GmbH", "hello@zephyr.example", "Kiel", ["new", "vip"])
    ]


async def test_a_validation_error_shows_beside_the_field_and_keeps_the_input(team, counts):
    before = counts()
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(CustomerForm())
        await settle(pilot)
        form = app.screen
        form.query_one("#field-name", Input).value = "Typo Inc"
        form.query_one("#field-email", Input).value = "typo@@example"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form is app.screen  # still open
        assert "invalid email 'typo@@example'" in str(form.query_one("#error-email", Static).render())
        assert form.query_one("#field-email", Input).value == "typo@@example"
        assert form.query_one("#field-name", Input).value == "Typo Inc"
    assert counts() == before


async def test_filter_the_list_as_you_type_and_page(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(RowTable)
        assert len(table_refs(table)) == len(demo.FIRMS)
        await pilot.press("slash", "z", "u", "r")
        await settle(pilot)
        assert table.get_row_at(0)[1] == "Café Zürich AG"
        assert table.row_count == 1
        screen.query_one("#filter", Input).value = ""
        await settle(pilot)
        assert table.row_count == len(demo.FIRMS)


async def test_the_list_pages_instead_of_loading_everything(team, monkeypatch):
    from crm_tui.screens import customers as screen_module

    monkeypatch.setattr(screen_module, "PAGE", 7)
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        table = app.screen.query_one(RowTable)
        table.focus()
        first = table_refs(table)
        assert len(first) == 7
        table.move_cursor(row=6)
        await pilot.press("pagedown")
        await settle(pilot)
        second = table_refs(table)
        assert len(second) == 7 and not set(first) & set(second)
        table.move_cursor(row=0)
        await pilot.press("pageup")
        await settle(pilot)
        assert table_refs(table) == first


async def test_move_a_deal_to_won_on_the_board(team):
    app = make_app(team)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, PipelineScreen)
        negotiation = next(c for c in app.screen.query("StageColumn") if c.stage == "Negotiation")
        negotiation.select(0)
        await pilot.pause()
        deal = app.screen.selected_deal()
        assert deal is not None
        reference = deal.ref
        await pilot.press("shift+right")  # Negotiation is the last open stage: the next one wins it
        await settle(pilot, 6)
        won_column = next(c for c in app.screen.query("StageColumn") if c.stage == "Won")
        assert reference in won_column.refs
    assert deals.get_deal(team, reference).status == "won"


async def test_lose_asks_for_a_reason(team):
    app = make_app(team)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        lead = next(c for c in app.screen.query("StageColumn") if c.stage == "Lead")
        lead.select(0)
        await pilot.pause()
        reference = app.screen.selected_deal().ref
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("enter")  # empty: refused in the dialog
        await settle(pilot)
        assert "cannot be empty" in str(app.screen.query_one("#prompt-error", Static).render())
        app.screen.query_one(Input).value = "No budget"
        await pilot.press("enter")
        await settle(pilot, 6)
    lost = deals.get_deal(team, reference)
    assert (lost.status, lost.lost_reason) == ("lost", "No budget")


async def test_reply_to_a_ticket_and_resolve_it(team):
    waiting = tickets.list_tickets(team, status="new").tickets[0]
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, TicketsScreen)
        app.screen.query_one(DataTable).focus()
        app.open_record(waiting.ref)
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        await pilot.press("r")  # a reply is several lines: the text box takes Enter
        await settle(pilot)
        await pilot.press(*"We reset your account.", "ctrl+s")
        await settle(pilot, 6)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press(*"Account reset", "ctrl+s")
        await settle(pilot, 6)
        texts = [str(s.render()) for s in app.screen.query(".message")]
        assert any("We reset your account." in text for text in texts)
    detail = tickets.ticket_detail(team, waiting.ref)
    assert (detail.ticket.status.value, detail.ticket.resolution) == ("resolved", "Account reset")
    assert detail.ticket.first_response_at is not None
    assert [m.body for m in detail.messages] == ["We reset your account."]


async def test_the_palette_jumps_to_a_record(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Kestrel")
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot, 6)
        assert isinstance(app.screen, CustomerDetailScreen)
        assert "Kestrel Freight BV" in str(app.screen.query_one("#record", Static).render())


async def test_a_stale_edit_is_shown_and_can_be_reloaded_keeping_the_typing(team, as_user):
    acme = customers.list_customers(team, text="acme").customers[0]
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(CustomerForm(acme))
        await settle(pilot)
        form = app.screen
        form.query_one("#field-city", Input).value = "Potsdam"
        customers.update_customer(
            as_user("mia"), acme.ref, CustomerUpdate(phone="+49 30 999999")
        )  # a colleague
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form is app.screen
        assert "was changed by mia" in str(form.query_one("#form-error", Static).render())
        assert form.query_one("#reload").display
        form.query_one("#reload", Button).press()  # below the fold of the form: pressed, not clicked
        await settle(pilot)
        assert form.query_one("#field-city", Input).value == "Potsdam"  # kept
        assert form.query_one("#field-phone", Input).value == "+4930999999"  # the colleague's change
        await pilot.press("ctrl+s")
        await settle(pilot, 6)
    stored = customers.get_customer(team, acme.ref)
    assert (stored.city, stored.phone) == ("Potsdam", "+4930999999")


async def test_help_lists_the_keys_of_the_screen_with_their_ids(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        ids = [row[2] for row in app.screen.rows]
        assert "customers.new" in ids and "app.help" in ids


async def test_a_user_keymap_remaps_a_binding(team):
    team.settings.keymap = {"customers.new": "ctrl+n"}
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, CustomerForm)


async def test_the_theme_is_remembered(team, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_CONFIG", str(tmp_path / "config.toml"))
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.theme = "nord"
        await pilot.pause()
    assert 'theme = "nord"' in (tmp_path / "config.toml").read_text()
