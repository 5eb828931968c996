"""How the pipeline's dialogs look, at 80x24 and 120x40, as SVG snapshots: the new deal
form opened on the board, the edit of a deal, and a deal with its history.

The data is the demo, made at a frozen time in UTC in each test's own folder, as in
test_tui_snapshots.py. Update after a deliberate change with
``pytest tests/tui/test_snapshots_pipeline.py --snapshot-update``, and look at the result.
"""

from __future__ import annotations

import pytest

from crm_tui.app import make_app
from crm_tui.screens.pipeline import PipelineScreen, StageColumn
from tests.tui.snapshots import settle, visit

pytestmark = [
    pytest.mark.sqlite_only,  # the pictures show a SQLite file's path
    pytest.mark.usefixtures("steady_cursor"),
]


def on_deal(reference: str, *keys: str):
    """On the board, put the cursor on ``reference`` and press ``keys``."""

    async def run(pilot) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, PipelineScreen)
        column = next(c for c in screen.query(StageColumn) if reference in c.refs)
        column.select(column.refs.index(reference))
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return visit("f4", then=run)


SCREENS = {
    "new_deal_form": visit("f4", "right", "n"),
    "edit_deal_form": on_deal("D-29", "e"),
    "deal_detail": on_deal("D-29", "enter"),
    "won_deal_detail": on_deal("D-29", "w", "enter"),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, frozen, fresh_crm, screen, size):
    crm = fresh_crm()
    assert snap_compare(make_app(crm), terminal_size=size, run_before=SCREENS[screen])
