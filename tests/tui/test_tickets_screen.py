"""A ticket's screen: every step of its workflow, asserting what is stored and shown."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input, OptionList, Select, Static, TextArea

from crm_tui.app import make_app
from crm_tui.logic.core import users
from crm_tui.logic.service import replies, tickets
from crm_tui.screens.customers import CustomerDetailScreen
from crm_tui.screens.tickets import ON_CUSTOMER, TicketScreen
from crm_tui.screens.widgets.dialogs import Confirm
from crm_tui.screens.widgets.forms import FormDialog, Picker, PickField
from crm_tui.screens.widgets.keys_footer import KeysFooter
from tests.tui.snapshots import settle

pytestmark = pytest.mark.asyncio


def notes(app) -> list[str]:
    return [str(note.message) for note in app._notifications]


def head(screen) -> str:
    return str(screen.query_one("#ticket-head", Static).render())


def messages(screen) -> list[str]:
    return [str(s.render()) for s in screen.query(".message")]


def error_beside(form, field: str) -> str:
    return str(form.query_one(f"#error-{field}", Static).render())


def offered(picker) -> list[str]:
    listing = picker.query_one(OptionList)
    return [str(listing.get_option_at_index(i).prompt).split("  ")[0] for i in range(listing.option_count)]


def waiting(crm, status: str = "new"):
    return tickets.list_tickets(crm, status=status).tickets[0]


async def open_ticket(app, pilot, reference: str) -> TicketScreen:
    await settle(pilot)
    app.open_record(reference)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, TicketScreen)
    return screen


async def test_a_reply_of_several_lines_is_stored_and_shown_whole(team):
    ticket = waiting(team)
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(app, pilot, ticket.ref)
        await pilot.press("r")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.focused is form.query_one("#field-message", TextArea)
        await pilot.press(*"Hello,", "enter", *"we reset it.", "enter", "enter", *"Regards")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert any("Hello,\nwe reset it.\n\nRegards" in text for text in messages(screen))
        assert f"Replied on {ticket.ref}; it is open" in notes(app)
        assert ", open" in head(screen)
    detail = tickets.ticket_detail(team, ticket.ref)
    assert [m.body for m in detail.messages] == ["Hello,\nwe reset it.\n\nRegards"]
    assert detail.ticket.status == "open" and detail.ticket.first_response_at is not None


async def test_a_reply_typed_in_a_burst_and_saved_at_once_is_stored_whole(team):
    """ctrl+s is taken before the keys still on their way to the text box (a paste, or
    a fast typist); the save waits for them."""
    ticket = waiting(team)
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(app, pilot, ticket.ref)
        await pilot.press("r")
        await settle(pilot)
        for letter in "Thanksforwaiting":
            app.post_message(events.Key(letter.lower() if letter.islower() else letter, letter))
        app.post_message(events.Key("ctrl+s", None))
        await settle(pilot)
    assert [m.body for m in tickets.ticket_detail(team, ticket.ref).messages] == ["Thanksforwaiting"]


async def test_a_reply_can_leave_the_ticket_waiting_on_the_customer(team):
    ticket = waiting(team)
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(app, pilot, ticket.ref)
        await pilot.press("r")
        await settle(pilot)
        form = app.screen
        form.query_one("#field-message", TextArea).text = "Could you send a photo?"
        form.query_one("#field-waiting_on", Select).value = ON_CUSTOMER
        await pilot.press("ctrl+s")
        await settle(pilot)
    stored = tickets.get_ticket(team, ticket.ref)
    assert (stored.status, stored.pending_since is not None) == ("pending", True)


async def test_an_empty_reply_is_refused_and_nothing_is_stored(team, counts):
    ticket = waiting(team)
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(app, pilot, ticket.ref)
        await pilot.press("r")
        await settle(pilot)
        form = app.screen
        await pilot.press("enter", "enter", "ctrl+s")  # only blank lines
        await settle(pilot)
        assert app.screen is form
        assert error_beside(form, "message")
    assert counts() == before


async def test_an_internal_note_is_stored_as_internal_and_is_no_response(team):
    ticket = waiting(team)
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(app, pilot, ticket.ref)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press(*"Customer is", "enter", *"on the old firmware")
        await pilot.press("ctrl+s")
        await settle(pilot)
        internal = [str(s.render()) for s in screen.query(".message.internal")]
        assert any("Customer is\non the old firmware" in text for text in internal)
    detail = tickets.ticket_detail(team, ticket.ref)
    assert [(m.internal, m.body) for m in detail.messages] == [(True, "Customer is\non the old firmware")]
    assert detail.ticket.first_response_at is None and detail.ticket.status == "new"


async def test_assigning_with_the_picker_never_offers_a_deactivated_agent(team):
    ticket = next(t for t in tickets.list_tickets(team).tickets if t.assignee is None)
    users.set_active(team, "sam", False)
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(app, pilot, ticket.ref)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert form.focused is form.query_one("#field-assignee", PickField)
        await pilot.press("enter")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, Picker)
        assert offered(picker) == ["sue"]  # service agents only, and sam is deactivated
        await pilot.press(*"sam", "enter")
        await settle(pilot)
        assert app.screen is picker  # nothing to take: it stays open with the text
        assert picker.query_one(Input).value == "sam"
        await pilot.press(*["backspace"] * 3, *"sue", "enter")
        await settle(pilot)
        assert app.screen is form and form.query_one(PickField).value == "sue"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert "agent sue" in head(screen)
        assert f"{ticket.ref} is with sue" in notes(app)
    assert tickets.get_ticket(team, ticket.ref).assignee == "sue"


async def test_a_refused_agent_keeps_the_assign_dialog_open_with_the_reason(team, counts):
    ticket = next(t for t in tickets.list_tickets(team).tickets if t.assignee is None)
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(app, pilot, ticket.ref)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        await pilot.press("enter", *"sam", "enter")
        await settle(pilot)
        users.set_active(team, "sam", False)  # deactivated while the dialog is open
        before = counts()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one(PickField).value == "sam"
        assert "sam is deactivated" in error_beside(form, "assignee")
    assert counts() == before
    assert tickets.get_ticket(team, ticket.ref).assignee is None


async def test_clearing_the_agent_leaves_the_ticket_with_nobody(team):
    ticket = next(t for t in tickets.list_tickets(team).tickets if t.assignee == "sue")
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(app, pilot, ticket.ref)
        await pilot.press("a")
        await settle(pilot)
        assert app.screen.query_one(PickField).value == "sue"  # who has it now
        await pilot.press("delete", "ctrl+s")
        await settle(pilot)
        assert "agent (nobody)" in head(screen)
    assert tickets.get_ticket(team, ticket.ref).assignee is None


async def test_resolving_acts_at_once_with_the_resolution_and_offers_undo(team):
    ticket = waiting(team, "open")
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(app, pilot, ticket.ref)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press(*"Replaced the cable.", "enter", *"Works again.", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert f"Resolved {ticket.ref} · ctrl+z undo" in notes(app)
        assert "resolved" in head(screen) and "Resolution: Replaced the cable." in head(screen)
    stored = tickets.get_ticket(team, ticket.ref)
    assert (stored.status, stored.resolution) == ("resolved", "Replaced the cable.\nWorks again.")


async def test_a_resolution_over_someone_elses_change_is_refused_and_kept(team, as_user, counts):
    ticket = waiting(team, "open")
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(app, pilot, ticket.ref)
        await pilot.press("v")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        await pilot.press(*"Fixed")
        tickets.set_status(as_user("sue"), ticket.ref, "pending")  # a colleague, meanwhile
        before = counts()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.values()["resolution"] == "Fixed"
        assert "sue" in str(form.query_one("#form-error", Static).render())
    assert counts() == before
    assert tickets.get_ticket(team, ticket.ref).status == "pending"


async def test_a_resolved_ticket_is_closed_at_once_and_can_be_reopened(team):
    ticket = waiting(team, "resolved")
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(app, pilot, ticket.ref)
        await pilot.press("c")
        await settle(pilot)
        assert f"Closed {ticket.ref} · ctrl+z undo" in notes(app)
        assert ", closed" in head(screen)
        assert tickets.get_ticket(team, ticket.ref).status == "closed"
        await pilot.press("e")  # alice is an admin: a closed ticket can be reopened
        await settle(pilot)
        assert f"Reopened {ticket.ref} · ctrl+z undo" in notes(app)
        assert ", open" in head(screen) and "Resolution:" not in head(screen)
    stored = tickets.get_ticket(team, ticket.ref)
    assert (stored.status, stored.resolution, stored.closed_at) == ("open", None, None)


STEPS = {"Open", "Pending", "Resolve", "Close", "Reopen", "Rate"}


def steps_offered(screen: TicketScreen) -> set[str]:
    """The workflow steps the ticket's footer offers."""
    return {key.description for key in screen.query_one(KeysFooter).keys if key.enabled} & STEPS


