"""The board's stage figures: open, won and lost stages each count and sum their own deals,
and a stage says how many deals it holds whoever's board it is."""

from __future__ import annotations

from crm_tui.logic.core import users
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.core.vocabulary import Role
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.sales import board, deals
from crm_tui.logic.sales.schemas import DealCreate


def add(crm, customer, amount, currency="EUR"):
    return deals.add_deal(
        crm, DealCreate(customer=customer, title=f"Deal {amount}", amount=amount, currency=currency)
    )


def figures(found):
    """Each stage: its name, count, deals held, and totals per currency."""
    return [
        (c.stage.name, c.count, c.stage.deals, [(t.currency, t.amount_minor) for t in c.totals])
        for c in found.columns
    ]


def test_open_won_and_lost_stages_each_count_and_sum_their_deals(crm):
    acme = customers.add_customer(crm, CustomerCreate(name="Acme")).ref
    add(crm, acme, "1")
    deals.move_deal(crm, add(crm, acme, "20").ref, "Proposal")
    deals.win_deal(crm, add(crm, acme, "300").ref)
    deals.win_deal(crm, add(crm, acme, "4000", currency="USD").ref)
    deals.lose_deal(crm, add(crm, acme, "50000").ref, "Too dear")
    archived = add(crm, acme, "7")
    deals.win_deal(crm, archived.ref)
    deals.archive_deal(crm, archived.ref)

    assert figures(board.board(crm)) == [
        ("Lead", 1, 1, [("EUR", 100)]),
        ("Qualified", 0, 0, []),
        ("Proposal", 1, 1, [("EUR", 2000)]),
        ("Negotiation", 0, 0, []),
        ("Won", 2, 2, [("EUR", 30000), ("USD", 400000)]),
        ("Lost", 1, 1, [("EUR", 5000000)]),
    ]


def test_an_owners_board_counts_their_deals_and_says_how_many_the_stage_holds(crm, as_user):
    users.add_user(crm, UserCreate(username="bob", role=Role.sales))
    acme = customers.add_customer(crm, CustomerCreate(name="Acme")).ref
    add(crm, acme, "100")
    deals.win_deal(crm, add(crm, acme, "200").ref)
    bob = as_user("bob")
    add(bob, acme, "250")
    deals.win_deal(bob, add(bob, acme, "50").ref)

    found = figures(board.board(bob, owner="me"))

    assert found[0] == ("Lead", 1, 2, [("EUR", 25000)])
    assert found[4] == ("Won", 1, 2, [("EUR", 5000)])
