"""Orders: what a customer bought, from a won deal or on their own.

An order's lines change only while it is a draft; its totals are the sums of its lines,
each priced by ``money.line_amounts``. An order made from a won deal starts with one line:
the deal's title at its amount. The status moves one way:
draft -> confirmed -> fulfilled -> paid; draft, confirmed and fulfilled orders can be
cancelled, with a reason. A deal has at most one order that is not cancelled.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import col

from crm_tui.logic.core import audit, users
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.records import check_version, fetch
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.schemas import Input
from crm_tui.logic.core.vocabulary import OrderStatus
from crm_tui.logic.sales import products
from crm_tui.logic.sales.fields import about
from crm_tui.logic.sales.schemas import LineCreate, LineRead, MoneyText, OrderCreate, OrderRead
from crm_tui.logic.values import money
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import Customer, Deal, Order, OrderLine, Product, User
from crm_tui.storage.types import utcnow

# action: (status it needs, status it gives, the time it sets)
STEPS = {
    "confirm": ("draft", "confirmed", "confirmed_at"),
    "fulfil": ("confirmed", "fulfilled", "fulfilled_at"),
    "pay": ("fulfilled", "paid", "paid_at"),
}
CANCELLABLE = ("draft", "confirmed", "fulfilled")
STATUSES = tuple(OrderStatus)


class LineUpdate(Input):
    """A change to a draft's line: the fields given are set, the others kept. Its product
    stays; to sell another product, remove the line and add one."""

    description: str | None = None
    quantity: MoneyText | None = None
    unit_price: MoneyText | None = None
    discount: MoneyText | None = None
    tax_rate: MoneyText | None = None


def read(work: Work, order: Order) -> OrderRead:
    lines = work.session.execute(
        select(OrderLine, col(Product.sku))
        .outerjoin(Product, col(Product.id) == col(OrderLine.product_id))
        .where(col(OrderLine.order_id) == order.id)
        .order_by(col(OrderLine.position))
    ).all()
    customer = work.session.get_one(Customer, order.customer_id)
    owner = work.session.get(User, order.owner_id) if order.owner_id else None
    return OrderRead(
        id=order.id,
        ref=ref("order", order.id),
        customer=ref("customer", order.customer_id),
        customer_name=customer.name,
        deal=ref("deal", order.deal_id) if order.deal_id else None,
        owner=owner.username if owner else None,
        status=order.status,
        currency=order.currency,
        net_minor=order.net_minor,
        tax_minor=order.tax_minor,
        total_minor=order.total_minor,
        total=str(money.as_decimal(order.total_minor, order.currency)),
        lines=[
            LineRead(
                id=line.id,
                position=line.position,
                product=sku,
                description=line.description,
                quantity=money.quantity_text(line.quantity_milli),
                unit_price_minor=line.unit_price_minor,
                discount=money.percent_text(line.discount_bp),
                tax_rate=money.percent_text(line.tax_rate_bp),
                net_minor=line.net_minor,
                tax_minor=line.tax_minor,
            )
            for line, sku in lines
        ],
        cancel_reason=order.cancel_reason,
        created_at=order.created_at,
        confirmed_at=order.confirmed_at,
        fulfilled_at=order.fulfilled_at,
        paid_at=order.paid_at,
        cancelled_at=order.cancelled_at,
        version=order.version,
    )


def get_order(crm: Crm, reference: str | int) -> OrderRead:
    with crm.work() as work:
        return read(work, fetch(work, Order, "order", reference))


# Lines and totals


def _add_line(work: Work, order: Order, data: LineCreate) -> OrderLine:
    """Price a line and append it; a product line takes the product's name, price and
    tax rate unless the line gives its own."""
    product = None
    if data.product:
        with about("product"):
            product = products.find(work, data.product)
            if not product.active:
                raise Invalid(f"product {product.sku} is no longer sold")
            if product.currency != order.currency:
                raise Invalid(
                    f"product {product.sku} is priced in {product.currency}, the order is in {order.currency}"
                )
    description = _description(data.description, product)
    if data.unit_price is not None:
        unit_price = _unit_price(data.unit_price, order.currency)
    elif product is not None:
        unit_price = product.unit_price_minor
    else:
        raise Invalid("a line without a product needs a unit price", field="unit_price")
    quantity = _quantity(data.quantity)
    discount = _percent(data.discount, "discount")
    if data.tax_rate is not None:
        tax_rate = _percent(data.tax_rate, "tax_rate")
    else:
        tax_rate = product.tax_rate_bp if product else 0
    net, tax = money.line_amounts(quantity, unit_price, discount, tax_rate, order.currency)
    position = work.session.execute(
        select(func.coalesce(func.max(col(OrderLine.position)), 0)).where(col(OrderLine.order_id) == order.id)
    ).scalar_one()
    line = OrderLine(
        order_id=order.id,
        position=position + 1,
        product_id=product.id if product else None,
        description=description,
        quantity_milli=quantity,
        unit_price_minor=unit_price,
        discount_bp=discount,
        tax_rate_bp=tax_rate,
        net_minor=net,
        tax_minor=tax,
    )
    work.session.add(line)
    work.session.flush()
    return line


def _description(text: str | None, product: Product | None) -> str:
    """A line's description: the text given, else its product's name."""
    description = clean_text(text, "description", limit=300) or (product.name if product else None)
    if not description:
        raise Invalid("a line without a product needs a description", field="description")
    return description


def _unit_price(value: MoneyText, currency: str) -> int:
    with about("unit_price"):
        return money.to_minor(value, currency, what="unit price")


def _quantity(value: MoneyText) -> int:
    with about("quantity"):
        return money.to_quantity(value)


def _percent(value: MoneyText | None, field: str) -> int:
    with about(field):
        return money.to_basis_points(value, field.replace("_", " "))


def _total(work: Work, order: Order) -> None:
    """Set the order's totals to the sums of its lines."""
    net, tax = work.session.execute(
        select(
            func.coalesce(func.sum(col(OrderLine.net_minor)), 0),
            func.coalesce(func.sum(col(OrderLine.tax_minor)), 0),
        ).where(col(OrderLine.order_id) == order.id)
    ).one()
    total = money.within_limit(int(net) + int(tax), order.currency, "the order's total")
    order.net_minor, order.tax_minor, order.total_minor = int(net), int(tax), total
    order.updated_at = utcnow()
    work.session.flush()


