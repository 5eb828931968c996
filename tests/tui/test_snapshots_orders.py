"""How the orders screens and dialogs look, at 80x24 and 120x40, as SVG snapshots.

The data is the demo, made at a frozen time in UTC in each test's own folder, as in
test_tui_snapshots.py. Update after a deliberate change with
``pytest tests/tui/test_snapshots_orders.py --snapshot-update``, and look at the result.
"""

from __future__ import annotations

import pytest

from crm_tui.app import make_app
from crm_tui.logic.sales import deals, orders
from crm_tui.logic.sales.schemas import DealCreate
from tests.tui.snapshots import settle, visit

pytestmark = [
    pytest.mark.sqlite_only,  # the pictures show a SQLite file's path
    pytest.mark.usefixtures("steady_cursor"),
]


def the_draft(crm) -> str:
    """The demo's one draft order (with a licence line)."""
    return orders.list_orders(crm, status="draft")[0][0].ref


def win_a_deal(crm) -> None:
    deal = deals.add_deal(crm, DealCreate(customer="C-1", title="Warehouse scanners", amount="8400"))
    deals.win_deal(crm, deal.ref)


def on_the_draft(*keys: str, then=None):
    """Open the draft order, then press ``keys``, then run ``then``."""

    async def run(pilot) -> None:
        pilot.app.open_record(the_draft(pilot.app.crm))
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if then is not None:
            await then(pilot)

    return visit("f6", then=run)


async def type_a_bad_quantity(pilot) -> None:
    form = pilot.app.screen
    form.query_one("#field-description").value = "Setup on site"
    form.query_one("#field-unit_price").value = "250"
    form.query_one("#field-quantity").value = "0"
    await pilot.press("ctrl+s")


async def open_a_paid_order(pilot) -> None:
    crm = pilot.app.crm
    reference = orders.list_orders(crm, status="confirmed")[0][0].ref
    orders.advance(crm, reference, "fulfil")
    orders.advance(crm, reference, "pay")
    pilot.app.open_record(reference)


async def order_from_the_won_deal(pilot) -> None:
    win_a_deal(pilot.app.crm)
    await pilot.press("n")
    await settle(pilot)
    pilot.app.screen.query_one("#field-deal").focus()
    await pilot.press(*"scanners")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("ctrl+s")


async def new_order_without_a_customer(pilot) -> None:
    await pilot.press("n")
    await settle(pilot)
    await pilot.press("ctrl+s")


SCREENS = {
    "products": visit("f6", "p"),
    "product_form": visit("f6", "p", "a"),
    "product_edit": visit("f6", "p", "down", "e"),
    "new_order_form_error": visit("f6", then=new_order_without_a_customer),
    "order_from_won_deal": visit("f6", then=order_from_the_won_deal),
    "order_draft": on_the_draft(),
    "order_paid": visit("f6", then=open_a_paid_order),
    "line_form": on_the_draft("a"),
    "line_form_error": on_the_draft("a", then=type_a_bad_quantity),
    "line_edit": on_the_draft("e"),
    "line_remove": on_the_draft("d"),
    "order_cancel": on_the_draft("x"),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_orders_screen(snap_compare, frozen, fresh_crm, screen, size):
    crm = fresh_crm()
    assert snap_compare(make_app(crm), terminal_size=size, run_before=SCREENS[screen])
