"""How Team & settings and its dialogs look, at 80x24 and 120x40, as SVG snapshots.

The data is the demo, made at a frozen time in UTC (see test_tui_snapshots.py). The
backup folder shown is a fixed path that holds no backups. Update after a deliberate
change with ``pytest tests/tui/test_snapshots_admin.py --snapshot-update``, and look at
the result.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_tui.app import make_app
from crm_tui.screens.admin import AdminScreen
from tests.tui.snapshots import SHOWN_PATH, settle

pytestmark = [
    pytest.mark.sqlite_only,  # the pictures show a SQLite file's path
    pytest.mark.usefixtures("steady_cursor"),
]

NO_BACKUPS = Path(SHOWN_PATH).parent / "backups"  # never made: the tab shows none


def admin(*keys: str):
    """A run_before that opens Team & settings, then presses ``keys``."""

    async def run(pilot) -> None:
        await settle(pilot)
        pilot.app.push_screen(AdminScreen(backup_folder=NO_BACKUPS))
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


SCREENS = {
    "users": admin(),
    "pipelines": admin("2"),
    "sla": admin("3"),
    "backups": admin("4"),
    "add_user": admin("n"),
    "edit_user": admin("down", "e"),
    "deactivate_user": admin("down", "d"),
    "add_stage": admin("2", "s"),
    "change_stage": admin("2", "c"),
    "remove_stage_pick": admin("2", "x"),
    "remove_stage_confirm": admin("2", "x", "enter"),
    "add_pipeline": admin("2", "p"),
    "sla_targets": admin("3", "t"),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_admin(snap_compare, frozen, fresh_crm, screen, size):
    assert not NO_BACKUPS.exists()
    crm = fresh_crm()
    assert snap_compare(make_app(crm), terminal_size=size, run_before=SCREENS[screen])