async def test_a_ticket_offers_only_the_steps_its_status_allows(team, counts):
    ticket = waiting(team, "open")
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(app, pilot, ticket.ref)
        assert steps_offered(screen) == {"Pending", "Resolve"}
        for key in ("c", "s", "e"):  # close, rate and reopen are not offered: nothing happens
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen
        assert counts() == before and ", open" in head(screen)
        tickets.resolve(team, ticket.ref, "Sent a new password")
        screen.records_changed()
        await settle(pilot)
        assert steps_offered(screen) == {"Close", "Reopen", "Rate"}


async def test_pending_stops_the_clock_and_open_starts_it(team):
    ticket = waiting(team, "open")
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(app, pilot, ticket.ref)
        await pilot.press("p")
        await settle(pilot)
        assert "SLA: paused" in head(screen) and ", pending" in head(screen)
        assert f"{ticket.ref} is pending: the clock stops · ctrl+z undo" in notes(app)
        assert tickets.get_ticket(team, ticket.ref).status == "pending"
        await pilot.press("o")
        await settle(pilot)
        assert ", open" in head(screen)
    assert tickets.get_ticket(team, ticket.ref).status == "open"


async def test_a_resolved_ticket_is_rated_with_a_score_and_the_customers_words(team):
    ticket = tickets.resolve(team, waiting(team, "open").ref, "Replaced the part")
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(app, pilot, ticket.ref)
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        await pilot.press("ctrl+s")  # no score given
        await settle(pilot)
        assert app.screen is form and "is required" in error_beside(form, "score")
        await pilot.press(*"6", "ctrl+s")
        await settle(pilot)
        assert app.screen is form and "1 to 5, not '6'" in error_beside(form, "score")
        form.query_one("#field-score", Input).value = "4"
        form.query_one("#field-comment", TextArea).text = "Quick, but\ntwo calls needed"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert "Rated 4/5: Quick, but" in head(screen)
        assert f"{ticket.ref} rated 4/5" in notes(app)
    stored = tickets.get_ticket(team, ticket.ref)
    assert (stored.satisfaction, stored.satisfaction_comment) == (4, "Quick, but\ntwo calls needed")


