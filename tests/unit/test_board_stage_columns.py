"""Some of the board's columns read alone, as after a move: each is the column the whole
board reads, figures over all the stage's deals and newest cards alike."""

from __future__ import annotations

import pytest

from crm_tui.logic.admin import demo
from crm_tui.logic.core.errors import NotFound
from crm_tui.logic.sales import board, deals


def columns_of(found, *stages):
    return [next(c for c in found.columns if c.stage.name == stage) for stage in stages]


def test_the_columns_of_two_stages_are_those_of_the_whole_board(crm):
    demo.load_demo(crm)
    deals.move_deal(crm, "D-13", "Qualified")
    read = board.stage_columns(crm, ["Lead", "Qualified"], cards=3)
    assert read == columns_of(board.board(crm, cards=3), "Lead", "Qualified")
    lead, qualified = read
    assert (lead.count, qualified.count) == (3, 10)
    assert qualified.cards[0].ref == "D-13"  # the newest change first
    assert [(t.currency, t.amount_minor) for t in qualified.totals] == [("EUR", 50_200_000)]


def test_one_owners_columns_count_only_their_deals_and_the_stage_everyones(crm, as_user):
    demo.load_demo(crm)
    sven = as_user("sven")
    read = board.stage_columns(sven, ["Won", "Lead"], owner="me")
    assert read == columns_of(board.board(sven, owner="me"), "Won", "Lead")
    won, lead = read
    assert (lead.count, lead.stage.deals, [c.ref for c in lead.cards]) == (2, 4, ["D-12", "D-2"])
    assert won.count == 3


def test_a_stage_the_pipeline_does_not_have_is_refused(crm):
    demo.load_demo(crm)
    with pytest.raises(NotFound):
        board.stage_columns(crm, ["Lead", "Nowhere"])
