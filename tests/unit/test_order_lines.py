"""Order lines as the desk changes them: an order from a won deal starts with the deal's
amount, a draft's line can be changed, refusals name the field at fault, and the
catalogue says who may manage it."""

from __future__ import annotations

import json

import pytest

from crm_tui.logic.core import users
from crm_tui.logic.core.errors import Conflict, Forbidden, Invalid
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.core.vocabulary import Role
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.reports import audit_trail
from crm_tui.logic.sales import deals, orders, products
from crm_tui.logic.sales.orders import LineUpdate
from crm_tui.logic.sales.schemas import DealCreate, LineCreate, OrderCreate, ProductCreate, ProductUpdate


@pytest.fixture
def shop(crm):
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    products.add_product(crm, ProductCreate(sku="HOST", name="Hosting", price="49.90", tax_rate="19"))
    return crm


def won(crm, amount="1200", currency=None):
    deal = deals.add_deal(
        crm, DealCreate(customer="C-1", title="Relaunch", amount=amount, currency=currency, owner="alice")
    )
    deals.win_deal(crm, deal.ref)
    return deal.ref


def last(crm, record):
    return audit_trail.list_entries(crm, record=record, limit=1)[0]


# An order from a won deal


def test_an_order_from_a_won_deal_carries_the_deal_amount_as_its_line(shop):
    deal = won(shop, "1200")
    order = orders.add_order(shop, OrderCreate(customer="C-1", deal=deal))
    [line] = order.lines
    assert (line.description, line.quantity, line.unit_price_minor, line.tax_rate, line.product) == (
        "Relaunch",
        "1",
        120000,
        "0",
        None,
    )
    assert (order.net_minor, order.tax_minor, order.total_minor, order.currency) == (120000, 0, 120000, "EUR")
    assert orders.advance(shop, order.ref, "confirm").status == "confirmed"


def test_lines_given_with_a_deal_are_the_order_lines(shop):
    deal = won(shop)
    order = orders.add_order(shop, OrderCreate(customer="C-1", deal=deal, lines=[LineCreate(product="HOST")]))
    assert [line.description for line in order.lines] == ["Hosting"]


def test_an_order_from_a_deal_is_in_the_deal_currency(shop, counts):
    deal = won(shop, "1000", "USD")
    before = counts()
    with pytest.raises(
        Invalid, match="D-1 is in USD; an order made from it is in USD too, not EUR"
    ) as refused:
        orders.add_order(shop, OrderCreate(customer="C-1", deal=deal, currency="EUR"))
    assert refused.value.field == "currency"
    assert counts() == before
    assert orders.add_order(shop, OrderCreate(customer="C-1", deal=deal)).lines[0].unit_price_minor == 100000


def test_a_deal_refused_for_an_order_names_the_deal_field(shop):
    deal = deals.add_deal(shop, DealCreate(customer="C-1", title="Open", amount="10"))
    with pytest.raises(Invalid, match="only a won deal becomes an order") as refused:
        orders.add_order(shop, OrderCreate(customer="C-1", deal=deal.ref))
    assert refused.value.field == "deal"


def test_the_cli_order_from_a_deal_says_the_deal_amount(cli, shop):
    won(shop, "1200")
    added = cli("order", "add", "C-1", "--deal", "D-1")
    assert (added.exit_code, added.stdout) == (0, "Added draft O-1 for Acme: 1200.00 EUR\n")
    shown = json.loads(cli("order", "show", "O-1", "-f", "json").stdout)
    assert [(line["description"], line["net_minor"]) for line in shown["lines"]] == [("Relaunch", 120000)]


# Changing a draft's line


def draft(crm):
    return orders.add_order(
        crm,
        OrderCreate(
            customer="C-1",
            lines=[
                LineCreate(product="HOST", quantity="2"),
                LineCreate(description="Setup", unit_price="100"),
            ],
        ),
    )


def test_changing_a_line_prices_it_and_the_order_again(shop):
    order = draft(shop)
    changed = orders.change_line(
        shop, order.ref, 1, LineUpdate(quantity="3", discount="10"), expected_version=order.version
    )
    line = changed.lines[0]
    # 3 x 49.90 less 10% = 134.73, tax 19% = 25.60; plus Setup 100.00
    assert (line.quantity, line.discount, line.net_minor, line.tax_minor) == ("3", "10", 13473, 2560)
    assert (changed.net_minor, changed.tax_minor, changed.total_minor) == (23473, 2560, 26033)
    assert orders.get_order(shop, order.ref).total_minor == 26033


