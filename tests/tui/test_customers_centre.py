"""A customer at the centre: its screen shows everything about it, and each section's
keys change what the section shows. Each flow asserts what is stored and what is shown."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Label, Select, Static, TextArea

from crm_tui.app import make_app
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.customers import contacts, customers, tasks, timeline
from crm_tui.logic.customers.schemas import ActivityCreate, ContactCreate, CustomerCreate, TaskCreate
from crm_tui.logic.reports import audit_trail
from crm_tui.logic.sales import deals, orders
from crm_tui.logic.sales.schemas import DealCreate
from crm_tui.logic.service import tickets
from crm_tui.logic.values.dates import parse_relative_day
from crm_tui.screens.customers import CustomerDetailScreen, CustomerForm, EntryDialog
from crm_tui.screens.pipeline import DealDetail
from crm_tui.screens.record_table import SectionTable
from crm_tui.screens.widgets.dialogs import Confirm
from crm_tui.screens.widgets.forms import FormDialog, Picker, PickField
from tests.tui.customer_steps import notices, settle

pytestmark = pytest.mark.asyncio


@pytest.fixture
def acme(team) -> str:
    return customers.list_customers(team, text="acme").customers[0].ref


async def open_customer(app, pilot, reference: str) -> CustomerDetailScreen:
    await settle(pilot)
    app.open_record(reference)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, CustomerDetailScreen)
    return screen


def keys(screen: CustomerDetailScreen, section: str) -> list[str]:
    return list(screen.query_one(f"#{section}", SectionTable).keys)


def record(screen: CustomerDetailScreen) -> str:
    return str(screen.query_one("#record", Static).render())


def error_text(form, name: str) -> str:
    return str(form.query_one(f"#error-{name}", Static).render())


async def focus_section(pilot, screen: CustomerDetailScreen, section: str) -> SectionTable:
    table = screen.query_one(f"#{section}", SectionTable)
    table.focus()
    await settle(pilot)
    return table


async def test_the_customer_shows_everything_about_it(team, acme):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_customer(app, pilot, acme)
        detail = customers.customer_detail(team, acme)
        assert "Acme Logistics GmbH" in record(screen) and acme in record(screen)
        assert keys(screen, "contacts") == [p.ref for p in detail.contacts]
        assert keys(screen, "deals") == [
            d.ref for d in deals.list_deals(team, customer=acme, archived="all").deals
        ]
        assert keys(screen, "tickets") == [
            t.ref for t in tickets.list_tickets(team, customer=acme, status="all").tickets
        ]
        assert keys(screen, "orders") == [o.ref for o in orders.list_orders(team, customer=acme)[0]]
        assert keys(screen, "tasks") == [t.ref for t in detail.open_tasks]
        assert keys(screen, "timeline") == [a.ref for a in detail.timeline]
        title = str(screen.query_one("#title-deals", Label).render())
        assert f"Deals ({len(keys(screen, 'deals'))})" in title
        assert screen.focused is screen.query_one("#contacts", SectionTable)
        assert "▶ Contacts" in str(screen.query_one("#title-contacts", Label).render())  # marked in text too


async def test_an_empty_section_says_what_is_empty(team):
    bare = customers.add_customer(team, validated(CustomerCreate, {"name": "Bare Bones Ltd"}))
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, bare.ref)
        hint = screen.query_one("#empty-contacts", Static)
        assert hint.display and str(hint.render()) == "No contacts: c adds one."
        assert not keys(screen, "deals") and screen.query_one("#empty-deals", Static).display


async def test_enter_on_a_deal_opens_it_and_back_shows_the_customer_again(team, acme):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_customer(app, pilot, acme)
        table = await focus_section(pilot, screen, "deals")
        chosen = table.current
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DealDetail) and app.screen.reference == chosen
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.focused is table


async def test_enter_on_a_timeline_entry_shows_it_whole(team, acme):
    long_text = "A long call. " * 30
    timeline.add_activity(team, validated(ActivityCreate, {"customer": acme, "body": long_text}))
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        await focus_section(pilot, screen, "timeline")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EntryDialog)
        assert app.screen.entry.body == long_text.strip()


async def test_add_a_contact_with_title_email_and_phones(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        await pilot.press("c")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog) and form.focused is form.query_one("#field-name", Input)
        await pilot.press(*"Lena Vogel", "tab", *"Buyer", "tab", *"lena@acme.example", "tab", *"030 1234567")
        await pilot.press("tab", *"0170 7654321", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        table = screen.query_one("#contacts", SectionTable)
        assert screen.focused is table  # the new contact is under the cursor
        new = table.current
        assert table.get_row(new)[1:4] == ["Lena Vogel", "Buyer", "lena@acme.example"]
    stored = contacts.get_contact(team, new)
    assert (stored.name, stored.title, stored.email, stored.phone, stored.mobile) == (
        "Lena Vogel",
        "Buyer",
        "lena@acme.example",
        "+49301234567",
        "+491707654321",
    )


async def test_a_refused_contact_keeps_the_form_open_with_the_error_beside_the_field(team, acme, counts):
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_customer(app, pilot, acme)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"Lena Vogel", "tab", "tab", *"lena@@acme", "ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert "invalid email" in error_text(form, "email")
        assert form.values()["name"] == "Lena Vogel"
    assert counts() == before


async def test_a_contact_with_an_email_taken_is_saved_only_when_asked(team, acme):
    taken = customers.customer_detail(team, acme).contacts[0]
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"Anna Second", "tab", "tab", *taken.email, "ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog) and form.query_one("#force").display
        assert "has the same email" in str(form.query_one("#form-error", Static).render())
        form.query_one("#force").press()
        await settle(pilot)
        assert app.screen is screen
    assert sorted(
        p.name for p in customers.customer_detail(team, acme).contacts if p.email == taken.email
    ) == [
        "Anna Schmidt",
        "Anna Second",
    ]


async def test_enter_on_a_contact_edits_it(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        table = await focus_section(pilot, screen, "contacts")
        chosen = table.current
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert (
            isinstance(form, FormDialog) and form.values()["name"] == contacts.get_contact(team, chosen).name
        )
        form.query_one("#field-title", Input).value = "Chief Executive"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen and table.current == chosen
        assert table.get_row(chosen)[2] == "Chief Executive"
    assert contacts.get_contact(team, chosen).title == "Chief Executive"


async def test_the_edit_contact_action_edits_the_contact_under_the_cursor(team, acme):
    """As the palette runs it: the same form as Enter on the row."""
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        table = await focus_section(pilot, screen, "contacts")
        table.move_cursor(row=1)
        await screen.run_action("edit_contact")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.values()["name"] == contacts.get_contact(team, table.current).name


async def test_remove_a_contact_asks_first(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        table = await focus_section(pilot, screen, "contacts")
        chosen = table.current
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("escape")  # no: it stays
        await settle(pilot)
        assert chosen in keys(screen, "contacts")
        await pilot.press("delete", "y")
        await settle(pilot)
        assert chosen not in keys(screen, "contacts")
    assert chosen not in [p.ref for p in customers.customer_detail(team, acme).contacts]


async def test_a_contact_a_deal_names_is_not_removed_and_the_desk_says_why(team, acme):
    anna = customers.customer_detail(team, acme).contacts[0]
    deal = deals.add_deal(
        team, validated(DealCreate, {"customer": acme, "title": "Fleet", "contact": anna.ref})
    )
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        await focus_section(pilot, screen, "contacts")
        await pilot.press("delete", "y")
        await settle(pilot)
        assert f"{anna.ref} is the contact of {deal.ref}; it stays" in notices(app)
        assert anna.ref in keys(screen, "contacts")
    contacts.get_contact(team, anna.ref)  # still there


async def test_log_a_call_with_a_subject(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog) and form.focused is form.query_one("#field-body", TextArea)
        await pilot.press(*"Wants the quote by Friday.")
        form.query_one("#field-kind", Select).value = "call"
        form.query_one("#field-subject", Input).value = "Quote"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        table = screen.query_one("#timeline", SectionTable)
        assert table.get_row_at(0)[1:] == ["call", "alice", "Quote — Wants the quote by Friday."]
    newest = timeline.timeline(team, acme, limit=1)[0]
    assert (newest.kind.value, newest.subject, newest.body) == ("call", "Quote", "Wants the quote by Friday.")


async def test_an_entry_without_text_or_with_a_bad_time_is_refused_in_the_form(team, acme, counts):
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_customer(app, pilot, acme)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and "needs some text" in str(form.query_one("#form-error", Static).render())
        await pilot.press(*"Met at the fair")
        form.query_one("#field-when", Input).value = "last tuesday"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and "'last tuesday' is no time" in error_text(form, "when")
    assert counts() == before


async def test_plan_a_task_with_a_due_day_and_an_assignee_then_mark_it_done(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*"Send the quote", "tab", *"tomorrow", "tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, Picker)
        await pilot.press(*"sven", "enter")
        await settle(pilot)
        assert app.screen.query_one(PickField).value == "sven"
        await pilot.press("ctrl+s")
        await settle(pilot)
        table = screen.query_one("#tasks", SectionTable)
        assert app.screen is screen and screen.focused is table
        task = table.current
        stored = tasks.get_task(team, task)
        assert (stored.title, stored.assignee, stored.customer) == ("Send the quote", "sven", acme)
        assert stored.due == parse_relative_day("tomorrow")
        assert table.get_row(task)[2:] == ["Send the quote", "sven"]
        await pilot.press("x")
        await settle(pilot)
        assert f"Done {task} · ctrl+z undo" in notices(app)
        assert task not in table.keys
    assert tasks.get_task(team, task).done


async def test_a_due_day_that_cannot_be_read_is_refused_beside_it(team, acme, counts):
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_customer(app, pilot, acme)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*"Send the quote", "tab", *"someday", "ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog) and "invalid date 'someday'" in error_text(form, "due")
    assert counts() == before


async def test_x_marks_a_task_done_only_from_the_tasks_section(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        before = keys(screen, "tasks")
        assert before  # the demo plans one
        await pilot.press("x")  # the contacts have the cursor: nothing happens
        await settle(pilot)
        assert keys(screen, "tasks") == before
        assert "x" not in screen.active_bindings
        await focus_section(pilot, screen, "tasks")
        assert "x" in screen.active_bindings
    assert not tasks.get_task(team, before[0]).done


async def test_tags_added_and_removed_show_at_once(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        before = customers.get_customer(team, acme).tags
        await pilot.press("g")
        await settle(pilot)
        form = app.screen
        assert form.query_one("#field-tags", Input).value == ", ".join(before)
        form.query_one("#field-tags", Input).value = f"{before[0]}, Priority"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert f"Tags: {', '.join(sorted([before[0], 'priority']))}" in record(screen)
    assert customers.get_customer(team, acme).tags == sorted([before[0], "priority"])


async def test_tags_changed_in_the_customer_form_show_on_the_customer(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CustomerForm)
        form.query_one("#field-tags", Input).value = "vip"
        form.query_one("#field-city", Input).value = "Potsdam"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert "Tags: vip" in record(screen) and "Potsdam" in record(screen)
    stored = customers.get_customer(team, acme)
    assert (stored.tags, stored.city) == (["vip"], "Potsdam")


async def test_only_tags_changed_saves_no_other_field(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_customer(app, pilot, acme)
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#field-tags", Input).value = "vip"
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert customers.get_customer(team, acme).tags == ["vip"]
    changes = [entry.action for entry in audit_trail.list_entries(team, record=acme, limit=3)]
    assert changes[:2] == ["untag", "tag"] and "update" not in changes  # no empty update of the record


async def test_archive_and_restore_act_at_once_and_offer_the_undo(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        await pilot.press("a")
        await settle(pilot)
        assert f"Archived {acme} · ctrl+z undo" in notices(app)
        assert "archived" in record(screen)
        assert customers.get_customer(team, acme).archived_at is not None
        await pilot.press("a")
        await settle(pilot)
        assert f"Restored {acme} · ctrl+z undo" in notices(app)
        assert "archived" not in record(screen)
    assert customers.get_customer(team, acme).archived_at is None


async def test_records_changed_elsewhere_show_when_told(team, acme, as_user):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        contacts.add_contact(as_user("sara"), ContactCreate(customer=acme, name="Zoe Zimmer"))
        screen.records_changed()
        await settle(pilot)
        assert any(
            screen.query_one("#contacts", SectionTable).get_row(k)[1] == "Zoe Zimmer"
            for k in keys(screen, "contacts")
        )


async def test_d_adds_a_deal_for_the_customer(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        await pilot.press("d")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-title", Input).value = "Second site"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        table = screen.query_one("#deals", SectionTable)
        assert screen.focused is table and table.get_row(table.current)[1] == "Second site"
    assert deals.get_deal(team, table.current).customer == acme


async def test_k_opens_a_ticket_for_the_customer(team, acme):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        await pilot.press("k")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-subject", Input).value = "Invoice missing"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        table = screen.query_one("#tickets", SectionTable)
        assert screen.focused is table and table.get_row(table.current)[3] == "Invoice missing"
    assert tickets.get_ticket(team, table.current).customer == acme


async def test_ctrl_z_after_done_brings_the_task_back_under_the_cursor(team, acme):
    tasks.add_task(team, TaskCreate(title="Second call", customer=acme))
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        table = await focus_section(pilot, screen, "tasks")
        done = table.current
        await pilot.press("x")
        await settle(pilot)
        assert done not in table.keys
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert table.current == done and screen.focused is table
    assert not tasks.get_task(team, done).done


async def test_plus_shows_older_timeline_entries(team, acme):
    for number in range(25):
        timeline.add_activity(team, ActivityCreate(customer=acme, body=f"Entry {number}"))
    total = len(timeline.timeline(team, acme, limit=500))
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, acme)
        assert len(keys(screen, "timeline")) == 20
        assert "Timeline (20+) · + shows older" in str(screen.query_one("#title-timeline", Label).render())
        await pilot.press("plus")
        await settle(pilot)
        assert keys(screen, "timeline") == [a.ref for a in timeline.timeline(team, acme, limit=500)]
        assert len(keys(screen, "timeline")) == total
