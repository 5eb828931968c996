"""The stage conversion facts on ``deal_stage_changes`` (``first_entry``, ``advanced``):
kept right by logic as deals move, and the same when recomputed from the history."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select, update

from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.sales import deals, pipelines
from crm_tui.logic.sales.schemas import DealCreate
from crm_tui.storage import sales_facts
from crm_tui.storage.models import DealStageChange, Stage


@pytest.fixture
def acme(crm):
    return customers.add_customer(crm, CustomerCreate(name="Acme")).ref


def open_deal(crm, customer, **more):
    return deals.add_deal(crm, DealCreate(customer=customer, title="Website", amount="1000", **more))


def facts(crm, deal=None) -> list[tuple]:
    """(deal id, stage, first_entry, advanced) of the history, in order."""
    with crm.database.unit_of_work() as session:
        query = (
            select(DealStageChange.deal_id, Stage.name, DealStageChange.first_entry, DealStageChange.advanced)
            .join(Stage, Stage.id == DealStageChange.to_stage_id)
            .order_by(DealStageChange.deal_id, DealStageChange.at, DealStageChange.id)
        )
        if deal is not None:
            query = query.where(DealStageChange.deal_id == deal.id)
        return [
            (deal_id, name, bool(first), bool(advanced))
            for deal_id, name, first, advanced in session.execute(query)
        ]


def flags(crm, deal) -> list[tuple[str, bool, bool]]:
    return [(name, first, advanced) for _, name, first, advanced in facts(crm, deal)]


def recomputed(crm) -> list[tuple]:
    """The facts after wiping them and recomputing them from the history."""
    with crm.database.unit_of_work() as session:
        session.execute(update(DealStageChange).values(first_entry=True, advanced=True))
        sales_facts.recompute(session)
    return facts(crm)


def test_moves_steps_back_losses_reopening_and_winning_keep_the_flags(crm, acme):
    deal = open_deal(crm, acme)
    deals.move_deal(crm, deal.ref, "Qualified")
    deals.move_deal(crm, deal.ref, "Proposal")
    deals.move_deal(crm, deal.ref, "Qualified")  # a step back
    deals.lose_deal(crm, deal.ref, "budget cut")
    deals.reopen_deal(crm, deal.ref)  # back into Qualified
    deals.move_deal(crm, deal.ref, "Negotiation")
    deals.win_deal(crm, deal.ref)
    assert flags(crm, deal) == [
        ("Lead", True, True),
        ("Qualified", True, True),
        ("Proposal", True, True),  # Negotiation came later
        ("Qualified", False, False),
        ("Lost", True, False),
        ("Qualified", False, False),
        ("Negotiation", True, True),  # Won is higher and not lost
        ("Won", True, False),
    ]


def test_a_lost_stage_is_no_advance_and_reopening_lower_advances_later(crm, acme):
    deal = open_deal(crm, acme)
    deals.move_deal(crm, deal.ref, "Proposal")
    deals.lose_deal(crm, deal.ref, "too dear")
    assert flags(crm, deal) == [("Lead", True, True), ("Proposal", True, False), ("Lost", True, False)]
    deals.reopen_deal(crm, deal.ref, "Lead")
    deals.move_deal(crm, deal.ref, "Qualified")
    assert flags(crm, deal)[-2:] == [("Lead", False, False), ("Qualified", True, False)]
    assert flags(crm, deal)[1] == ("Proposal", True, False)  # Qualified is lower
    deals.move_deal(crm, deal.ref, "Negotiation")
    assert [row[2] for row in flags(crm, deal)] == [True, True, False, False, True, False]


def test_deals_moved_by_removing_their_stage_keep_the_flags(crm, acme):
    forward = open_deal(crm, acme)
    deals.move_deal(crm, forward.ref, "Qualified")
    back = open_deal(crm, acme)
    deals.move_deal(crm, back.ref, "Qualified")
    deals.move_deal(crm, back.ref, "Proposal")
    deals.move_deal(crm, back.ref, "Qualified")
    archived = open_deal(crm, acme)
    deals.move_deal(crm, archived.ref, "Qualified")
    deals.archive_deal(crm, archived.ref)
    pipelines.remove_stage(crm, None, "Qualified", move_to="Proposal")
    assert flags(crm, forward) == [
        ("Lead", True, True),
        ("Qualified", True, True),  # Proposal was higher when the deal moved
        ("Proposal", True, False),
    ]
    assert flags(crm, back) == [
        ("Lead", True, True),
        ("Qualified", True, True),
        ("Proposal", True, False),
        ("Qualified", False, False),
        ("Proposal", False, False),  # entered before
    ]
    assert flags(crm, archived) == flags(crm, forward)
    # Removing a stage whose deals go down marks no advance.
    pipelines.remove_stage(crm, None, "Proposal", move_to="Lead")
    assert flags(crm, forward)[-1] == ("Lead", False, False)
    assert flags(crm, forward)[1:3] == [("Qualified", True, True), ("Proposal", True, False)]


def test_recomputing_from_the_history_gives_the_flags_kept_live(crm, acme):
    """What migration 0003 and the benchmark generator do equals what the moves did, as
    long as stages kept their order (recomputing uses today's positions)."""
    rng = random.Random(7)
    pipelines.add_stage(crm, None, "Demo", probability=40)  # a fifth open stage, before Won
    opens = ["Lead", "Qualified", "Demo", "Proposal", "Negotiation"]
    made = [open_deal(crm, acme, stage=rng.choice(opens[:2])) for _ in range(25)]
    for _ in range(120):
        deal = deals.deal_detail(crm, rng.choice(made).ref).deal
        if deal.status != "open":
            if rng.random() < 0.5:
                deals.reopen_deal(crm, deal.ref, rng.choice([None, *opens]))
            continue
        chance = rng.random()
        if chance < 0.1:
            deals.win_deal(crm, deal.ref)
        elif chance < 0.2:
            deals.lose_deal(crm, deal.ref, "gone")
        else:
            target = rng.choice([name for name in opens if name != deal.stage])
            deals.move_deal(crm, deal.ref, target)
    live = facts(crm)
    assert len(live) > 120
    assert any(advanced for *_, advanced in live) and not all(first for _, _, first, _ in live)
    assert recomputed(crm) == live


def test_the_flags_are_false_by_default_for_rows_written_without_logic(crm, acme):
    deal = open_deal(crm, acme)
    with crm.database.unit_of_work() as session:
        stage_id = session.execute(select(Stage.id).where(Stage.name == "Proposal")).scalar_one()
        session.add(DealStageChange(deal_id=deal.id, to_stage_id=stage_id))
    assert flags(crm, deal) == [("Lead", True, False), ("Proposal", False, False)]
    assert [row[1:] for row in recomputed(crm)] == [("Lead", True, True), ("Proposal", True, False)]
