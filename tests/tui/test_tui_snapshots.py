"""How each screen looks, at 80x24 and 120x40, as SVG snapshots (pytest-textual-snapshot).

The data is the demo, made at a frozen time in UTC in a fixed folder, so the pictures
only change when the screens do. Update after a deliberate change with
``pytest tests/tui/test_tui_snapshots.py --snapshot-update``, and look at the result.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from crm_tui.app import make_app
from crm_tui.config import load_settings
from crm_tui.logic.admin import demo
from crm_tui.logic.core.context import open_crm
from crm_tui.screens.customers import CustomerForm
from crm_tui.screens.widgets.row_table import RowTable

pytestmark = pytest.mark.sqlite_only  # the pictures show a SQLite file's path
FROZEN = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # a Monday morning
FOLDER = Path("/tmp/crm-snapshots")


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    with time_machine.travel(FROZEN, tick=False):
        yield
    monkeypatch.undo()
    time.tzset()


def fresh_crm(with_demo: bool = True):
    """A new database at the same path each time (the path shows in the pictures); the
    test closes it before the next one deletes it, since SQLite must not have a file
    removed under open connections."""
    shutil.rmtree(FOLDER, ignore_errors=True)
    FOLDER.mkdir(parents=True)
    crm = open_crm(load_settings(db=str(FOLDER / "crm.sqlite3")))
    if with_demo:
        demo.load_demo(crm)
    return crm


async def settle(pilot, rounds: int = 5) -> None:
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def visit(*keys: str, then=None):
    """A run_before that presses ``keys`` and waits for the data to arrive."""

    async def run(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if then is not None:
            await then(pilot)
            await settle(pilot)

    return run


async def open_first_customer(pilot) -> None:
    table = pilot.app.screen.query_one(RowTable)
    table.focus()
    await pilot.press("enter")


async def open_ticket(pilot) -> None:
    pilot.app.open_record("T-2")


async def open_form_with_an_error(pilot) -> None:
    pilot.app.push_screen(CustomerForm())
    await settle(pilot)
    form = pilot.app.screen
    form.query_one("#name").value = "Typo Inc"
    form.query_one("#email").value = "typo@@example"
    await pilot.press("ctrl+s")


SCREENS = {
    "desk": visit(),
    "customers": visit("f3"),
    "customer_detail": visit("f3", then=open_first_customer),
    "customer_form_error": visit(then=open_form_with_an_error),
    "pipeline": visit("f4"),
    "tickets": visit("f5"),
    "ticket_detail": visit("f5", then=open_ticket),
    "orders": visit("f6"),
    "help": visit("f3", "tab", "f1"),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, frozen, screen, size):
    crm = fresh_crm()
    try:
        assert snap_compare(make_app(crm), terminal_size=size, run_before=SCREENS[screen])
    finally:
        crm.close()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_welcome(snap_compare, frozen, size):
    crm = fresh_crm(with_demo=False)
    try:
        assert snap_compare(make_app(crm), terminal_size=size, run_before=visit())
    finally:
        crm.close()


def test_the_demo_is_the_same_every_time(frozen):
    """The snapshots rely on it."""
    first = [c.name for c in demo_customers()]
    assert first == [c.name for c in demo_customers()]


def demo_customers():
    from crm_tui.logic.customers import customers

    crm = fresh_crm()
    try:
        return customers.list_customers(crm, limit=100).customers
    finally:
        crm.close()
