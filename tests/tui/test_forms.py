"""Forms and pickers: what every dialog that asks for fields promises."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input, Label, OptionList, Static

from crm_tui.app import make_app
from crm_tui.logic.core import users
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.core.vocabulary import Role
from crm_tui.logic.customers import tasks
from crm_tui.logic.customers.schemas import TaskCreate
from crm_tui.logic.values.dates import parse_relative_day
from crm_tui.screens.widgets.choices import active_users, products_on_sale
from crm_tui.screens.widgets.dialogs import Confirm
from crm_tui.screens.widgets.forms import Field, FormDialog, Picker, PickField
from crm_tui.screens.widgets.keys_footer import KeysFooter
from tests.tui.snapshots import settle

pytestmark = pytest.mark.asyncio


def add_task(crm, values):
    due = parse_relative_day(values["due"]) if values["due"] else None
    data = validated(
        TaskCreate, {"title": values["title"], "assignee": values["assignee"] or None, "due": due}
    )
    return tasks.add_task(crm, data)


def task_form() -> FormDialog:
    return FormDialog(
        "New task",
        [
            Field("title", "What is to be done", required=True),
            Field("due", "Due", hint="today, tomorrow, +3d, friday or 2026-12-24"),
            Field("assignee", "Assignee", kind="pick", source=active_users()),
        ],
        add_task,
    )


def error_text(screen, name: str) -> str:
    return str(screen.query_one(f"#error-{name}", Static).render())


async def test_a_form_focuses_its_first_field_and_shows_its_save_key(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(task_form())
        await settle(pilot)
        form = app.screen
        assert form.focused is form.query_one("#field-title", Input)
        assert "ctrl+s save" in str(form.query_one(".title", Label).render())
        footer_keys = [key for key, b in form.active_bindings.items() if b.binding.show]
        assert "ctrl+s" in footer_keys and form.query(KeysFooter)


async def test_a_picked_assignee_and_a_due_day_are_stored(team):
    app = make_app(team)
    saved = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(task_form(), saved.append)
        await settle(pilot)
        await pilot.press(*"Call back")
        await pilot.press("tab", *"tomorrow", "tab")
        await pilot.press("s")  # typing on the picker field opens the picker with the letter
        await settle(pilot)
        assert isinstance(app.screen, Picker)
        await pilot.press(*"ue")
        await settle(pilot)
        shown = [str(app.screen.query_one(OptionList).get_option_at_index(i).prompt) for i in range(1)]
        assert shown[0].startswith("sue")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(PickField).value == "sue"
        await pilot.press("ctrl+s")
        await settle(pilot)
    task = saved[0]
    stored = tasks.get_task(team, task.ref)
    assert (stored.title, stored.assignee) == ("Call back", "sue")
    assert stored.due == parse_relative_day("tomorrow")


async def test_a_picker_never_offers_a_deactivated_user_and_keeps_the_text(team):
    users.set_active(team, "sam", False)
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(task_form())
        await settle(pilot)
        app.screen.query_one(PickField).focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press(*"sam")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, Picker)  # still open
        assert picker.query_one(Input).value == "sam"
        assert "Nothing matches 'sam'" in str(picker.query_one("#pick-error", Static).render())


async def test_a_refused_save_keeps_the_form_open_with_the_error_beside_the_field(team, counts):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(task_form())
        await settle(pilot)
        await pilot.press("ctrl+s")  # the title is required
        await settle(pilot)
        assert "is required" in error_text(app.screen, "title")
        await pilot.press(*"Call back", "tab", *"someday")
        before = counts()
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.values()["title"] == "Call back" and form.values()["due"] == "someday"
        assert str(form.query_one("#form-error", Static).render()) != ""
    assert counts() == before


async def test_escape_on_a_changed_form_asks_before_discarding(team):
    app = make_app(team)
    results = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(task_form(), results.append)
        await settle(pilot)
        await pilot.press(*"Half typed", "escape")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("escape")  # no: back to the form, the text kept
        await settle(pilot)
        assert app.screen.query_one("#field-title", Input).value == "Half typed"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert not isinstance(app.screen, FormDialog | Confirm)
    assert results == [None]


async def test_letters_typed_fast_on_a_pick_field_open_one_picker_holding_them_all(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(task_form())
        await settle(pilot)
        field = app.screen.query_one(PickField)
        field.focus()
        await pilot.pause()
        for letter in "sue":  # three keys before the picker is on screen
            field.post_message(events.Key(letter, letter))
        await settle(pilot)
        assert isinstance(app.screen, Picker)
        assert app.screen.query_one(Input).value == "sue"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)  # one picker, now closed


@pytest.mark.parametrize(
    ("source", "said"),
    [
        (active_users(Role.service), "No service users yet: an admin adds them on F8 (Team), n."),
        (products_on_sale, "No products yet: a manager adds them on F6 (Orders), p for products, then a."),
    ],
)
async def test_a_picker_with_nothing_to_offer_says_where_such_records_are_made(crm, source, said):
    app = make_app(crm)  # a new database: alice alone, no products
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        picker = Picker("Choose", source)
        app.push_screen(picker)
        await settle(pilot)
        assert str(picker.query_one("#pick-error", Static).render()) == said
        await pilot.press(*"zz")
        await settle(pilot)
        assert str(picker.query_one("#pick-error", Static).render()) == "Nothing matches 'zz'."
