"""The pipeline board: a stage's figures cover all its deals, not only the cards shown."""

from __future__ import annotations

from crm_tui.logic.core import users
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.sales import board, deals
from crm_tui.logic.sales.schemas import DealCreate


def add(crm, customer, amount, currency="EUR", **more):
    return deals.add_deal(
        crm, DealCreate(customer=customer, title=f"Deal {amount}", amount=amount, currency=currency, **more)
    )


def column(found, stage):
    return next(c for c in found.columns if c.stage.name == stage)


def test_a_stage_total_sums_every_deal_when_the_board_loads_fewer(crm):
    acme = customers.add_customer(crm, CustomerCreate(name="Acme")).ref
    amounts = [f"{n}.25" for n in range(1, 8)]  # seven deals in Lead
    for amount in amounts:
        add(crm, acme, amount)
    add(crm, acme, "500", currency="USD")
    moved = add(crm, acme, "999")
    deals.move_deal(crm, moved.ref, "Qualified")
    archived = add(crm, acme, "10000")
    deals.archive_deal(crm, archived.ref)

    lead = column(board.board(crm, cards=3), "Lead")

    assert len(lead.cards) == 3
    assert lead.count == 8
    expected = sum(int(a.replace(".", "")) for a in amounts)
    assert [(t.currency, t.amount_minor) for t in lead.totals] == [("EUR", expected), ("USD", 50000)]
    assert [c.ref for c in lead.cards] == ["D-8", "D-7", "D-6"]  # the newest changes first


def test_one_owners_board_counts_only_their_deals(crm, as_user):
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    acme = customers.add_customer(crm, CustomerCreate(name="Acme")).ref
    add(crm, acme, "100")
    add(as_user("bob"), acme, "250")
    add(as_user("bob"), acme, "50")

    mine = column(board.board(as_user("bob"), owner="me"), "Lead")
    everyone = column(board.board(crm), "Lead")

    assert (mine.count, [t.amount_minor for t in mine.totals]) == (2, [30000])
    assert (everyone.count, [t.amount_minor for t in everyone.totals]) == (3, [40000])
    assert column(board.board(crm), "Won").count == 0
