"""`crm deal ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.batch import add_from
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import Limit, crm, page_size, refuse_mixed, supplied
from crm_tui.logic.core.vocabulary import DealSort, DealStatus

app = typer.Typer(no_args_is_help=True, add_completion=False)

COLUMNS = [
    ("ref", "Ref"),
    ("title", "Deal"),
    ("customer_name", "Customer"),
    ("stage", "Stage"),
    (output.money("amount_minor"), "Amount"),
    ("probability", "%"),
    ("owner", "Owner"),
    ("expected_close", "Close"),
    ("status", "Status"),
]
DETAIL = [
    ("ref", "Ref"),
    ("title", "Deal"),
    ("customer", "Customer"),
    ("customer_name", "Customer name"),
    ("contact", "Contact"),
    (output.money("amount_minor"), "Amount"),
    (output.money("weighted_minor"), "Weighted"),
    ("pipeline", "Pipeline"),
    ("stage", "Stage"),
    ("probability", "Probability %"),
    ("status", "Status"),
    ("owner", "Owner"),
    ("expected_close", "Expected close"),
    ("closed_at", "Closed"),
    ("lost_reason", "Lost because"),
    ("source", "Source"),
    ("custom", "Custom"),
    ("created_at", "Created"),
    ("archived_at", "Archived"),
    ("version", "Version"),
]
Ref = Annotated[str, typer.Argument(help="Deal reference, like D-45.", show_default=False)]
Expected = Annotated[
    int | None,
    typer.Option("--expected-version", help="Refuse unless the deal is still at this version."),
]


def _saved(record: object, fmt: Format, message: str) -> None:
    if fmt == Format.table:
        output.console().print(message, markup=False, highlight=False)
    else:
        output.print_record(record, fmt, DETAIL)


@app.command("add")
def add(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Argument(help="Customer reference, like C-12.")] = None,
    title: Annotated[str | None, typer.Argument(help="What the deal is about.")] = None,
    amount: Annotated[str | None, typer.Option(help="Amount, like 12000 or 12000.50.")] = None,
    currency: Annotated[
        str | None, typer.Option(help="ISO code; default: the default_currency setting.")
    ] = None,
    contact: Annotated[str | None, typer.Option(help="Contact at the customer (P-7).")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Pipeline; default: the default pipeline.")] = None,
    stage: Annotated[str | None, typer.Option(help="Open stage to start in; default: the first.")] = None,
    owner: Annotated[str | None, typer.Option(help="Username; default: you.")] = None,
    close: Annotated[
        str | None, typer.Option("--close", help="Expected close: YYYY-MM-DD, +30d, friday...")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Where the deal came from.")] = None,
    field: output.CustomFields = None,
    from_file: Annotated[
        str | None,
        typer.Option("--from", help='JSON Lines (- for stdin), each with "customer" and "title".'),
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Open a deal for a customer (or many, with --from)."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.sales import deals
    from crm_tui.logic.sales.schemas import DealCreate
    from crm_tui.logic.values.dates import parse_relative_day

    if from_file is not None:
        refuse_mixed(
            from_file,
            customer=customer,
            title=title,
            amount=amount,
            currency=currency,
            contact=contact,
            pipeline=pipeline,
            stage=stage,
            owner=owner,
            close=close,
            source=source,
            field=field,
        )
        add_from(ctx, from_file, "deal", fmt, COLUMNS)
        return
    if customer is None or title is None:
        raise typer.BadParameter("give CUSTOMER and TITLE, or --from FILE", param_hint="CUSTOMER TITLE")
    given = {
        "customer": customer,
        "title": title,
        "amount": amount,
        "currency": currency,
        "contact": contact,
        "pipeline": pipeline,
        "stage": stage,
        "owner": owner,
        "source": source,
        "expected_close": parse_relative_day(close) if close else None,
        "custom": output.custom_fields(field),
    }
    created = deals.add_deal(crm(ctx), validated(DealCreate, supplied(given)))
    _saved(
        created,
        fmt,
        f"Added {created.ref} {created.title} ({created.stage}, {created.amount} {created.currency})",
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    search: Annotated[str | None, typer.Argument(help="Text in the title.")] = None,
    status: Annotated[DealStatus | None, typer.Option(help="Only deals that are open, won or lost.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
    stage: Annotated[
        str | None, typer.Option(help="Only this stage (of --pipeline, or the default).")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Only deals of this owner (me for yours).")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Only this customer's deals.")
    ] = None,
    archived: Annotated[bool, typer.Option("--archived", help="Only archived deals.")] = False,
    sort: Annotated[DealSort, typer.Option(help="Sort by updated, created or amount.")] = DealSort.updated,
    asc: Annotated[bool, typer.Option("--asc", help="Oldest or smallest first.")] = False,
    limit: Limit = None,
    after: Annotated[str | None, typer.Option(help="Continue after this deal.")] = None,
    fmt: Format = FormatOption,
) -> None:
    """List deals, most recently changed first."""
    from crm_tui.logic.sales import deals

    page = deals.list_deals(
        crm(ctx),
        status=status,
        pipeline=pipeline,
        stage=stage,
        owner=owner,
        customer=customer,
        text=search,
        archived="archived" if archived else "active",
        sort=sort,
        descending=not asc,
        limit=page_size(ctx, limit),
        after=after,
    )
    output.print_records(page.deals, fmt, COLUMNS)
    if page.next_after and fmt == Format.table:
        output.say(f"More: crm deal list --after {page.next_after} (same filters)")


@app.command("show")
def show(ctx: typer.Context, deal: Ref, fmt: Format = FormatOption) -> None:
    """Show a deal with its stage history and orders."""
    from crm_tui.logic.sales import deals

    detail = deals.deal_detail(crm(ctx), deal)
    if fmt != Format.table:
        record = detail.deal.model_dump(mode="json") | {
            "history": [change.model_dump(mode="json") for change in detail.history],
            "orders": detail.orders,
        }
        output.print_record(record, fmt)
        return
    output.print_record(detail.deal, fmt, DETAIL)
    if detail.orders:
        output.say(f"Orders: {', '.join(detail.orders)}")
    history = [("at", "When"), ("from_stage", "From"), ("to_stage", "To"), ("actor", "By")]
    output.print_records(detail.history, fmt, history, "Stage history")


@app.command("edit")
def edit(
    ctx: typer.Context,
    deal: Ref,
    title: Annotated[str | None, typer.Option()] = None,
    amount: Annotated[str | None, typer.Option()] = None,
    currency: Annotated[str | None, typer.Option()] = None,
    contact: Annotated[str | None, typer.Option(help='Contact (P-7), or "" for none.')] = None,
    owner: Annotated[str | None, typer.Option()] = None,
    close: Annotated[str | None, typer.Option("--close", help='Expected close, or "" for none.')] = None,
    source: Annotated[str | None, typer.Option()] = None,
    field: output.CustomFields = None,
    expected_version: Expected = None,
    fmt: Format = FormatOption,
) -> None:
    """Change a deal's fields."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.sales import deals
    from crm_tui.logic.sales.schemas import DealUpdate
    from crm_tui.logic.values.dates import parse_relative_day

    given: dict[str, object] = {
        "title": title,
        "amount": amount,
        "currency": currency,
        "contact": contact,
        "owner": owner,
        "source": source,
        "custom": output.custom_fields(field),
    }
    given = supplied(given)
    if close is not None:
        given["expected_close"] = parse_relative_day(close) if close.strip() else None
    updated = deals.update_deal(
        crm(ctx), deal, validated(DealUpdate, given), expected_version=expected_version
    )
    _saved(updated, fmt, f"Saved {updated.ref} {updated.title} (version {updated.version})")


