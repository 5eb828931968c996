"""`crm order ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.batch import add_from
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import MAX_NUMBER, Limit, crm, page_size, refuse_mixed, supplied
from crm_tui.logic.core.vocabulary import OrderStatus

app = typer.Typer(no_args_is_help=True, add_completion=False)
line_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Add and remove lines of a draft order."
)
app.add_typer(line_app, name="line")

COLUMNS = [
    ("ref", "Ref"),
    ("customer_name", "Customer"),
    ("deal", "Deal"),
    ("status", "Status"),
    (output.money("net_minor"), "Net"),
    (output.money("total_minor"), "Total"),
    ("owner", "Owner"),
    ("created_at", "Created"),
]
DETAIL = [
    ("ref", "Ref"),
    ("customer", "Customer"),
    ("customer_name", "Customer name"),
    ("deal", "Deal"),
    ("owner", "Owner"),
    ("status", "Status"),
    (output.money("net_minor"), "Net"),
    (output.money("tax_minor"), "Tax"),
    (output.money("total_minor"), "Total"),
    ("cancel_reason", "Cancelled because"),
    ("created_at", "Created"),
    ("confirmed_at", "Confirmed"),
    ("fulfilled_at", "Fulfilled"),
    ("paid_at", "Paid"),
    ("cancelled_at", "Cancelled"),
    ("version", "Version"),
]
Ref = Annotated[str, typer.Argument(help="Order reference, like O-3.", show_default=False)]
Expected = Annotated[
    int | None,
    typer.Option("--expected-version", help="Refuse unless the order is still at this version."),
]


def _show(order, fmt: Format) -> None:
    if fmt != Format.table:
        output.print_record(order, fmt)
        return
    output.print_record(order, fmt, DETAIL)
    from crm_tui.logic.values.money import format_amount

    lines = [
        ("position", "#"),
        ("product", "SKU"),
        ("description", "Line"),
        ("quantity", "Qty"),
        (lambda line: format_amount(line.unit_price_minor, order.currency), "Unit price"),
        ("discount", "Discount %"),
        ("tax_rate", "Tax %"),
        (lambda line: format_amount(line.net_minor, order.currency), "Net"),
    ]
    output.print_records(order.lines, fmt, lines, "Lines")


def _line(spec: str) -> dict[str, str]:
    sku, _, quantity = spec.partition(":")
    return {"product": sku.strip(), "quantity": quantity.strip() or "1"}


@app.command("add")
def add(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Argument(help="Customer reference, like C-12.")] = None,
    deal: Annotated[str | None, typer.Option(help="The won deal this order comes from (D-45).")] = None,
    currency: Annotated[
        str | None, typer.Option(help="ISO code; default: the deal's, or the setting.")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Username; default: the deal's owner, or you.")] = None,
    line: Annotated[
        list[str] | None, typer.Option("--line", help="A product line SKU or SKU:QTY (repeatable).")
    ] = None,
    from_file: Annotated[
        str | None, typer.Option("--from", help='JSON Lines (- for stdin): "customer" and "lines".')
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Start a draft order (or many, with --from)."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.sales import orders
    from crm_tui.logic.sales.schemas import OrderCreate

    if from_file is not None:
        refuse_mixed(from_file, customer=customer, deal=deal, currency=currency, owner=owner, line=line)
        add_from(ctx, from_file, "order", fmt, COLUMNS)
        return
    if customer is None:
        raise typer.BadParameter("give CUSTOMER, or --from FILE", param_hint="CUSTOMER")
    given = {
        "customer": customer,
        "deal": deal,
        "currency": currency,
        "owner": owner,
        "lines": [_line(s) for s in line or []],
    }
    created = orders.add_order(crm(ctx), validated(OrderCreate, supplied(given)))
    if fmt == Format.table:
        output.console().print(
            f"Added draft {created.ref} for {created.customer_name}: {created.total} {created.currency}",
            markup=False,
        )
    else:
        output.print_record(created, fmt)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[OrderStatus | None, typer.Option(help="Only orders with this status.")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Only this customer's orders.")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Only orders of this owner (me for yours).")] = None,
    limit: Limit = None,
    after: Annotated[str | None, typer.Option(help="Continue after this order.")] = None,
    fmt: Format = FormatOption,
) -> None:
    """List orders, newest first."""
    from crm_tui.logic.sales import orders

    found, more = orders.list_orders(
        crm(ctx),
        status=status,
        customer=customer,
        owner=owner,
        limit=page_size(ctx, limit),
        after=after,
    )
    output.print_records(found, fmt, COLUMNS)
    if more and fmt == Format.table:
        output.say(f"More: crm order list --after {more} (same filters)")


@app.command("show")
def show(ctx: typer.Context, order: Ref, fmt: Format = FormatOption) -> None:
    """Show an order with its lines and totals."""
    from crm_tui.logic.sales import orders

    _show(orders.get_order(crm(ctx), order), fmt)


@line_app.command("add")
def line_add(
    ctx: typer.Context,
    order: Ref,
    product: Annotated[str | None, typer.Option(help="SKU; price and tax come from the product.")] = None,
    description: Annotated[str | None, typer.Option(help="Text of the line (a free line needs one).")] = None,
    quantity: Annotated[str, typer.Option(help="How many, like 3 or 1.5.")] = "1",
    price: Annotated[str | None, typer.Option(help="Unit price; default: the product's.")] = None,
    discount: Annotated[str | None, typer.Option(help="Discount in percent, like 10.")] = None,
    tax: Annotated[
        str | None, typer.Option("--tax", help="Tax rate in percent; default: the product's.")
    ] = None,
    expected_version: Expected = None,
    fmt: Format = FormatOption,
) -> None:
    """Add a line to a draft order."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.sales import orders
    from crm_tui.logic.sales.schemas import LineCreate

    given = {
        "product": product,
        "description": description,
        "quantity": quantity,
        "unit_price": price,
        "discount": discount,
        "tax_rate": tax,
    }
    data = validated(LineCreate, supplied(given))
    _show(orders.add_line(crm(ctx), order, data, expected_version=expected_version), fmt)