def open_steps(status: str) -> frozenset[str]:
    """What can be done to an order in ``status``: change its "lines" (a draft's only),
    the one step of STEPS that follows its status, and "cancel" it (until it is paid)."""
    steps = {action for action, (needed, _gives, _stamp) in STEPS.items() if needed == status}
    if lines_refusal("", status) is None:
        steps.add("lines")
    if status in CANCELLABLE:
        steps.add("cancel")
    return frozenset(steps)


def lines_refusal(reference: str, status: str) -> str | None:
    """Why an order's lines cannot change now, or None when they can: only a draft's can."""
    if status != "draft":
        return f"{reference} is {status}; only a draft's lines can change"
    return None


def _draft(work: Work, reference: str | int, expected_version: int | None) -> Order:
    order = fetch(work, Order, "order", reference, for_update=True)
    check_version(work, "order", order, expected_version)
    refusal = lines_refusal(ref("order", order.id), order.status)
    if refusal:
        raise Invalid(refusal)
    return order


def _line_at(work: Work, order: Order, position: int) -> OrderLine:
    line = work.session.execute(
        select(OrderLine).where(col(OrderLine.order_id) == order.id, col(OrderLine.position) == position)
    ).scalar_one_or_none()
    if line is None:
        raise Invalid(f"{ref('order', order.id)} has no line {position}")
    return line


def add_line(
    crm: Crm, reference: str | int, data: LineCreate, *, expected_version: int | None = None
) -> OrderRead:
    with crm.work("orders.write") as work:
        order = _draft(work, reference, expected_version)
        line = _add_line(work, order, data)
        _total(work, order)
        work.audit(
            "order",
            order.id,
            "add_line",
            {
                "line": [None, _line_text(line, order.currency)],
                "total_minor": [None, order.total_minor],
            },
        )
        return read(work, order)


def remove_line(
    crm: Crm, reference: str | int, position: int, *, expected_version: int | None = None
) -> OrderRead:
    with crm.work("orders.write") as work:
        order = _draft(work, reference, expected_version)
        line = _line_at(work, order, position)
        text = _line_text(line, order.currency)
        work.session.delete(line)
        work.session.flush()
        _total(work, order)
        work.audit(
            "order",
            order.id,
            "remove_line",
            {"line": [text, None], "total_minor": [None, order.total_minor]},
        )
        return read(work, order)


