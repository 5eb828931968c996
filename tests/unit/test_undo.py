"""Undo: each change it takes back is put back exactly as the audit trail recorded it,
in a new audited change; anything since, another user's change, or a change it does
not take back is refused with nothing stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from crm_tui.logic.admin import undo
from crm_tui.logic.core import users
from crm_tui.logic.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import customers, tasks, timeline
from crm_tui.logic.customers.schemas import CustomerCreate, CustomerUpdate, TaskCreate
from crm_tui.logic.reports import audit_trail
from crm_tui.logic.sales import deals, orders, pipelines
from crm_tui.logic.sales.schemas import DealCreate, DealUpdate
from crm_tui.logic.service import replies, tickets
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.storage.models import Customer, Deal, Task, Ticket

# Columns an undo changes besides the ones it puts back: the version it bumps, and the
# time of the change (the undo is a change of its own).
BOOKKEEPING = {"version", "updated_at"}


@pytest.fixture
def team(crm, clock):
    """alice (admin), bob (sales) and sue (service); customer C-1 with deal D-1 in
    Qualified, ticket T-1 and task K-1."""
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    users.add_user(crm, UserCreate(username="sue", role="service"))
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    deals.add_deal(crm, DealCreate(customer="C-1", title="Website", amount="1000"))
    deals.move_deal(crm, "D-1", "Qualified")
    tickets.add_ticket(crm, TicketCreate(customer="C-1", subject="Broken invoice"))
    tasks.add_task(crm, TaskCreate(title="Call back", customer="C-1"))
    return crm


def stored(crm, model: Any, record_id: int) -> dict[str, Any]:
    """Every column of a row as the database holds it."""
    with crm.database.unit_of_work(write=False) as session:
        row = session.get(model, record_id)
        assert row is not None
        return {name: getattr(row, name) for name in type(row).model_fields}


def without(values: dict[str, Any], names: set[str]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if name not in names}


def last_entry(crm, record: str):
    return audit_trail.list_entries(crm, record=record, limit=1)[0]


def history(crm, deal: str) -> list[tuple[str | None, str, str | None]]:
    return [(h.from_stage, h.to_stage, h.actor) for h in deals.deal_detail(crm, deal).history]


# Each change undo takes: how to get the record ready, the change, and the record.
def _lose_then(crm):
    deals.lose_deal(crm, "D-1", "Went elsewhere")


def _pending(crm, clock):
    replies.reply(crm, "T-1", "Which invoice?", pending=True)
    clock.advance(hours=3)


def _resolved(crm, clock):
    clock.advance(hours=1)
    tickets.resolve(crm, "T-1", "Credit note sent")
    clock.advance(hours=1)


CHANGES: dict[str, tuple[Callable | None, Callable, Any, int]] = {
    "deal move": (None, lambda crm: deals.move_deal(crm, "D-1", "Proposal"), Deal, 1),
    "deal win": (None, lambda crm: deals.win_deal(crm, "D-1"), Deal, 1),
    "deal lose": (None, lambda crm: deals.lose_deal(crm, "D-1", "Too dear"), Deal, 1),
    "deal reopen": (lambda crm, clock: _lose_then(crm), lambda crm: deals.reopen_deal(crm, "D-1"), Deal, 1),
    "deal archive": (None, lambda crm: deals.archive_deal(crm, "D-1"), Deal, 1),
    "deal restore": (
        lambda crm, clock: deals.archive_deal(crm, "D-1"), lambda crm: deals.restore_deal(crm, "D-1"), Deal, 1,
    ),
    "customer archive": (None, lambda crm: customers.archive_customer(crm, "C-1"), Customer, 1),
    "customer restore": (
        lambda crm, clock: customers.archive_customer(crm, "C-1"),
        lambda crm: customers.restore_customer(crm, "C-1"), Customer, 1,
    ),
    "ticket status open": (None, lambda crm: tickets.set_status(crm, "T-1", "open"), Ticket, 1),
    "ticket status pending": (None, lambda crm: tickets.set_status(crm, "T-1", "pending"), Ticket, 1),
    "ticket status back from pending": (_pending, lambda crm: tickets.set_status(crm, "T-1", "open"), Ticket, 1),
    "ticket resolve from pending": (_pending, lambda crm: tickets.resolve(crm, "T-1", "Fixed"), Ticket, 1),
    "ticket close": (_resolved, lambda crm: tickets.close(crm, "T-1"), Ticket, 1),
    "ticket reopen": (_resolved, lambda crm: tickets.reopen(crm, "T-1"), Ticket, 1),
    "task done": (None, lambda crm: tasks.set_done(crm, "K-1"), Task, 1),
    "task reopen": (
        lambda crm, clock: tasks.set_done(crm, "K-1"), lambda crm: tasks.set_done(crm, "K-1", False), Task, 1,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CHANGES))
def test_each_change_is_put_back_exactly_as_it_was(team, clock, name):
    prepare, change, model, record_id = CHANGES[name]
    if prepare:
        prepare(team, clock)
    before = stored(team, model, record_id)
    change(team)
    changed = stored(team, model, record_id)
    assert without(changed, BOOKKEEPING) != without(before, BOOKKEEPING)
    entry = audit_trail.list_entries(team, limit=1)[0]

    result = undo.undo_last(team)

    after = stored(team, model, record_id)
    assert without(after, BOOKKEEPING) == without(before, BOOKKEEPING)
    assert after["version"] > changed["version"] and result.version == after["version"]
    assert (result.entry, result.action, result.ref) == (entry.id, entry.action, entry.record)
    # Every field the change's entry names was put back, each one from what the change made it.
    assert result.changes == {field: [new, old] for field, (old, new) in entry.changes.items()}


def test_an_undo_is_audited_with_what_it_put_back_and_the_entry_it_undid(team):
    deals.win_deal(team, "D-1")
    won = last_entry(team, "D-1")
    result = undo.undo_entry(team, won.id)
    entry = last_entry(team, "D-1")
    assert (entry.actor, entry.action) == ("alice", "undo")
    assert entry.changes == {
        "stage": ["Won", "Qualified"],
        "status": ["won", "open"],
        "closed_at": [won.changes["closed_at"][1], None],
        "undone_entry": [None, won.id],
    }
    assert (result.kind, result.ref, result.undone, result.summary) == (
        "deal", "D-1", "the win of D-1", "D-1 back to Qualified, open",
    )  # fmt: skip


def test_an_undone_win_reopens_the_deal_in_its_old_stage_and_keeps_the_history_true(team):
    deals.move_deal(team, "D-1", "Proposal")
    deals.win_deal(team, "D-1")
    undo.undo_last(team, "D-1")
    deal = deals.get_deal(team, "D-1")
    assert (deal.stage, deal.status, deal.closed_at, deal.probability) == ("Proposal", "open", None, 50)
    assert history(team, "D-1")[-2:] == [("Proposal", "Won", "alice"), ("Won", "Proposal", "alice")]
    # The timeline told of the win, and tells of its undoing.
    bodies = [entry.body for entry in timeline.timeline(team, "C-1")]
    assert bodies[0] == "Undid the win: D-1 back to Proposal, open"
    assert bodies[1].startswith("Won D-1 Website")


def test_an_undone_move_is_a_move_back_in_the_stage_history(team):
    deals.move_deal(team, "D-1", "Proposal")
    result = undo.undo_last(team)
    assert result.summary == "D-1 back to Qualified, open"
    assert history(team, "D-1") == [
        (None, "Lead", "alice"),
        ("Lead", "Qualified", "alice"),
        ("Qualified", "Proposal", "alice"),
        ("Proposal", "Qualified", "alice"),
    ]


def test_an_undone_reopening_puts_the_deal_back_where_it_was_closed(team):
    deals.lose_deal(team, "D-1", "Went elsewhere")
    lost = deals.get_deal(team, "D-1")
    deals.reopen_deal(team, "D-1")
    result = undo.undo_last(team)
    deal = deals.get_deal(team, "D-1")
    assert (deal.stage, deal.status, deal.closed_at, deal.lost_reason) == (
        "Lost", "lost", lost.closed_at, "Went elsewhere",
    )  # fmt: skip
    assert result.summary == "D-1 back to Lost, lost"
    assert history(team, "D-1")[-1] == ("Qualified", "Lost", "alice")


def test_a_change_of_the_record_since_refuses_the_undo_naming_who(team, as_user, counts):
    deals.win_deal(team, "D-1")
    deals.update_deal(as_user("bob"), "D-1", DealUpdate(title="Website relaunch"))
    before = counts()
    with pytest.raises(
        Conflict, match=r"^D-1 was changed by bob at .* UTC \(update, #\d+\) after the win of D-1"
    ):
        undo.undo_last(team)
    assert counts() == before
    assert deals.get_deal(team, "D-1").status == "won"


def test_an_undo_is_refused_twice(team, counts):
    tasks.set_done(team, "K-1")
    undo.undo_last(team)
    before = counts()
    with pytest.raises(Conflict, match=r"^the completion of K-1 \(#\d+\) was already undone by alice at "):
        undo.undo_last(team)
    assert counts() == before
    assert tasks.get_task(team, "K-1").done is False


def test_a_record_changed_without_a_trace_is_not_undone(team, counts):
    deals.lose_deal(team, "D-1", "Too dear")
    with team.database.connection(write=True) as conn:
        conn.execute(text("UPDATE deals SET lost_reason = 'Budget' WHERE id = 1"))
    before = counts()
    with pytest.raises(Conflict, match=r"^D-1's lost_reason is no longer what the loss of D-1"):
        undo.undo_last(team)
    assert counts() == before


def test_an_undo_based_on_an_old_version_is_refused(team, counts):
    lost = deals.lose_deal(team, "D-1", "Too dear")
    before = counts()
    with pytest.raises(Conflict, match=r"^D-1 was changed by alice .*your edit is based on version 1"):
        undo.undo_last(team, "D-1", expected_version=1)
    assert counts() == before
    assert undo.undo_last(team, "D-1", expected_version=lost.version).ref == "D-1"


def test_another_users_change_is_theirs_to_undo_or_an_admins(team, as_user, counts):
    bob = as_user("bob")
    deals.win_deal(bob, "D-1")
    won = last_entry(team, "D-1")
    users.add_user(team, UserCreate(username="max", role="manager"))
    before = counts()
    with pytest.raises(Forbidden, match=r"^the win of D-1 \(#\d+\) was bob's; only an admin may undo"):
        undo.undo_entry(as_user("max"), won.id)
    assert counts() == before
    assert undo.undo_entry(team, won.id).summary == "D-1 back to Qualified, open"  # alice is an admin


def test_an_undo_needs_the_permission_the_change_needed(team, as_user):
    deals.win_deal(team, "D-1")
    with pytest.raises(Forbidden, match=r"^sue \(service\) may not do this"):
        undo.undo_entry(as_user("sue"), last_entry(team, "D-1").id)


@pytest.mark.parametrize(
    ("change", "record", "action"),
    [
        (lambda crm: None, "C-1", "create"),
        (lambda crm: customers.update_customer(crm, "C-1", CustomerUpdate(city="Bonn")), "C-1", "update"),
        (lambda crm: customers.tag_customer(crm, "C-1", ["vip"]), "C-1", "tag"),
        (lambda crm: tickets.assign(crm, "T-1", "sue"), "T-1", "assign"),
        (lambda crm: replies.reply(crm, "T-1", "On it"), "T-1", "reply"),
    ],
)
def test_a_change_undo_does_not_take_is_refused(team, counts, change, record, action):
    change(team)
    entry = last_entry(team, record)
    assert entry.action == action
    before = counts()
    with pytest.raises(
        Invalid, match=rf"^{record}'s {action} \(#{entry.id}\) cannot be undone: undo takes back"
    ):
        undo.undo_entry(team, entry.id)
    assert counts() == before


def test_a_won_deal_that_became_an_order_stays_won(team, counts):
    deals.win_deal(team, "D-1", create_order=True)
    before = counts()
    with pytest.raises(Invalid, match=r"^D-1 became order O-1; cancel the order before undoing the win"):
        undo.undo_last(team, "D-1")
    assert counts() == before
    orders.cancel_order(team, "O-1", "Won by mistake")
    assert undo.undo_last(team, "D-1").summary == "D-1 back to Qualified, open"


def test_a_deal_cannot_go_back_to_a_removed_stage(team, counts):
    deals.move_deal(team, "D-1", "Proposal")
    pipelines.remove_stage(team, None, "Qualified")
    before = counts()
    with pytest.raises(Invalid, match=r"^stage Qualified has been removed; D-1 cannot go back to it"):
        undo.undo_last(team, "D-1")
    assert counts() == before


def test_undo_last_takes_the_named_records_change_when_another_came_since(team):
    deals.win_deal(team, "D-1")
    tasks.set_done(team, "K-1")
    assert undo.last_undoable(team) == last_entry(team, "K-1").id
    result = undo.undo_last(team, "D-1")
    assert (result.ref, result.action) == ("D-1", "win")
    assert tasks.get_task(team, "K-1").done is True


def test_undo_last_takes_only_the_acting_users_changes(team, as_user):
    tasks.set_done(team, "K-1")
    bob = as_user("bob")
    assert undo.last_undoable(bob) is None
    with pytest.raises(
        NotFound, match=r"^you have made no change that undo takes back; undo takes back deals"
    ):
        undo.undo_last(bob)
    with pytest.raises(NotFound, match=r"^you have made no change to K-1 that undo takes back"):
        undo.undo_last(bob, "K-1")


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("12", "'12' is not a customer, deal, ticket or task reference"),
        ("O-1", "'O-1' is not a customer, deal, ticket or task reference"),
        ("D-x", "'D-x' is not a deal reference"),
        ("D-0", "'D-0' is not a deal reference"),
    ],
)
def test_a_bad_record_reference_is_refused(team, reference, message):
    with pytest.raises(Invalid, match=f"^{message}"):
        undo.undo_last(team, reference)


@pytest.mark.parametrize("entry_id", [0, 999, 2**31, 10**18])
def test_an_unknown_entry_is_not_found(team, entry_id):
    with pytest.raises(NotFound, match=f"^no audit entry #{entry_id}$"):
        undo.undo_entry(team, entry_id)


def test_a_record_far_beyond_any_id_has_no_change_to_undo(team):
    assert undo.last_undoable(team, "D-2147483648") is None


def test_a_win_records_the_old_values_it_replaced_so_that_undo_puts_them_back(team):
    """An open deal stored with a closed date and a lost reason (as an older crm or a
    restored dump may hold it): the win's entry says what it replaced, not what an open
    deal usually holds."""
    with team.database.unit_of_work() as session:
        deal = session.get_one(Deal, 1)
        deal.closed_at, deal.lost_reason = datetime(2026, 1, 5, 10, 0, tzinfo=UTC), "Old"
    before = stored(team, Deal, 1)
    deals.win_deal(team, "D-1")
    won = last_entry(team, "D-1")
    assert won.changes["closed_at"][0] == "2026-01-05T10:00:00+00:00"
    assert won.changes["lost_reason"] == ["Old", None]
    undo.undo_last(team)
    assert without(stored(team, Deal, 1), BOOKKEEPING) == without(before, BOOKKEEPING)
