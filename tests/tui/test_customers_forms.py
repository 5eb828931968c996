"""The customer form keeps the promises of every form (save key shown, Esc asks, the
first field focused) and its own: a likely duplicate is saved only when asked."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Label, Static

from crm_tui.app import make_app
from crm_tui.logic.customers import customers
from crm_tui.screens.customers import CustomerDetailScreen, CustomerForm
from crm_tui.screens.widgets.dialogs import Confirm
from crm_tui.screens.widgets.forms import PickField
from crm_tui.screens.widgets.keys_footer import KeysFooter
from tests.tui.customer_steps import settle

pytestmark = pytest.mark.asyncio


async def new_customer_form(app, pilot) -> CustomerForm:
    await settle(pilot)
    await pilot.press("f3")
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    form = app.screen
    assert isinstance(form, CustomerForm)
    return form


async def test_the_form_shows_its_save_key_and_starts_in_the_name(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await new_customer_form(app, pilot)
        assert form.focused is form.query_one("#field-name", Input)
        assert "ctrl+s save" in str(form.query_one(".title", Label).render())
        assert form.query(KeysFooter) and form.active_bindings["ctrl+s"].binding.show


async def test_escape_on_a_changed_form_asks_before_discarding(team, counts):
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await new_customer_form(app, pilot)
        await pilot.press(*"Half typed", "escape")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("escape")  # no: back to the form with the text
        await settle(pilot)
        assert app.screen is form and form.values()["name"] == "Half typed"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert not isinstance(app.screen, CustomerForm | Confirm)
    assert counts() == before


async def test_a_likely_duplicate_is_saved_only_when_asked(team):
    acme = customers.list_customers(team, text="acme").customers[0]
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await new_customer_form(app, pilot)
        form.query_one("#field-name", Input).value = "Acme Two"
        form.query_one("#field-email", Input).value = acme.email
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert f"{acme.ref} {acme.name} has the same email" in str(
            form.query_one("#form-error", Static).render()
        )
        force = form.query_one("#force")
        assert force.display and not form.query_one("#reload").display
        assert len(customers.list_customers(team, text="acme").customers) == 1  # nothing saved yet
        force.press()
        await settle(pilot, 6)
        assert isinstance(app.screen, CustomerDetailScreen)
    assert sorted(c.name for c in customers.list_customers(team, text="acme").customers) == [
        "Acme Logistics GmbH",
        "Acme Two",
    ]


async def test_the_owner_is_picked_and_the_stage_chosen(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await new_customer_form(app, pilot)
        form.query_one("#field-name", Input).value = "Owned Ltd"
        form.query_one("#field-lifecycle").value = "prospect"
        owner = form.query_one("#field-owner", PickField)
        owner.focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press(*"sven", "enter")
        await settle(pilot)
        assert owner.value == "sven"
        await pilot.press("ctrl+s")
        await settle(pilot, 6)
    stored = customers.list_customers(team, text="owned").customers[0]
    assert (stored.owner, stored.lifecycle.value, stored.kind.value) == ("sven", "prospect", "company")


async def test_a_new_customer_belongs_to_the_one_adding_it_unless_changed(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await new_customer_form(app, pilot)
        assert form.query_one("#field-owner", PickField).value == team.username
        form.query_one("#field-name", Input).value = "Mine Ltd"
        await pilot.press("ctrl+s")
        await settle(pilot, 6)
    assert customers.list_customers(team, text="mine ltd").customers[0].owner == team.username


async def test_the_form_footer_shows_f1_beside_save_and_cancel(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await new_customer_form(app, pilot)
        keys = [(k.shown, k.description) for k in form.query_one(KeysFooter).keys]
        assert keys[-1] == ("f1", "Help") and ("^s", "Save") in keys
        await pilot.press("f1")  # and it works there
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen"


async def test_custom_fields_are_typed_one_a_line_and_shown_on_the_customer(team):
    from textual.widgets import TextArea

    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        form = await new_customer_form(app, pilot)
        form.query_one("#field-name", Input).value = "Fielded Ltd"
        form.query_one("#field-custom", TextArea).text = "VAT ID: GB123\nno colon"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused beside the field, nothing stored
        assert "line 2: write a name, a colon" in str(form.query_one("#error-custom", Static).render())
        assert not customers.list_customers(team, text="fielded").customers
        form.query_one("#field-custom", TextArea).text = "VAT ID: GB123\nEmployees: 12"
        await pilot.press("ctrl+s")
        await settle(pilot, 6)
        assert isinstance(app.screen, CustomerDetailScreen)
        assert "Custom fields: Employees: 12 · VAT ID: GB123" in str(
            app.screen.query_one("#record", Static).render()
        )
        stored = customers.list_customers(team, text="fielded").customers[0]
        assert stored.custom == {"VAT ID": "GB123", "Employees": "12"}
        await pilot.press("e")  # edit: delete one line, change the other
        await settle(pilot)
        edit = app.screen
        assert isinstance(edit, CustomerForm)
        area = edit.query_one("#field-custom", TextArea)
        assert area.text == "Employees: 12\nVAT ID: GB123"
        area.text = "VAT ID: GB999"
        await pilot.press("ctrl+s")
        await settle(pilot, 6)
    assert customers.get_customer(team, stored.ref).custom == {"VAT ID": "GB999"}
