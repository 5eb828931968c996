"""`crm note ...`: the customer timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.batch import add_from
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import Limit, crm, page_size, refuse_mixed
from crm_tui.logic.core.vocabulary import ActivityKind

app = typer.Typer(no_args_is_help=True, add_completion=False)

COLUMNS = [
    ("occurred_at", "When"),
    ("kind", "Kind"),
    ("author", "By"),
    ("subject", "Subject"),
    ("body", "Text"),
]


@app.command("add")
def add(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Argument(help="Customer reference, like C-12.")] = None,
    text: Annotated[str | None, typer.Argument(help="The note (- reads it from stdin).")] = None,
    kind: Annotated[ActivityKind, typer.Option(help="note, call, email or meeting.")] = ActivityKind.note,
    subject: Annotated[str | None, typer.Option(help="A subject line.")] = None,
    at: Annotated[
        datetime | None, typer.Option("--at", help="When it happened (local time); default now.")
    ] = None,
    from_file: Annotated[
        str | None,
        typer.Option("--from", help='JSON Lines (- for stdin), each with "customer" and "body".'),
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Add a note, call, email or meeting to a customer's timeline."""
    import sys

    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.customers import timeline
    from crm_tui.logic.customers.schemas import ActivityCreate

    if from_file is not None:
        refuse_mixed(from_file, customer=customer, text=text, subject=subject, at=at)
        add_from(ctx, from_file, "note", fmt, COLUMNS)
        return
    if customer is None:
        raise typer.BadParameter("give CUSTOMER and TEXT, or --from FILE", param_hint="CUSTOMER")
    body = sys.stdin.read() if text == "-" else text or ""
    data = validated(
        ActivityCreate,
        {"customer": customer, "body": body, "kind": kind, "subject": subject, "occurred_at": at},
    )
    created = timeline.add_activity(crm(ctx), data)
    if fmt == Format.table:
        output.console().print(f"Added {created.kind} {created.ref} to {created.customer}", markup=False)
    else:
        output.print_record(created, fmt, COLUMNS)


@app.command("list")
def list_(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="Customer reference, like C-12.", show_default=False)],
    limit: Limit = None,
    before: Annotated[
        str | None, typer.Option(help="Continue with entries older than this one (N-..).")
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """A customer's timeline, newest first."""
    from crm_tui.logic.customers import timeline

    output.print_records(
        timeline.timeline(crm(ctx), customer, limit=page_size(ctx, limit), before=before),
        fmt,
        [("ref", "Ref"), *COLUMNS],
    )
