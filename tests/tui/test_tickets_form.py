"""The new-ticket form: pickers for the customer, its contacts and orders, and the agent."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Label, OptionList, Select, Static, TextArea

from crm_tui.app import make_app
from crm_tui.logic.customers import contacts, customers
from crm_tui.logic.sales import orders
from crm_tui.logic.service import tickets
from crm_tui.screens.tickets import TicketForm, ticket_form
from crm_tui.screens.widgets.forms import FormDialog, Picker, PickField
from tests.tui.snapshots import settle

pytestmark = pytest.mark.asyncio


def offered(picker) -> list[str]:
    listing = picker.query_one(OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def pick(pilot, field: str, text: str) -> list[str]:
    """Open a form's picker field, narrow it by ``text``, take the first choice; returns
    what the picker offered."""
    pilot.app.screen.query_one(f"#field-{field}", PickField).focus()
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, Picker)
    await pilot.press(*text)
    await settle(pilot)
    shown = offered(pilot.app.screen)
    await pilot.press("enter")
    await settle(pilot)
    return shown


def acme(crm):
    return customers.list_customers(crm, text="acme").customers[0]


async def test_a_ticket_opened_with_the_pickers_is_stored_with_them(team):
    customer = acme(team)
    person = contacts.list_contacts(team, customer.ref)[0]
    app = make_app(team)
    opened = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ticket_form(), opened.append)
        await settle(pilot)
        form = app.screen
        assert form.focused is form.query_one("#field-customer", PickField)
        await pick(pilot, "customer", "acme")
        shown = await pick(pilot, "contact", "")
        # Only the customer's own contacts are offered.
        assert sorted(text.split("  ")[0] for text in shown) == sorted(
            p.name for p in contacts.list_contacts(team, customer.ref)
        )
        await pick(pilot, "contact", person.name)
        assert form.query_one("#field-contact", PickField).value == person.ref
        form.query_one("#field-subject", Input).value = "Scanner does not start"
        form.query_one("#field-description", TextArea).text = "It beeps twice.\nThen nothing."
        form.query_one("#field-priority", Select).value = "high"
        form.query_one("#field-type", Select).value = "incident"
        form.query_one("#field-channel", Select).value = "phone"
        await pick(pilot, "assignee", "sam")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormDialog)
    stored = tickets.get_ticket(team, opened[0].ref)
    assert (stored.customer, stored.contact, stored.subject) == (
        customer.ref,
        person.ref,
        "Scanner does not start",
    )
    assert stored.description == "It beeps twice.\nThen nothing."
    assert (stored.priority, stored.type, stored.channel, stored.assignee) == (
        "high",
        "incident",
        "phone",
        "sam",
    )


async def test_the_contact_waits_for_a_customer_and_starts_over_with_another(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ticket_form())
        await settle(pilot)
        form = app.screen
        contact = form.query_one("#field-contact", PickField)
        order = form.query_one("#field-order", PickField)
        assert contact.disabled and order.disabled
        await pick(pilot, "customer", "acme")
        assert not contact.disabled
        await pick(pilot, "contact", "")
        assert contact.value.startswith("P-")
        await pick(pilot, "customer", "nordlicht")
        assert (contact.value, contact.label) == ("", "")  # Acme's contact is not Nordlicht's
        shown = await pick(pilot, "contact", "")
        nordlicht = customers.list_customers(team, text="nordlicht").customers[0]
        assert sorted(text.split("  ")[0] for text in shown) == sorted(
            p.name for p in contacts.list_contacts(team, nordlicht.ref)
        )


async def test_an_order_of_the_customer_can_be_named(team):
    customer = next(
        c
        for c in customers.list_customers(team, limit=100).customers
        if orders.list_orders(team, customer=c.ref)[0]
    )
    order = orders.list_orders(team, customer=customer.ref)[0][0]
    app = make_app(team)
    opened = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ticket_form(customer.ref), opened.append)
        await settle(pilot)
        form = app.screen
        shown = await pick(pilot, "order", order.ref)
        assert shown and shown[0].startswith(order.ref)
        form.query_one("#field-subject", Input).value = "Invoice is wrong"
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert tickets.get_ticket(team, opened[0].ref).order == order.ref


async def test_a_form_for_a_given_customer_names_it_and_asks_no_customer(team):
    customer = acme(team)
    app = make_app(team)
    opened = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ticket_form(customer.ref), opened.append)
        await settle(pilot)
        form = app.screen
        assert isinstance(form, TicketForm)
        assert not form.query("#field-customer")
        assert f"New ticket for {customer.name} ({customer.ref})" in str(
            form.query_one(".title", Label).render()
        )
        assert form.focused is form.query_one("#field-contact", PickField)
        await pilot.press("tab", *"Login fails")
        await pilot.press("ctrl+s")
        await settle(pilot)
    stored = tickets.get_ticket(team, opened[0].ref)
    assert (stored.customer, stored.subject, stored.priority, stored.type) == (
        customer.ref,
        "Login fails",
        "normal",
        "question",
    )


async def test_a_ticket_without_a_subject_or_customer_is_refused_and_the_form_stays(team, counts):
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ticket_form())
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-description", TextArea).text = "Typed first"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "Customer is required" in str(form.query_one("#error-customer", Static).render())
        assert "Subject is required" in str(form.query_one("#error-subject", Static).render())
        assert form.values()["description"] == "Typed first"
    assert counts() == before


async def test_a_ticket_for_an_archived_customer_is_refused_beside_the_form(team, counts):
    customer = acme(team)
    customers.archive_customer(team, customer.ref)
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ticket_form(customer.ref))
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-subject", Input).value = "Too late"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "is archived" in str(form.query_one("#form-error", Static).render())
        assert form.values()["subject"] == "Too late"
    assert counts() == before
