"""How the ticket dialogs look, at 80x24 and 120x40, as SVG snapshots.

The data is the demo, made at a frozen time in UTC in each test's own folder, as in
test_tui_snapshots.py. Update after a deliberate change with
``pytest tests/tui/test_snapshots_tickets.py --snapshot-update``, and look at the result.
"""

from __future__ import annotations

import pytest

from crm_tui.app import make_app
from tests.tui.snapshots import settle, visit

pytestmark = [
    pytest.mark.sqlite_only,  # the pictures show a SQLite file's path
    pytest.mark.usefixtures("steady_cursor"),
]


def on_ticket(reference: str, *keys: str, then=None):
    """Open a ticket from the queue, then press ``keys``, then run ``then``."""

    async def run(pilot) -> None:
        pilot.app.open_record(reference)
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if then is not None:
            await then(pilot)

    return visit("f5", then=run)


async def type_a_reply(pilot) -> None:
    await pilot.press(*"Hello Ms Weber,", "enter", "enter", *"we sent a new cable today.", "enter")
    await pilot.press(*"Regards, Sue")


async def save_an_empty_form(pilot) -> None:
    await pilot.press("ctrl+s")


async def pick_a_customer(pilot) -> None:
    await pilot.press(*"acme")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("tab", "tab")  # past the contact, now offered, to the subject


async def choose_the_merge_target(pilot) -> None:
    await pilot.press(*"T-3", "enter")


DIALOGS = {
    "new_ticket": visit("f5", "n"),
    "new_ticket_customer_picked": visit("f5", "n", then=pick_a_customer),
    "new_ticket_refused": visit("f5", "n", then=save_an_empty_form),
    "reply": on_ticket("T-2", "r", then=type_a_reply),
    "note": on_ticket("T-2", "i"),
    "assign_picker": on_ticket("T-2", "a", "enter"),
    "resolve": on_ticket("T-2", "v"),
    "rate_refused": on_ticket("T-1", "s", "backspace", then=save_an_empty_form),
    "merge_picker": on_ticket("T-2", "m"),
    "merge_confirm": on_ticket("T-2", "m", then=choose_the_merge_target),
    "queue_empty": visit("f5", "4"),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("dialog", list(DIALOGS))
def test_dialog(snap_compare, frozen, fresh_crm, dialog, size):
    crm = fresh_crm()
    assert snap_compare(make_app(crm), terminal_size=size, run_before=DIALOGS[dialog])
