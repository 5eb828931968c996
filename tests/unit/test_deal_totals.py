"""The stage totals the database keeps for the board: after any mix of deal changes, each
stage, owner and currency holds exactly the count and sum of its active deals."""

from __future__ import annotations

import random
from collections import Counter
from contextlib import suppress

import pytest
from sqlalchemy import text

from crm_tui.logic.core import users
from crm_tui.logic.core.errors import CrmError
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.core.vocabulary import Role
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.customers.search import reindex
from crm_tui.logic.sales import board, deals
from crm_tui.logic.sales.schemas import DealCreate, DealUpdate
from crm_tui.storage import deal_totals

OPEN_STAGES = ["Lead", "Qualified", "Proposal", "Negotiation"]


def kept(crm) -> dict[tuple[int, int, str], tuple[int, int]]:
    with crm.database.connection() as conn:
        rows = conn.execute(
            text(f"SELECT stage_id, owner_id, currency, deals, amount_minor FROM {deal_totals.TABLE}")
        )
        return {(s, o, c): (n, int(a)) for s, o, c, n, a in rows}


def summed(crm) -> dict[tuple[int, int, str], tuple[int, int]]:
    """The same figures added up here, deal by deal, from the deals' own rows."""
    count: Counter = Counter()
    amount: Counter = Counter()
    with crm.database.connection() as conn:
        rows = conn.execute(
            text("SELECT stage_id, owner_id, currency, amount_minor FROM deals WHERE archived_at IS NULL")
        )
        for stage_id, owner_id, currency, minor in rows:
            key = (stage_id, owner_id or 0, currency)
            count[key] += 1
            amount[key] += minor
    return {key: (count[key], amount[key]) for key in count}


def change_at_random(crm, rng: random.Random, refs: list[str], customer: str) -> None:
    """One change a user could make to a deal: any of them, refused ones included."""
    choice = rng.randrange(10)
    if choice < 2 or not refs:
        amount = str(rng.randrange(0, 100_000))
        currency = rng.choice(["EUR", "USD"])
        refs.append(
            deals.add_deal(
                crm, DealCreate(customer=customer, title="d", amount=amount, currency=currency)
            ).ref
        )
        return
    deal = rng.choice(refs)
    action = [
        lambda: deals.move_deal(crm, deal, rng.choice(OPEN_STAGES)),
        lambda: deals.win_deal(crm, deal),
        lambda: deals.lose_deal(crm, deal, "price"),
        lambda: deals.reopen_deal(crm, deal),
        lambda: deals.archive_deal(crm, deal),
        lambda: deals.restore_deal(crm, deal),
        lambda: deals.update_deal(crm, deal, DealUpdate(amount=str(rng.randrange(0, 5_000)))),
        lambda: deals.update_deal(crm, deal, DealUpdate(currency=rng.choice(["EUR", "USD"]))),
        lambda: deals.update_deal(crm, deal, DealUpdate(owner=rng.choice(["alice", "bob", None]))),
    ][choice - 1]
    with suppress(CrmError):  # refused (already won, archived, ...): the totals must not move either
        action()


@pytest.mark.parametrize("seed", [1, 2])
def test_after_any_mix_of_changes_the_totals_are_the_deals_sums(crm, seed):
    users.add_user(crm, UserCreate(username="bob", role=Role.sales))
    acme = customers.add_customer(crm, CustomerCreate(name="Acme")).ref
    rng = random.Random(seed)
    refs: list[str] = []
    for _ in range(120):
        change_at_random(crm, rng, refs, acme)

    assert kept(crm) == summed(crm)
    assert sum(n for n, _ in kept(crm).values()) > 0


def test_the_board_heads_read_the_totals_and_a_rebuild_mends_them(crm):
    acme = customers.add_customer(crm, CustomerCreate(name="Acme")).ref
    deals.add_deal(crm, DealCreate(customer=acme, title="a", amount="10"))
    deals.add_deal(crm, DealCreate(customer=acme, title="b", amount="5"))
    with crm.database.connection(write=True) as conn:
        # A database edited past the triggers: the totals say what they were told.
        conn.execute(text(f"UPDATE {deal_totals.TABLE} SET deals = 7"))
    assert board.board(crm).columns[0].count == 7

    assert reindex(crm)[1] == 2
    lead = board.board(crm).columns[0]
    assert (lead.count, [t.amount_minor for t in lead.totals]) == (2, [1500])
    assert kept(crm) == summed(crm)