def change_line(
    crm: Crm, reference: str | int, position: int, data: LineUpdate, *, expected_version: int | None = None
) -> OrderRead:
    """Change a draft's line: the fields given are set and the line is priced again, as
    are the order's totals. A change that changes nothing writes nothing."""
    given = data.model_dump(exclude_unset=True)
    if not given:
        raise Invalid("nothing to change: give at least one field")
    with crm.work("orders.write") as work:
        order = _draft(work, reference, expected_version)
        line = _line_at(work, order, position)
        product = work.session.get(Product, line.product_id) if line.product_id else None
        before = _line_fields(line)
        if "description" in given:
            line.description = _description(given["description"], product)
        if given.get("quantity") is not None:
            line.quantity_milli = _quantity(given["quantity"])
        if given.get("unit_price") is not None:
            line.unit_price_minor = _unit_price(given["unit_price"], order.currency)
        if "discount" in given:
            line.discount_bp = _percent(given["discount"], "discount")
        if "tax_rate" in given:
            line.tax_rate_bp = _percent(given["tax_rate"], "tax_rate")
        changes = audit.diff(before, _line_fields(line))
        if not changes:
            return read(work, order)
        line.net_minor, line.tax_minor = money.line_amounts(
            line.quantity_milli, line.unit_price_minor, line.discount_bp, line.tax_rate_bp, order.currency
        )
        total_before = order.total_minor
        _total(work, order)
        changes["total_minor"] = [total_before, order.total_minor]
        work.audit("order", order.id, "change_line", {"position": [position, position], **changes})
        return read(work, order)


def _line_fields(line: OrderLine) -> dict[str, object]:
    """A line's fields as the audit trail keeps them."""
    return {
        "description": line.description,
        "quantity_milli": line.quantity_milli,
        "unit_price_minor": line.unit_price_minor,
        "discount_bp": line.discount_bp,
        "tax_rate_bp": line.tax_rate_bp,
    }


def _line_text(line: OrderLine, currency: str) -> str:
    return (
        f"{line.position}: {money.quantity_text(line.quantity_milli)} x {line.description} "
        f"at {money.format_amount(line.unit_price_minor, currency)}, "
        f"net {money.format_amount(line.net_minor, currency)}"
    )


# Creating


def create_in(work: Work, data: OrderCreate) -> OrderRead:
    """A draft order for an active customer, with its lines, inside ``work``."""
    work.require("orders.write")
    with about("customer"):
        customer = fetch(work, Customer, "customer", data.customer)
        if customer.archived_at is not None:
            raise Invalid(f"{ref('customer', customer.id)} is archived; restore it to take orders")
    with about("deal"):
        deal = _orderable_deal(work, data.deal, customer) if data.deal is not None else None
    with about("currency"):
        code = money.currency(
            data.currency or (deal.currency if deal else None) or work.crm.settings.default_currency
        )
    lines = list(data.lines)
    if deal is not None and not lines:
        lines = [_deal_line(deal, code)]
    if data.owner:
        owner_id = users.find_active(work, data.owner, "owner").id
    else:
        owner_id = deal.owner_id if deal and deal.owner_id else work.actor.id
    order = Order(
        customer_id=customer.id, deal_id=deal.id if deal else None, owner_id=owner_id, currency=code
    )
    work.session.add(order)
    work.session.flush()
    for line in lines:
        _add_line(work, order, line)
    _total(work, order)
    created = read(work, order)
    work.audit(
        "order",
        order.id,
        "create",
        audit.diff({}, created.model_dump(include={"customer", "deal", "owner", "currency", "total_minor"})),
    )
    return created


def add_order(crm: Crm, data: OrderCreate) -> OrderRead:
    with crm.work("orders.write") as work:
        return create_in(work, data)


def _orderable_deal(work: Work, reference: str | int, customer: Customer | None) -> Deal:
    deal = fetch(work, Deal, "deal", reference)
    name = ref("deal", deal.id)
    if deal.status != "won":
        raise Invalid(f"{name} is {deal.status}; only a won deal becomes an order")
    if customer is not None and deal.customer_id != customer.id:
        raise Invalid(
            f"{name} belongs to {ref('customer', deal.customer_id)}, not {ref('customer', customer.id)}"
        )
    existing = work.session.execute(counted_orders(deal.id).limit(1)).scalar_one_or_none()
    if existing:
        raise Invalid(f"{name} already has order {ref('order', existing)}")
    return deal


