"""How each screen looks, at 80x24 and 120x40, as SVG snapshots (pytest-textual-snapshot).

The data is the demo, made at a frozen time in UTC in each test's own folder (shown at
one fixed path), with a cursor that does not blink, so the pictures only change when the
screens do. Update after a deliberate change with
``pytest tests/tui/test_tui_snapshots.py --snapshot-update``, and look at the result.
"""

from __future__ import annotations

import pytest

from crm_tui.app import make_app
from crm_tui.screens.customers import CustomerForm
from crm_tui.screens.widgets.row_table import RowTable
from tests.tui.snapshots import settle, visit

pytestmark = [
    pytest.mark.sqlite_only,  # the pictures show a SQLite file's path
    pytest.mark.usefixtures("steady_cursor"),
]


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
    form.query_one("#field-name").value = "Typo Inc"
    form.query_one("#field-email").value = "typo@@example"
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
    "help": visit("f3", "f1"),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, frozen, fresh_crm, screen, size):
    crm = fresh_crm()
    assert snap_compare(make_app(crm), terminal_size=size, run_before=SCREENS[screen])


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_welcome(snap_compare, frozen, fresh_crm, size):
    crm = fresh_crm(with_demo=False)
    assert snap_compare(make_app(crm), terminal_size=size, run_before=visit())


def test_the_demo_is_the_same_every_time(frozen, fresh_crm):
    """The snapshots rely on it."""
    first = [c.name for c in demo_customers(fresh_crm())]
    assert first == [c.name for c in demo_customers(fresh_crm())]


def demo_customers(crm):
    from crm_tui.logic.customers import customers

    return customers.list_customers(crm, limit=100).customers