@line_app.command("remove")
def line_remove(
    ctx: typer.Context,
    order: Ref,
    position: Annotated[int, typer.Argument(min=1, max=MAX_NUMBER, help="Line number.", show_default=False)],
    expected_version: Expected = None,
    fmt: Format = FormatOption,
) -> None:
    """Remove a line from a draft order."""
    from crm_tui.logic.sales import orders

    _show(orders.remove_line(crm(ctx), order, position, expected_version=expected_version), fmt)


def _advance(ctx: typer.Context, order: str, action: str, expected_version: int | None) -> None:
    from crm_tui.logic.sales import orders

    done = orders.advance(crm(ctx), order, action, expected_version=expected_version)
    output.say(f"{done.ref} is {done.status}")


@app.command("confirm")
def confirm(ctx: typer.Context, order: Ref, expected_version: Expected = None) -> None:
    """Confirm a draft order (it needs a line)."""
    _advance(ctx, order, "confirm", expected_version)


@app.command("fulfil")
def fulfil(ctx: typer.Context, order: Ref, expected_version: Expected = None) -> None:
    """Mark a confirmed order as delivered."""
    _advance(ctx, order, "fulfil", expected_version)


@app.command("pay")
def pay(ctx: typer.Context, order: Ref, expected_version: Expected = None) -> None:
    """Mark a fulfilled order as paid."""
    _advance(ctx, order, "pay", expected_version)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    order: Ref,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (required).")],
    expected_version: Expected = None,
) -> None:
    """Cancel an order that is not paid yet."""
    from crm_tui.logic.sales import orders

    done = orders.cancel_order(crm(ctx), order, reason, expected_version=expected_version)
    output.say(f"{done.ref} is cancelled: {done.cancel_reason}")