def counted_orders(deal_id: Any) -> Select:
    """The orders of a deal that count: a deal has one order at most, unless cancelled
    (a deal with one is not made an order again)."""
    return select(col(Order.id)).where(col(Order.deal_id) == deal_id, col(Order.status) != "cancelled")


def _deal_line(deal: Deal, currency: str) -> LineCreate:
    """The line an order from a won deal starts with: the deal's title, once, at the
    deal's amount and without tax (no setting gives deals a tax rate), in the deal's
    currency, which the order must share."""
    if currency != deal.currency:
        raise Invalid(
            f"{ref('deal', deal.id)} is in {deal.currency}; an order made from it is in {deal.currency} "
            f"too, not {currency}",
            field="currency",
        )
    return LineCreate(
        description=deal.title,
        quantity="1",
        unit_price=str(money.as_decimal(deal.amount_minor, deal.currency)),
    )


def order_from_deal(work: Work, deal: Deal) -> OrderRead:
    """A draft order for a won deal: one line for the deal's amount, to refine before confirming."""
    return create_in(work, OrderCreate(customer=deal.customer_id, deal=deal.id))


# Status


def advance(crm: Crm, reference: str | int, action: str, *, expected_version: int | None = None) -> OrderRead:
    """confirm, fulfil or pay: each only from the status before it; confirming needs a line."""
    if action not in STEPS:
        raise Invalid(f"an order can be {', '.join(STEPS)}ed, not {action!r}")
    needed, next_status, stamp = STEPS[action]
    with crm.work("orders.write") as work:
        order = fetch(work, Order, "order", reference, for_update=True)
        check_version(work, "order", order, expected_version)
        name = ref("order", order.id)
        if order.status != needed:
            raise Invalid(f"{name} is {order.status}; only a {needed} order can be {next_status}")
        if action == "confirm" and not _has_lines(work, order):
            raise Invalid(f"{name} has no lines; add one before confirming")
        now = utcnow()
        order.status = next_status
        setattr(order, stamp, now)
        order.updated_at = now
        work.session.flush()
        work.audit(
            "order",
            order.id,
            action,
            {"status": [needed, next_status], stamp: [None, audit.plain(now)]},
        )
        return read(work, order)


def _has_lines(work: Work, order: Order) -> bool:
    return (
        work.session.execute(
            select(col(OrderLine.id)).where(col(OrderLine.order_id) == order.id).limit(1)
        ).first()
        is not None
    )


def cancel_order(
    crm: Crm, reference: str | int, reason: str, *, expected_version: int | None = None
) -> OrderRead:
    """Cancel an order that is not paid yet; the reason is required."""
    with crm.work("orders.write") as work:
        order = fetch(work, Order, "order", reference, for_update=True)
        check_version(work, "order", order, expected_version)
        name = ref("order", order.id)
        if order.status not in CANCELLABLE:
            raise Invalid(f"{name} is {order.status} and can no longer be cancelled")
        why = clean_text(reason, "reason", limit=500, multiline=True)
        if not why:
            raise Invalid(f"say why {name} is cancelled: a reason is required")
        before = order.status
        order.status, order.cancel_reason = "cancelled", why
        order.cancelled_at = order.updated_at = utcnow()
        work.session.flush()
        work.audit(
            "order",
            order.id,
            "cancel",
            {"status": [before, "cancelled"], "cancel_reason": [None, why]},
        )
        return read(work, order)


def list_orders(
    crm: Crm,
    *,
    status: str | None = None,
    customer: str | int | None = None,
    owner: str | None = None,
    limit: int = 50,
    after: str | int | None = None,
) -> tuple[list[OrderRead], str | None]:
    """Orders, newest first, one keyset page; returns the page and where the next starts."""
    if status is not None and status not in STATUSES:
        raise Invalid(f"status is one of {', '.join(STATUSES)}, not {status!r}")
    with crm.work() as work:
        query = select(Order)
        if status:
            query = query.where(col(Order.status) == status)
        if customer is not None:
            query = query.where(col(Order.customer_id) == fetch(work, Customer, "customer", customer).id)
        if owner:
            query = query.where(col(Order.owner_id) == users.find(work, owner).id)
        if after is not None:
            query = query.where(col(Order.id) < fetch(work, Order, "order", after).id)
        rows = list(work.session.execute(query.order_by(col(Order.id).desc()).limit(limit + 1)).scalars())
        more = len(rows) > limit
        rows = rows[:limit]
        return [read(work, order) for order in rows], ref("order", rows[-1].id) if more else None