async def test_a_rating_is_revised_from_the_score_given(team):
    ticket = waiting(team, "resolved")
    assert ticket.satisfaction is not None
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(app, pilot, ticket.ref)
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        assert form.query_one("#field-score", Input).value == str(ticket.satisfaction)
        form.query_one("#field-score", Input).value = "1"
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert tickets.get_ticket(team, ticket.ref).satisfaction == 1


async def test_a_merge_asks_first_and_moves_the_conversation(team):
    duplicate, kept = tickets.list_tickets(team, status="new").tickets[:2]
    replies.reply(team, duplicate.ref, "First answer on the duplicate")
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(app, pilot, duplicate.ref)
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, Picker)
        await pilot.press(*duplicate.ref)
        await settle(pilot)
        assert duplicate.ref not in " ".join(str(c.detail) for c in picker.choices)  # never itself
        await pilot.press(*["backspace"] * len(duplicate.ref), *kept.ref, "enter")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("escape")  # no: nothing merged
        await settle(pilot)
        assert app.screen is screen
        assert tickets.get_ticket(team, duplicate.ref).merged_into is None
        await pilot.press("m")
        await settle(pilot)
        await pilot.press(*kept.ref, "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert f"Merged {duplicate.ref} into {kept.ref}" in notes(app)
        assert kept.ref in head(screen) and kept.subject in head(screen)  # the work goes on there
        assert any("First answer on the duplicate" in text for text in messages(screen))
    gone = tickets.get_ticket(team, duplicate.ref)
    assert (gone.status, gone.merged_into) == ("closed", kept.ref)
    assert "First answer on the duplicate" in [m.body for m in tickets.ticket_detail(team, kept.ref).messages]


async def test_the_customer_of_a_ticket_is_one_key_away(team):
    ticket = waiting(team)
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(app, pilot, ticket.ref)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen)
        assert ticket.customer_name in str(app.screen.query_one("#record", Static).render())


async def test_a_change_from_elsewhere_is_shown_when_records_change(team, as_user):
    ticket = waiting(team)
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(app, pilot, ticket.ref)
        replies.note(as_user("sue"), ticket.ref, "Called them back")
        screen.records_changed()
        await settle(pilot)
        assert any("Called them back" in text for text in messages(screen))
