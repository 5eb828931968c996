"""Orders in the desk: a new order from a won deal or from scratch, its lines added,
changed and removed, its way from draft to paid, the list keeping its place, and the
product catalogue kept by managers. Each test checks what is stored and what is shown."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList, Static

from crm_tui.app import make_app
from crm_tui.logic.customers import customers
from crm_tui.logic.sales import deals, orders, products
from crm_tui.logic.sales.schemas import DealCreate, LineCreate, OrderCreate
from crm_tui.screens.orders import OrderDetail, OrdersScreen
from crm_tui.screens.widgets.dialogs import Confirm, TextPrompt
from crm_tui.screens.widgets.forms import FormDialog, Picker, PickField
from crm_tui.screens.widgets.keys_footer import KeysFooter
from crm_tui.screens.widgets.row_table import RowTable
from tests.tui.snapshots import settle, until

pytestmark = pytest.mark.asyncio


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def error_beside(form, field: str) -> str:
    return text_of(form, f"#error-{field}")


async def pick(pilot, field: str, text: str) -> list[str]:
    """Open a form's picker field, narrow it by ``text``, take the first choice; returns
    what the picker offered."""
    pilot.app.screen.query_one(f"#field-{field}", PickField).focus()
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, Picker)
    await pilot.press(*text)
    await settle(pilot)
    listing = pilot.app.screen.query_one(OptionList)
    offered = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
    await pilot.press("enter")
    await settle(pilot)
    return offered


async def type_into(pilot, field: str, text: str) -> None:
    box = pilot.app.screen.query_one(f"#field-{field}", Input)
    box.value = ""
    box.focus()
    await pilot.press(*text)


def won_deal(crm, title: str = "Warehouse scanners", amount: str = "8400") -> str:
    customer = customers.list_customers(crm, text="acme").customers[0].ref
    deal = deals.add_deal(crm, DealCreate(customer=customer, title=title, amount=amount, owner="sara"))
    deals.win_deal(crm, deal.ref)
    return deal.ref


async def open_orders(pilot) -> OrdersScreen:
    await settle(pilot)
    await pilot.press("f6")
    await settle(pilot)
    assert isinstance(pilot.app.screen, OrdersScreen)
    return pilot.app.screen


async def test_an_order_from_a_won_deal_has_its_amount_and_goes_from_draft_to_paid(team):
    deal = won_deal(team)
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_orders(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)
        offered = await pick(pilot, "deal", "scanners")
        assert offered[0].startswith("Warehouse scanners")
        await pilot.press("ctrl+s")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, OrderDetail)
        order = orders.list_orders(team, limit=1)[0][0]  # the newest
        assert (detail.reference, order.deal) == (order.ref, deal)
        assert [(line.description, line.quantity, line.unit_price_minor) for line in order.lines] == [
            ("Warehouse scanners", "1", 840000)
        ]
        assert list(detail.query_one("#lines", RowTable).get_row_at(0))[:4] == [
            "1", "Warehouse scanners", "1", "8,400.00"
        ]  # fmt: skip
        assert "total 8,400.00 EUR" in text_of(detail, "#order-totals")
        for key, status in (("c", "confirmed"), ("f", "fulfilled"), ("y", "paid")):
            await pilot.press(key)
            await settle(pilot)
            assert orders.get_order(team, order.ref).status == status
            assert f"{order.ref} is {status}" in notes(app)
        assert "· paid" in text_of(detail, "#order-head")
        assert "Paid: nothing more to do." in text_of(detail, "#order-next")


async def test_a_new_order_from_scratch_for_a_customer_in_a_currency(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_orders(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pick(pilot, "customer", "acme")
        await type_into(pilot, "currency", "usd")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, OrderDetail)
        stored = orders.get_order(team, app.screen.reference)
        assert (stored.customer_name, stored.currency, stored.lines, stored.deal) == (
            "Acme Logistics GmbH", "USD", [], None
        )  # fmt: skip
        assert "A draft without lines: a adds one" in text_of(app.screen, "#order-next")


async def test_a_new_order_needs_a_customer_or_a_deal_and_a_refused_deal_keeps_the_form(team, counts):
    ordered = deals.list_deals(team, status="won", limit=1).deals[0]  # the demo's won deals have orders
    won = deals.add_deal(team, DealCreate(customer="C-2", title="Solar roof", amount="900"))
    deals.win_deal(team, won.ref)
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_orders(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert "choose a customer, or a won deal" in error_beside(form, "customer")
        form.query_one("#field-deal", PickField).focus()
        await pilot.press("enter")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, Picker)
        shown = [str(option.prompt) for option in picker.query_one(OptionList).options]
        assert any(won.title in text for text in shown)  # won, no order yet: offered
        assert not any(ordered.title in text and ordered.ref in text for text in shown)  # has one
        await pilot.press("escape")
        await settle(pilot)
        await pick(pilot, "deal", won.title)
        taken = orders.add_order(team, OrderCreate(customer="C-2", deal=won.ref))  # someone was quicker
        before = counts()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert f"{won.ref} already has order {taken.ref}" in error_beside(form, "deal")
    assert counts() == before


async def test_lines_added_changed_and_removed_change_the_totals(team):
    order = orders.add_order(team, OrderCreate(customer="C-1"))
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_record(order.ref)
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, OrderDetail)
        # A product line: name, price and tax from the product, 10% off.
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)
        await pick(pilot, "product", "licence")
        await type_into(pilot, "quantity", "10")
        await type_into(pilot, "discount", "10")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # A line of one's own: description and price typed, no tax.
        await pilot.press("a")
        await settle(pilot)
        await type_into(pilot, "description", "Setup on site")
        await type_into(pilot, "unit_price", "250")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is detail
        stored = orders.get_order(team, order.ref)
        # 10 x 39.90 less 10% = 359.10, tax 19% = 68.23; plus 250.00 without tax
        assert [(ln.product, ln.description, ln.net_minor, ln.tax_minor) for ln in stored.lines] == [
            ("LIC-U", "User licence", 35910, 6823),
            (None, "Setup on site", 25000, 0),
        ]
        assert "total 677.33 EUR" in text_of(detail, "#order-totals")
        lines = detail.query_one("#lines", RowTable)
        assert lines.keys == ["1", "2"] and lines.cursor_row == 1  # on the line just added

        # Change the first line: 12 licences.
        lines.move_cursor(row=0)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.values()["quantity"] == "10" and form.values()["unit_price"] == "39.90"
        await type_into(pilot, "quantity", "12")
        await pilot.press("ctrl+s")
        await settle(pilot)
        stored = orders.get_order(team, order.ref)
        # 12 x 39.90 less 10% = 430.92, tax 19% = 81.87; plus 250.00
        assert (stored.lines[0].quantity, stored.lines[0].net_minor, stored.total_minor) == (
            "12",
            43092,
            76279,
        )
        assert "total 762.79 EUR" in text_of(detail, "#order-totals")
        assert lines.cursor_row == 0

        # Remove the second line, after saying yes.
        lines.move_cursor(row=1)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await settle(pilot)
        await until(pilot, lambda: lines.keys == ["1"])
        stored = orders.get_order(team, order.ref)
        assert [ln.description for ln in stored.lines] == ["User licence"]
        assert stored.total_minor == 51279
        assert lines.keys == ["1"] and lines.cursor_row == 0
        assert "total 512.79 EUR" in text_of(detail, "#order-totals")


async def test_a_refused_line_keeps_the_form_open_with_the_error_beside_its_field(team, counts):
    order = orders.add_order(team, OrderCreate(customer="C-1"))
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_record(order.ref)
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await type_into(pilot, "description", "Consulting")
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert "needs a unit price" in error_beside(form, "unit_price")
        await type_into(pilot, "unit_price", "100")
        await type_into(pilot, "quantity", "0")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "quantity must be more than zero" in error_beside(form, "quantity")
        assert form.values()["description"] == "Consulting"
    assert counts() == before


async def test_an_order_offers_only_the_steps_its_status_allows(team):
    order = orders.add_order(team, OrderCreate(customer="C-1", lines=[LineCreate(product="LIC-U")]))
    orders.advance(team, order.ref, "confirm")
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_record(order.ref)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OrderDetail)
        assert offered(screen) == {"Fulfil", "Cancel order"}
        assert "Confirmed: f when it is delivered · x cancels it." in hint(screen)
        for key in ("a", "e", "d", "c", "y"):  # not offered: they do nothing
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen
        assert orders.get_order(team, order.ref).status == "confirmed"
        for key in ("f", "y"):
            await pilot.press(key)
            await settle(pilot)
        assert orders.get_order(team, order.ref).status == "paid"
        assert offered(screen) == set() and hint(screen) == "Paid: nothing more to do."
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is screen  # no cancel dialog for a paid order
    assert orders.get_order(team, order.ref).status == "paid"


STEPS = {"Add line", "Edit line", "Remove line", "Confirm", "Fulfil", "Paid", "Cancel order"}


def offered(screen: OrderDetail) -> set[str]:
    """The steps of the order the footer offers."""
    return {key.description for key in screen.query_one(KeysFooter).keys if key.enabled} & STEPS


def hint(screen: OrderDetail) -> str:
    return str(screen.query_one("#order-next", Static).render())


async def test_an_order_is_cancelled_with_a_reason(team):
    order = orders.add_order(team, OrderCreate(customer="C-1", lines=[LineCreate(product="LIC-U")]))
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_record(order.ref)
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, TextPrompt)
        await pilot.press("enter")  # a reason is required: the prompt stays
        await settle(pilot)
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"Customer went elsewhere", "enter")
        await settle(pilot)
        assert "Cancelled because: Customer went elsewhere" in text_of(app.screen, "#order-head")
    stored = orders.get_order(team, order.ref)
    assert (stored.status, stored.cancel_reason) == ("cancelled", "Customer went elsewhere")


async def test_the_list_keeps_its_cursor_on_the_order_acted_on(team):
    page, _ = orders.list_orders(team)
    # Two fulfilled orders, not at the top of the list: y must pay the one under the cursor.
    target, other = page[2], page[3]
    for order in (target, other):
        orders.advance(team, order.ref, "fulfil")
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_orders(pilot)
        table = screen.query_one("#orders", RowTable)
        table.move_cursor(row=table.keys.index(target.ref))
        await pilot.press("y")
        await settle(pilot)
        assert table.keys[table.cursor_row] == target.ref
        assert orders.get_order(team, target.ref).status == "paid"
        assert orders.get_order(team, other.ref).status == "fulfilled"
        assert list(table.get_row_at(table.cursor_row))[3] == "paid"
        # And again after a change made elsewhere (an undo, another screen).
        screen.records_changed()
        await settle(pilot)
        assert table.keys[table.cursor_row] == target.ref


async def test_back_from_an_order_the_list_shows_it_changed_with_the_cursor_on_it(team):
    order = orders.add_order(team, OrderCreate(customer="C-1", lines=[LineCreate(product="LIC-U")]))
    orders.add_order(team, OrderCreate(customer="C-2", lines=[LineCreate(product="LIC-U")]))
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_orders(pilot)
        table = screen.query_one("#orders", RowTable)
        table.move_cursor(row=table.keys.index(order.ref))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderDetail) and app.screen.reference == order.ref
        await pilot.press("c", "escape")
        await settle(pilot)
        assert app.screen is screen
        assert table.keys[table.cursor_row] == order.ref
        assert list(table.get_row_at(table.cursor_row))[3] == "confirmed"


async def test_a_manager_adds_edits_retires_and_offers_a_product_again(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_orders(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert screen.tab == "products-tab"
        table = screen.query_one("#products", RowTable)
        assert screen.focused is table
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)
        await type_into(pilot, "sku", "HW-SCAN")
        await type_into(pilot, "name", "Hand scanner")
        await type_into(pilot, "price", "349")
        await type_into(pilot, "tax_rate", "19")
        await pilot.press("ctrl+s")
        await settle(pilot)
        stored = products.get_product(team, "HW-SCAN")
        assert (stored.name, stored.price, stored.tax_rate, stored.active) == (
            "Hand scanner",
            "349.00",
            "19",
            True,
        )
        assert table.keys[table.cursor_row] == "HW-SCAN"
        assert list(table.get_row_at(table.cursor_row))[:3] == ["HW-SCAN", "Hand scanner", "349.00 EUR"]

        await pilot.press("e")
        await settle(pilot)
        assert app.screen.values()["price"] == "349.00"
        await type_into(pilot, "price", "329.50")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert products.get_product(team, "HW-SCAN").price == "329.50"
        assert list(table.get_row_at(table.cursor_row))[2] == "329.50 EUR"

        await pilot.press("s")
        await settle(pilot)
        assert products.get_product(team, "HW-SCAN").active is False
        assert table.keys[table.cursor_row] == "HW-SCAN"
        assert list(table.get_row_at(table.cursor_row))[4] == "no"
        assert "Retired HW-SCAN: no longer offered" in notes(app)
        await pilot.press("s")
        await settle(pilot)
        assert products.get_product(team, "HW-SCAN").active is True


async def test_a_refused_product_keeps_the_form_with_the_error_beside_the_field(team, counts):
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_orders(pilot)
        await pilot.press("p", "a")
        await settle(pilot)
        await type_into(pilot, "sku", "sup-1y")
        await type_into(pilot, "name", "Support again")
        await type_into(pilot, "price", "12.345")
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert "already a product with SKU" in error_beside(form, "sku")
        await type_into(pilot, "sku", "SUP-2Y")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "more than 2 decimal places" in error_beside(form, "price")
    assert counts() == before


async def test_a_sales_rep_is_told_why_products_are_not_theirs_to_change(team, as_user, counts):
    sara = as_user("sara")
    app = make_app(sara)
    before = counts()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_orders(pilot)
        await pilot.press("p")
        await settle(pilot)
        for key in ("a", "e", "s"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, OrdersScreen)  # no form to fill in only to be refused
        refusal = "sara (sales) may not do this; it needs the role admin or manager"
        assert notes(app).count(refusal) == 3
    assert counts() == before


async def test_the_palette_runs_an_action_of_the_other_tab_on_that_tab(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_orders(pilot)
        keys = {active.binding.key for active in screen.active_bindings.values() if active.binding.show}
        # The orders tab's keys (c: the first order is a draft), not the products tab's.
        assert {"n", "c", "p"} <= keys and not {"a", "e", "s"} & keys
        await screen.run_action("add_product")
        await settle(pilot)
        assert screen.tab == "products-tab"
        assert isinstance(app.screen, FormDialog)


async def test_the_order_list_offers_the_steps_of_the_order_under_the_cursor(team):
    listed = {}
    for status, steps in (("draft", ()), ("confirmed", ("confirm",)), ("paid", ("confirm", "fulfil", "pay"))):
        order = orders.add_order(team, OrderCreate(customer="C-1", lines=[LineCreate(product="LIC-U")]))
        for step in steps:
            orders.advance(team, order.ref, step)
        listed[status] = order.ref
    app = make_app(team)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_orders(pilot)
        table = screen.query_one("#orders", RowTable)
        expected = {
            "draft": {"Confirm", "Cancel order"},
            "confirmed": {"Fulfil", "Cancel order"},
            "paid": set(),
        }
        for status, steps in expected.items():
            table.move_cursor(row=table.keys.index(listed[status]))
            await settle(pilot)
            assert offered(screen) == steps, status
        await pilot.press("c", "f", "y")  # on the paid order: none is offered, nothing happens
        await settle(pilot)
    assert orders.get_order(team, listed["paid"]).status == "paid"
