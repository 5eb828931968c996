"""The deal forms: a new deal with pickers, an edit that sends only what changed, and a
stale edit refused in the form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Input, OptionList, Static

from crm_tui.app import make_app
from crm_tui.logic.reports import audit_trail
from crm_tui.logic.sales import deals
from crm_tui.logic.sales.schemas import DealUpdate
from crm_tui.logic.values.dates import local_today
from crm_tui.screens.deal_forms import deal_form, edit_deal_form
from crm_tui.screens.widgets.forms import FormDialog, Picker, PickField
from tests.tui.snapshots import settle

pytestmark = pytest.mark.asyncio


async def pick(pilot, field: str, text: str) -> None:
    """Open the picker of ``field``, narrow it by ``text`` and take the first choice."""
    pilot.app.screen.query_one(f"#field-{field}", PickField).focus()
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, Picker)
    await pilot.press(*text)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def the_form(app) -> FormDialog:
    assert isinstance(app.screen, FormDialog)
    return app.screen


def offered(picker) -> list[str]:
    assert isinstance(picker, Picker)
    listing = picker.query_one(OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


def typed(screen, field: str, text: str) -> None:
    screen.query_one(f"#field-{field}", Input).value = text


def error_beside(screen, field: str) -> str:
    return str(screen.query_one(f"#error-{field}", Static).render())


async def test_a_new_deal_is_stored_with_what_was_picked(team):
    app = make_app(team)
    saved = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(deal_form(), saved.append)
        await settle(pilot)
        form = the_form(app)
        assert form.focused is form.query_one("#field-customer", PickField)
        assert form.values()["currency"] == "EUR" and form.values()["owner"] == "alice"
        await pick(pilot, "customer", "acme")
        typed(form, "title", "Route planner")
        typed(form, "amount", "12000.50")
        typed(form, "expected_close", "+3d")
        await pick(pilot, "owner", "sven")
        await pick(pilot, "contact", "tom")
        await pick(pilot, "stage", "prop")
        assert form.query_one("#field-contact", PickField).label == "Tom Becker"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormDialog)
    stored = deals.get_deal(team, saved[0].ref)
    assert (stored.customer_name, stored.title, stored.amount, stored.currency) == (
        "Acme Logistics GmbH", "Route planner", "12000.50", "EUR",
    )  # fmt: skip
    assert (stored.owner, stored.contact, stored.stage) == ("sven", "P-2", "Proposal")
    assert stored.expected_close == local_today() + timedelta(days=3)


async def test_the_contact_picker_follows_the_customer_picked(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(deal_form())
        await settle(pilot)
        await pick(pilot, "customer", "acme")
        await pick(pilot, "contact", "anna")
        form = the_form(app)
        assert form.values()["contact"] == "P-1"
        await pick(pilot, "customer", "brightwater")
        assert form.values()["contact"] == ""  # Anna works for Acme, not Brightwater
        form.query_one("#field-contact", PickField).focus()
        await pilot.press("enter")
        await settle(pilot)
        names = [line.split("  ")[0] for line in offered(app.screen)]
        assert sorted(names) == ["Emma Wilson", "Liam O'Brien"]


async def test_a_contact_before_a_customer_is_refused_and_nothing_is_stored(team, counts):
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(deal_form())
        await settle(pilot)
        typed(app.screen, "title", "No customer")
        app.screen.query_one("#field-contact", PickField).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert offered(app.screen) == []
        assert any("Choose the customer first" in str(n.message) for n in app._notifications)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+s")  # the customer is required
        await settle(pilot)
        assert "Customer is required" in error_beside(app.screen, "customer")
    assert counts() == before


async def test_a_wrong_amount_or_date_shows_beside_its_field_and_keeps_the_text(team, counts):
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(deal_form(customer="C-1", stage="Qualified"))
        await settle(pilot)
        form = the_form(app)
        assert form.focused is form.query_one("#field-title", Input)
        typed(form, "title", "Typo deal")
        typed(form, "amount", "12k")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "amount" in error_beside(form, "amount")
        typed(form, "amount", "12000")
        typed(form, "expected_close", "someday")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "invalid date 'someday'" in error_beside(form, "expected_close")
        assert error_beside(form, "amount") == ""
        assert app.screen is form and form.values()["title"] == "Typo deal"
    assert counts() == before


async def test_a_new_deal_for_a_given_customer_starts_in_the_stage_given(team):
    app = make_app(team)
    saved = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(deal_form(customer="C-3", stage="Qualified"), saved.append)
        await settle(pilot)
        await pilot.press(*"Lab audit", "ctrl+s")
        await settle(pilot)
    stored = deals.get_deal(team, saved[0].ref)
    assert (stored.customer, stored.stage, stored.owner, stored.amount_minor) == (
        "C-3",
        "Qualified",
        "alice",
        0,
    )


async def test_an_edit_of_amount_and_owner_changes_only_them(team):
    deal = deals.get_deal(team, "D-29")
    app = make_app(team)
    saved = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(edit_deal_form(deal), saved.append)
        await settle(pilot)
        form = the_form(app)
        assert form.values()["amount"] == "4000.00" and form.values()["owner"] == "sara"
        typed(form, "amount", "4800")
        await pick(pilot, "owner", "sven")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormDialog)
    stored = deals.get_deal(team, "D-29")
    assert (stored.amount, stored.owner) == ("4800.00", "sven")
    assert (stored.title, stored.contact, stored.expected_close, stored.stage) == (
        deal.title, deal.contact, deal.expected_close, deal.stage,
    )  # fmt: skip
    (entry,) = [e for e in audit_trail.list_entries(team, record="D-29") if e.action == "update"]
    assert {"amount", "owner"} <= set(entry.changes) and "title" not in entry.changes
    assert saved[0] == stored  # the form is dismissed with the deal as stored


async def test_clearing_the_expected_close_and_the_contact_stores_none(team):
    deal = deals.get_deal(team, "D-29")
    assert deal.expected_close is not None
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(edit_deal_form(deal))
        await settle(pilot)
        form = the_form(app)
        typed(form, "expected_close", "")
        form.query_one("#field-contact", PickField).focus()
        await pilot.press("delete", "ctrl+s")
        await settle(pilot)
    stored = deals.get_deal(team, "D-29")
    assert (stored.expected_close, stored.contact) == (None, None)


async def test_a_stale_edit_is_refused_in_the_form_keeping_the_typing(team, as_user):
    deal = deals.get_deal(team, "D-29")
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(edit_deal_form(deal))
        await settle(pilot)
        deals.update_deal(as_user("sara"), "D-29", DealUpdate(title="Mobile app v2"))
        form = the_form(app)
        typed(form, "amount", "9999")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "D-29 was changed by sara" in str(form.query_one("#form-error", Static).render())
        assert form.values()["amount"] == "9999"
    stored = deals.get_deal(team, "D-29")
    assert (stored.title, stored.amount) == ("Mobile app v2", "4000.00")


async def test_saving_an_unchanged_edit_stores_nothing(team):
    deal = deals.get_deal(team, "D-29")
    app = make_app(team)
    saved = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(edit_deal_form(deal), saved.append)
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert saved == [deal] and deals.get_deal(team, "D-29").version == deal.version
