"""`crm product ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.batch import add_from
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import crm, refuse_mixed, supplied

app = typer.Typer(no_args_is_help=True, add_completion=False)

COLUMNS = [
    ("sku", "SKU"),
    ("name", "Product"),
    (output.money("unit_price_minor"), "Price"),
    ("tax_rate", "Tax %"),
    ("active", "On sale"),
]
Sku = Annotated[str, typer.Argument(help="The product's SKU.", show_default=False)]


@app.command("add")
def add(
    ctx: typer.Context,
    sku: Annotated[str | None, typer.Argument(help="Stock-keeping unit: a unique code.")] = None,
    name: Annotated[str | None, typer.Argument(help="Product name.")] = None,
    price: Annotated[str | None, typer.Option(help="Unit price, like 9.99.")] = None,
    currency: Annotated[
        str | None, typer.Option(help="ISO code; default: the default_currency setting.")
    ] = None,
    tax: Annotated[str | None, typer.Option("--tax", help="Tax rate in percent, like 19.")] = None,
    from_file: Annotated[
        str | None,
        typer.Option("--from", help='JSON Lines (- for stdin), with "sku", "name", "price".'),
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Add a product to the catalogue (managers and admins)."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.sales import products
    from crm_tui.logic.sales.schemas import ProductCreate

    if from_file is not None:
        refuse_mixed(from_file, sku=sku, name=name, price=price, currency=currency, tax=tax)
        add_from(ctx, from_file, "product", fmt, COLUMNS)
        return
    if sku is None or name is None or price is None:
        raise typer.BadParameter("give SKU, NAME and --price, or --from FILE", param_hint="SKU NAME")
    given = {"sku": sku, "name": name, "price": price, "currency": currency, "tax_rate": tax}
    created = products.add_product(crm(ctx), validated(ProductCreate, supplied(given)))
    if fmt == Format.table:
        output.console().print(
            f"Added {created.sku} {created.name} at {created.price} {created.currency}",
            markup=False,
        )
    else:
        output.print_record(created, fmt, COLUMNS)


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Products off sale too.")] = False,
    fmt: Format = FormatOption,
) -> None:
    """List the catalogue."""
    from crm_tui.logic.sales import products

    output.print_records(products.list_products(crm(ctx), include_inactive=all_), fmt, COLUMNS)


@app.command("show")
def show(ctx: typer.Context, sku: Sku, fmt: Format = FormatOption) -> None:
    """Show a product."""
    from crm_tui.logic.sales import products

    output.print_record(products.get_product(crm(ctx), sku), fmt, [*COLUMNS, ("version", "Version")])


@app.command("edit")
def edit(
    ctx: typer.Context,
    sku: Sku,
    name: Annotated[str | None, typer.Option()] = None,
    price: Annotated[str | None, typer.Option()] = None,
    currency: Annotated[str | None, typer.Option()] = None,
    tax: Annotated[str | None, typer.Option("--tax")] = None,
) -> None:
    """Change a product; orders already made keep their prices."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.sales import products
    from crm_tui.logic.sales.schemas import ProductUpdate

    given = {"name": name, "price": price, "currency": currency, "tax_rate": tax}
    updated = products.update_product(crm(ctx), sku, validated(ProductUpdate, supplied(given)))
    output.say(f"Saved {updated.sku}: {updated.price} {updated.currency}, tax {updated.tax_rate} %")


@app.command("retire")
def retire(ctx: typer.Context, sku: Sku) -> None:
    """Take a product off sale; orders that have it keep it."""
    from crm_tui.logic.sales import products

    output.say(f"{products.set_active(crm(ctx), sku, False).sku} is off sale")


@app.command("offer")
def offer(ctx: typer.Context, sku: Sku) -> None:
    """Put a retired product back on sale."""
    from crm_tui.logic.sales import products

    output.say(f"{products.set_active(crm(ctx), sku, True).sku} is on sale")