@app.command("move")
def move(
    ctx: typer.Context,
    deal: Ref,
    stage: Annotated[str, typer.Argument(help="An open stage of its pipeline.")],
    expected_version: Expected = None,
    fmt: Format = FormatOption,
) -> None:
    """Move an open deal to another open stage."""
    from crm_tui.logic.sales import deals

    moved = deals.move_deal(crm(ctx), deal, stage, expected_version=expected_version)
    _saved(moved, fmt, f"{moved.ref} is now in {moved.stage} ({moved.probability} %)")


@app.command("win")
def win(
    ctx: typer.Context,
    deal: Ref,
    order: Annotated[bool, typer.Option("--order", help="Also make a draft order for its amount.")] = False,
    expected_version: Expected = None,
    fmt: Format = FormatOption,
) -> None:
    """Win a deal."""
    from crm_tui.logic.sales import deals

    won, made = deals.win_deal(crm(ctx), deal, create_order=order, expected_version=expected_version)
    _saved(won, fmt, f"Won {won.ref} {won.title}" + (f"; draft order {made.ref}" if made else ""))


@app.command("lose")
def lose(
    ctx: typer.Context,
    deal: Ref,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it was lost (required).")],
    expected_version: Expected = None,
    fmt: Format = FormatOption,
) -> None:
    """Lose a deal, saying why."""
    from crm_tui.logic.sales import deals

    lost = deals.lose_deal(crm(ctx), deal, reason, expected_version=expected_version)
    _saved(lost, fmt, f"Lost {lost.ref} {lost.title}: {lost.lost_reason}")


@app.command("reopen")
def reopen(
    ctx: typer.Context,
    deal: Ref,
    stage: Annotated[str | None, typer.Option(help="Open stage; default: the last it was in.")] = None,
    expected_version: Expected = None,
    fmt: Format = FormatOption,
) -> None:
    """Reopen a won or lost deal."""
    from crm_tui.logic.sales import deals

    opened = deals.reopen_deal(crm(ctx), deal, stage, expected_version=expected_version)
    _saved(opened, fmt, f"Reopened {opened.ref} in {opened.stage}")


@app.command("archive")
def archive(ctx: typer.Context, deal: Ref) -> None:
    """Archive a deal: out of lists and figures, kept with its history."""
    from crm_tui.logic.sales import deals

    done = deals.archive_deal(crm(ctx), deal)
    output.say(f"Archived {done.ref} {done.title}")


@app.command("restore")
def restore(ctx: typer.Context, deal: Ref) -> None:
    """Bring an archived deal back."""
    from crm_tui.logic.sales import deals

    done = deals.restore_deal(crm(ctx), deal)
    output.say(f"Restored {done.ref} {done.title}")
