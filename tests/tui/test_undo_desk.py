"""ctrl+z anywhere in the desk: the acting user's newest change is put back, through logic."""

from __future__ import annotations

import pytest

from crm_tui.app import make_app
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.sales import deals
from crm_tui.logic.sales.schemas import DealUpdate
from tests.tui.snapshots import settle

pytestmark = pytest.mark.asyncio


def open_deal(crm):
    return deals.list_deals(crm, status="open", limit=1).deals[0]


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_ctrl_z_undoes_my_win_and_the_deal_is_open_in_its_stage_again(team):
    deal = open_deal(team)
    won, _ = deals.win_deal(team, deal.ref)
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert any(f"Undid the win of {deal.ref}" in text for text in notices(app))
    after = deals.get_deal(team, deal.ref)
    assert (after.status, after.stage) == ("open", deal.stage)
    assert won.status == "won"


async def test_undo_is_refused_after_someone_else_changed_the_record(team, as_user):
    deal = open_deal(team)
    deals.win_deal(team, deal.ref)
    deals.update_deal(as_user("mia"), deal.ref, validated(DealUpdate, {"title": "Renamed by Mia"}))
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+z")
        await settle(pilot)
        said = " ".join(notices(app))
        assert "mia" in said
    after = deals.get_deal(team, deal.ref)
    assert (after.status, after.title) == ("won", "Renamed by Mia")
