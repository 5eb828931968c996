"""The board's stage heads show the figures of every deal in the stage."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Static

from crm_tui.app import make_app
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange.batch import create_many
from crm_tui.logic.sales.board import CARDS_PER_STAGE

pytestmark = pytest.mark.asyncio


async def test_a_stage_head_totals_more_deals_than_the_board_shows(crm):
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    many = CARDS_PER_STAGE + 5
    lines = [json.dumps({"customer": "C-1", "title": f"Deal {n}", "amount": "100"}) for n in range(many)]
    assert all(outcome.error is None for outcome in create_many(crm, "deal", lines))
    app = make_app(crm)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f4")
        for _ in range(6):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        lead = next(c for c in app.screen.query("StageColumn") if c.stage == "Lead")
        head = str(lead.query_one(".column-head", Static).render())
        assert len(lead.refs) == CARDS_PER_STAGE
        assert head == f"Lead 10%\n{many} · 4,500.00 EUR"  # 45 deals of 100.00, not the 40 shown
