"""A stage change reads the moved deal's own history, not every deal's.

``mark_advanced`` marks the deal's earlier first entries as advanced. Its UPDATE names
the deal and ``first_entry``; SQLite, left to choose, entered the first-entry index and
walked the first entries of every deal (0.1 s a move at 750,000 deals). Each statement
a move sends is run for real and SQLite's EXPLAIN QUERY PLAN is asked about it, as in
test_query_plans.py.
"""

from __future__ import annotations

import pytest

from crm_tui.logic.admin import demo
from crm_tui.logic.sales import deals
from tests.unit.test_query_plans import plans

pytestmark = pytest.mark.sqlite_only


def stage_change_plans(crm, call) -> list[tuple[str, list[str]]]:
    """Run ``call`` and return each statement it sent on ``deal_stage_changes`` but an
    INSERT, with SQLite's plan for it."""
    return plans(
        crm,
        call,
        lambda statement, _: (
            "deal_stage_changes" in statement and not statement.lstrip().upper().startswith("INSERT")
        ),
    )


def test_moving_a_deal_marks_its_advanced_entries_through_the_deals_own_index(crm):
    demo.load_demo(crm)
    lead = deals.list_deals(crm, stage="Lead").deals[0]
    sent = stage_change_plans(crm, lambda: deals.move_deal(crm, lead.ref, "Proposal"))
    updates = [(statement, plan) for statement, plan in sent if statement.lstrip().startswith("UPDATE")]
    assert len(updates) == 1  # mark_advanced's
    (statement, plan) = updates[0]
    reads = [line for line in plan if "deal_stage_changes" in line]
    assert reads == ["SEARCH deal_stage_changes USING INDEX ix_stage_changes_deal (deal_id=?)"], statement
    for statement, plan in sent:
        assert not any("ix_stage_changes_first_entry" in line for line in plan), (statement, plan)