def test_a_line_change_is_audited_with_what_it_changed(shop):
    order = draft(shop)
    orders.change_line(shop, order.ref, 2, LineUpdate(description="Setup and training", unit_price="150"))
    entry = last(shop, order.ref)
    assert (entry.actor, entry.action) == ("alice", "change_line")
    assert entry.changes == {
        "position": [2, 2],
        "description": ["Setup", "Setup and training"],
        "unit_price_minor": [10000, 15000],
        "total_minor": [21876, 26876],
    }


def test_a_product_line_without_a_description_takes_the_product_name_again(shop):
    order = draft(shop)
    orders.change_line(shop, order.ref, 1, LineUpdate(description="Hosting, premium"))
    changed = orders.change_line(shop, order.ref, 1, LineUpdate(description=""))
    assert changed.lines[0].description == "Hosting"


def test_a_change_that_changes_nothing_writes_nothing(shop, counts):
    order = draft(shop)
    before = counts()
    same = orders.change_line(shop, order.ref, 2, LineUpdate(description="Setup", quantity="1"))
    assert same.version == order.version
    assert counts() == before


@pytest.mark.parametrize(
    ("position", "update", "message", "field"),
    [
        (2, LineUpdate(description=" "), "a line without a product needs a description", "description"),
        (1, LineUpdate(quantity="0"), "quantity must be more than zero", "quantity"),
        (1, LineUpdate(quantity="abc"), "invalid quantity 'abc'", "quantity"),
        (1, LineUpdate(unit_price="1.234"), "more than 2 decimal places", "unit_price"),
        (1, LineUpdate(discount="120"), "between 0 and 100 percent", "discount"),
        (1, LineUpdate(tax_rate="-1"), "tax rate", "tax_rate"),
        (7, LineUpdate(quantity="1"), "O-1 has no line 7", None),
        (1, LineUpdate(), "nothing to change", None),
    ],
)
def test_a_refused_line_change_names_its_field_and_writes_nothing(
    shop, counts, position, update, message, field
):
    order = draft(shop)
    before = counts()
    with pytest.raises(Invalid, match=message) as refused:
        orders.change_line(shop, order.ref, position, update)
    assert refused.value.field == field
    assert counts() == before


def test_only_a_draft_line_changes(shop):
    order = draft(shop)
    orders.advance(shop, order.ref, "confirm")
    assert orders.lines_refusal(order.ref, "confirmed") == "O-1 is confirmed; only a draft's lines can change"
    assert orders.lines_refusal(order.ref, "draft") is None
    with pytest.raises(Invalid, match="O-1 is confirmed; only a draft's lines can change"):
        orders.change_line(shop, order.ref, 1, LineUpdate(quantity="5"))


def test_a_line_change_on_an_order_changed_since_is_a_conflict(shop):
    order = draft(shop)
    orders.add_line(shop, order.ref, LineCreate(description="Extra", unit_price="1"))
    with pytest.raises(Conflict):
        orders.change_line(shop, order.ref, 1, LineUpdate(quantity="5"), expected_version=order.version)


def test_a_refused_new_line_names_its_field(shop):
    order = orders.add_order(shop, OrderCreate(customer="C-1"))
    for line, field in (
        (LineCreate(description="x"), "unit_price"),
        (LineCreate(unit_price="5"), "description"),
        (LineCreate(product="NOPE"), "product"),
        (LineCreate(product="HOST", discount="x"), "discount"),
    ):
        with pytest.raises(Exception) as refused:
            orders.add_line(shop, order.ref, line)
        assert getattr(refused.value, "field", None) == field


# The catalogue


def test_only_managers_and_admins_may_manage_products(shop, as_user):
    users.add_user(shop, UserCreate(username="sara", role=Role.sales))
    users.add_user(shop, UserCreate(username="mia", role=Role.manager))
    products.check_may_manage(shop)
    products.check_may_manage(as_user("mia"))
    with pytest.raises(
        Forbidden, match=r"sara \(sales\) may not do this; it needs the role admin or manager"
    ):
        products.check_may_manage(as_user("sara"))


def test_a_refused_product_names_its_field(shop):
    for data, field in (
        (ProductCreate(sku="host", name="Again", price="1"), "sku"),
        (ProductCreate(sku="A B", name="Spaced", price="1"), "sku"),
        (ProductCreate(sku="NEW", name="New", price="1.234"), "price"),
        (ProductCreate(sku="NEW", name="New", price="1", currency="EURO"), "currency"),
        (ProductCreate(sku="NEW", name="New", price="1", tax_rate="200"), "tax_rate"),
        (ProductCreate(sku="NEW", name=" ", price="1"), "name"),
    ):
        with pytest.raises(Exception) as refused:
            products.add_product(shop, data)
        assert getattr(refused.value, "field", None) == field, data
    with pytest.raises(Invalid) as refused:
        products.update_product(shop, "HOST", ProductUpdate(price="abc"))
    assert refused.value.field == "price"
