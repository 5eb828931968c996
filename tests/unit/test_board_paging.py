"""Paging a stage of the board: the cards after the last one loaded, in the board's order,
read through an index from the card on (no offset, no sort of the stage's deals)."""

from __future__ import annotations

import pytest

from crm_tui.logic.core import users
from crm_tui.logic.core.errors import NotFound
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.sales import board, deals
from crm_tui.logic.sales.schemas import DealCreate, DealUpdate
from tests.unit.test_query_plans import full_scans, plans, sorts


def add(crm, customer, title, **more):
    return deals.add_deal(crm, DealCreate(customer=customer, title=title, amount="100", **more)).ref


@pytest.fixture
def acme(crm):
    return customers.add_customer(crm, CustomerCreate(name="Acme")).ref


def lead(found):
    return next(c for c in found.columns if c.stage.name == "Lead")


def walk(crm, first, **given):
    """Every card of Lead after the board's ``first`` cards, page by page."""
    cards, page = [], board.stage_cards(crm, "Lead", after=first[-1], cards=2, **given)
    cards += page.deals
    while page.next_after:
        page = board.stage_cards(crm, "Lead", after=page.deals[-1], cards=2, **given)
        cards += page.deals
    return [card.ref for card in cards]


def test_the_pages_follow_the_first_cards_in_the_boards_order_without_gaps_or_repeats(crm, acme):
    refs = [add(crm, acme, f"Deal {n}") for n in range(7)]
    deals.move_deal(crm, refs[0], "Qualified")  # another stage's deal is not Lead's
    first = lead(board.board(crm, cards=2)).cards
    assert [c.ref for c in first] == ["D-7", "D-6"]

    rest = walk(crm, first)

    assert rest == ["D-5", "D-4", "D-3", "D-2"]
    listed = deals.list_deals(crm, stage="Lead").deals
    assert [c.ref for c in first] + rest == [d.ref for d in listed]  # newest change first


def test_the_last_page_says_no_more_follow(crm, acme):
    for n in range(4):
        add(crm, acme, f"Deal {n}")
    first = lead(board.board(crm, cards=2)).cards
    page = board.stage_cards(crm, "Lead", after=first[-1], cards=2)
    assert ([c.ref for c in page.deals], page.next_after) == (["D-2", "D-1"], None)
    page = board.stage_cards(crm, "Lead", after=first[-1], cards=1)
    assert ([c.ref for c in page.deals], page.next_after) == (["D-2"], "D-2")


def test_a_card_changed_since_it_was_read_does_not_shift_the_page(crm, acme):
    for n in range(5):
        add(crm, acme, f"Deal {n}")
    first = lead(board.board(crm, cards=2)).cards  # D-5, D-4
    deals.update_deal(crm, "D-4", DealUpdate(title="Changed"))  # now the newest change
    page = board.stage_cards(crm, "Lead", after=first[-1], cards=10)
    assert [c.ref for c in page.deals] == ["D-3", "D-2", "D-1"]


def test_archived_deals_and_other_owners_deals_are_not_paged(crm, acme, as_user):
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    mine = [add(crm, acme, f"Mine {n}") for n in range(4)]
    add(as_user("bob"), acme, "Bob's")
    deals.archive_deal(crm, mine[1])
    first = lead(board.board(crm, owner="alice", cards=1)).cards
    assert [c.ref for c in first] == [mine[3]]
    assert walk(crm, first, owner="alice") == [mine[2], mine[0]]


def test_an_unknown_stage_is_refused(crm, acme):
    add(crm, acme, "Deal")
    with pytest.raises(NotFound, match="no stage 'Nowhere'"):
        board.stage_cards(crm, "Nowhere")


def test_the_first_page_is_the_boards_cards(crm, acme):
    for n in range(3):
        add(crm, acme, f"Deal {n}")
    page = board.stage_cards(crm, "Lead", cards=2)
    assert [c.ref for c in page.deals] == [c.ref for c in lead(board.board(crm, cards=2)).cards]
    assert page.next_after == "D-2"


@pytest.mark.sqlite_only
@pytest.mark.parametrize("owner", [None, "alice"])
def test_a_page_enters_an_index_at_the_card_and_sorts_nothing(crm, acme, owner):
    for n in range(30):
        add(crm, acme, f"Deal {n}")
    first = lead(board.board(crm, cards=10)).cards
    sent = plans(crm, lambda: board.stage_cards(crm, "Lead", owner=owner, after=first[-1], cards=10))
    assert full_scans(sent) == [] and sorts(sent) == []
    (plan,) = [plan for statement, plan in sent if "FROM deals" in statement and "LIMIT" in statement]
    assert any("USING INDEX" in line and "updated_at<?" in line for line in plan), plan
