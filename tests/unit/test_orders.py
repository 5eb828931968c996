"""Products and orders: pricing by the documented rounding rule, and the status flow."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_tui.logic.core.errors import Duplicate, Invalid
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.sales import deals, orders, products
from crm_tui.logic.sales.schemas import DealCreate, LineCreate, OrderCreate, ProductCreate, ProductUpdate
from crm_tui.logic.values import money


@pytest.fixture
def shop(crm):
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    products.add_product(crm, ProductCreate(sku="HOST", name="Hosting", price="49.90", tax_rate="19"))
    products.add_product(crm, ProductCreate(sku="YEN", name="Yen thing", price="500", currency="JPY"))
    return crm


def half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def expected_line(quantity_milli, price_minor, discount_bp, tax_bp):
    """The rule computed a second way: exact fractions, then round half up."""
    net = half_up(Fraction(quantity_milli, 1000) * price_minor * (1 - Fraction(discount_bp, 10_000)))
    return net, half_up(net * Fraction(tax_bp, 10_000))


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "tax", "net", "tax_amount"),
    [
        (1500, 999, 1250, 1900, 1311, 249),  # 13.111875 -> 13.11; 2.4909 -> 2.49
        (1000, 5, 5000, 0, 3, 0),  # 2.5 cents rounds up to 3
        (1000, 1, 5000, 5000, 1, 1),  # 0.5 -> 1, then 0.5 -> 1
        (333, 100, 0, 1000, 33, 3),  # 33.3 -> 33; 3.3 -> 3
        (2000, 0, 0, 1900, 0, 0),
    ],
)
def test_line_rounding_examples(quantity, price, discount, tax, net, tax_amount):
    assert money.line_amounts(quantity, price, discount, tax) == (net, tax_amount)


lines = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=10_000_000),  # quantity in thousandths
        st.integers(min_value=0, max_value=10_000_000),  # unit price in cents
        st.integers(min_value=0, max_value=10_000),  # discount in basis points
        st.integers(min_value=0, max_value=10_000),  # tax in basis points
    ),
    min_size=1,
    max_size=12,
)


@given(lines)
def test_line_amounts_follow_the_rule(items):
    for item in items:
        assert money.line_amounts(*item) == expected_line(*item)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines)
def test_order_totals_are_sums_of_rounded_lines(shop, items):
    order = orders.add_order(shop, OrderCreate(customer="C-1", currency="EUR"))
    for quantity, price, discount, tax in items:
        order = orders.add_line(
            shop, order.ref,
            LineCreate(description="x", quantity=money.quantity_text(quantity), unit_price=str(money.as_decimal(price, "EUR")),
                       discount=money.percent_text(discount), tax_rate=money.percent_text(tax)),
        )  # fmt: skip
    expected = [expected_line(*item) for item in items]
    assert [(line.net_minor, line.tax_minor) for line in order.lines] == expected
    assert order.net_minor == sum(net for net, _ in expected)
    assert order.tax_minor == sum(tax for _, tax in expected)
    assert order.total_minor == order.net_minor + order.tax_minor


def test_a_product_line_takes_price_and_tax_from_the_product(shop):
    order = orders.add_order(
        shop,
        OrderCreate(customer="C-1", lines=[LineCreate(product="host", quantity="12", discount="10")]),
    )
    line = order.lines[0]
    assert (line.product, line.description, line.unit_price_minor, line.tax_rate) == (
        "HOST",
        "Hosting",
        4990,
        "19",
    )
    assert (order.net_minor, order.tax_minor, order.total_minor) == (53892, 10239, 64131)


def test_products_are_unique_and_priced_in_their_currency(shop):
    with pytest.raises(Duplicate):
        products.add_product(shop, ProductCreate(sku="host", name="Again", price="1"))
    with pytest.raises(Invalid, match="priced in JPY, the order is in EUR"):
        orders.add_order(shop, OrderCreate(customer="C-1", lines=[LineCreate(product="YEN")]))
    with pytest.raises(Invalid, match="more than 0 decimal places"):
        products.update_product(shop, "YEN", ProductUpdate(price="1.5"))
    products.set_active(shop, "HOST", False)
    with pytest.raises(Invalid, match="no longer sold"):
        orders.add_order(shop, OrderCreate(customer="C-1", lines=[LineCreate(product="HOST")]))


def test_the_status_flow_goes_one_way(shop):
    order = orders.add_order(shop, OrderCreate(customer="C-1"))
    with pytest.raises(Invalid, match="has no lines"):
        orders.advance(shop, order.ref, "confirm")
    orders.add_line(shop, order.ref, LineCreate(product="HOST"))
    with pytest.raises(Invalid, match="only a confirmed order can be fulfilled"):
        orders.advance(shop, order.ref, "fulfil")
    for action, status in (("confirm", "confirmed"), ("fulfil", "fulfilled"), ("pay", "paid")):
        assert orders.advance(shop, order.ref, action).status == status
    with pytest.raises(Invalid, match="only a draft's lines can change"):
        orders.add_line(shop, order.ref, LineCreate(product="HOST"))
    with pytest.raises(Invalid, match="can no longer be cancelled"):
        orders.cancel_order(shop, order.ref, "changed mind")


def test_cancel_needs_a_reason(shop, counts):
    order = orders.add_order(shop, OrderCreate(customer="C-1", lines=[LineCreate(product="HOST")]))
    orders.advance(shop, order.ref, "confirm")
    before = counts()
    with pytest.raises(Invalid, match="a reason is required"):
        orders.cancel_order(shop, order.ref, " ")
    assert counts() == before
    cancelled = orders.cancel_order(shop, order.ref, "customer went bankrupt")
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "customer went bankrupt")


def test_orders_from_deals(shop):
    deal = deals.add_deal(shop, DealCreate(customer="C-1", title="Relaunch", amount="1200"))
    with pytest.raises(Invalid, match="D-1 is open; only a won deal becomes an order"):
        orders.add_order(shop, OrderCreate(customer="C-1", deal=deal.ref))
    _, order = deals.win_deal(shop, deal.ref, create_order=True)
    assert (order.deal, order.total_minor, order.lines[0].description) == (
        "D-1",
        120000,
        "Relaunch",
    )
    with pytest.raises(Invalid, match="D-1 already has order O-1"):
        orders.add_order(shop, OrderCreate(customer="C-1", deal=deal.ref))
    orders.cancel_order(shop, order.ref, "redo")
    assert orders.add_order(shop, OrderCreate(customer="C-1", deal=deal.ref)).ref == "O-2"


def test_lines_are_removed_from_drafts(shop):
    order = orders.add_order(
        shop,
        OrderCreate(
            customer="C-1",
            lines=[LineCreate(product="HOST"), LineCreate(description="Setup", unit_price="100")],
        ),
    )
    order = orders.remove_line(shop, order.ref, 1)
    assert [(line.position, line.description) for line in order.lines] == [(2, "Setup")]
    assert order.total_minor == 10000
    with pytest.raises(Invalid, match="has no line 7"):
        orders.remove_line(shop, order.ref, 7)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (LineCreate(description="x"), "needs a unit price"),
        (LineCreate(unit_price="5"), "needs a description"),
        (LineCreate(product="HOST", quantity="0"), "quantity must be more than zero"),
        (LineCreate(product="HOST", quantity="1.0005"), "more than 3 decimal places"),
        (LineCreate(product="HOST", discount="120"), "between 0 and 100 percent"),
        (LineCreate(product="NOPE"), "no product with SKU 'NOPE'"),
    ],
)
def test_bad_lines(shop, counts, line, message):
    order = orders.add_order(shop, OrderCreate(customer="C-1"))
    before = counts()
    with pytest.raises(Exception, match=message):
        orders.add_line(shop, order.ref, line)
    assert counts() == before


def test_cli_order_flow(cli, shop):
    assert cli("order", "add", "C-1", "--line", "HOST:2").exit_code == 0
    assert cli("order", "line", "add", "O-1", "--description", "Setup", "--price", "100").exit_code == 0
    assert cli("order", "confirm", "O-1").exit_code == 0
    pay = cli("order", "pay", "O-1")
    assert (pay.exit_code, pay.stderr) == (
        3,
        "crm: error: O-1 is confirmed; only a fulfilled order can be paid\n",
    )
    shown = json.loads(cli("order", "show", "O-1", "-f", "json").stdout)
    # 2 x 49.90 = 99.80 net, 19 % tax 18.962 -> 18.96; setup 100.00 untaxed
    assert (shown["status"], shown["net_minor"], shown["tax_minor"], shown["total_minor"]) == (
        "confirmed",
        19980,
        1896,
        21876,
    )


@pytest.mark.parametrize(
    ("status", "steps"),
    [
        ("draft", {"lines", "confirm", "cancel"}),
        ("confirmed", {"fulfil", "cancel"}),
        ("fulfilled", {"pay", "cancel"}),
        ("paid", set()),
        ("cancelled", set()),
    ],
)
def test_open_steps_follow_the_status(status, steps):
    assert orders.open_steps(status) == steps


def test_the_deals_to_order_are_the_won_ones_without_an_order_that_counts(shop):
    made = {
        title: deals.add_deal(shop, DealCreate(customer="C-1", title=title, amount="100")).ref
        for title in ("Open one", "Won plain", "Won ordered", "Won cancelled", "Lost one")
    }
    for title in ("Won plain", "Won ordered", "Won cancelled"):
        deals.win_deal(shop, made[title], create_order=title != "Won plain")
    deals.lose_deal(shop, made["Lost one"], "price")
    cancelled = orders.list_orders(shop, limit=10)[0]
    orders.cancel_order(shop, next(o.ref for o in cancelled if o.deal == made["Won cancelled"]), "redo")
    assert {d.title for d in deals.deals_to_order(shop)} == {"Won plain", "Won cancelled"}
    assert [d.title for d in deals.deals_to_order(shop, text="CANC")] == ["Won cancelled"]
