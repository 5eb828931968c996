"""`crm audit ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import MAX_NUMBER, Limit, crm, page_size

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def audit() -> None:
    """Who changed what, and when."""  # a callback keeps `audit` a group of commands


COLUMNS = [
    ("id", "#"),
    ("at", "When"),
    ("actor", "By"),
    ("record", "Record"),
    ("action", "Action"),
    ("changes", "Changes"),
]


@app.command("list")
def list_(
    ctx: typer.Context,
    record: Annotated[str | None, typer.Argument(help="Only this record, like C-12.")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only this kind: customer, contact, task, ...")
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only changes by this user.")] = None,
    before: Annotated[
        int | None, typer.Option(min=1, max=MAX_NUMBER, help="Continue with entries older than this #.")
    ] = None,
    limit: Limit = None,
    fmt: Format = FormatOption,
) -> None:
    """The audit trail, newest first (admins and managers)."""
    from crm_tui.logic.reports.audit_trail import list_entries

    entries = list_entries(
        crm(ctx),
        record=record,
        entity=kind,
        actor=actor,
        before_id=before,
        limit=page_size(ctx, limit),
    )
    output.print_records(entries, fmt, COLUMNS)
