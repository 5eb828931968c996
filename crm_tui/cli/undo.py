"""`crm undo [--entry N | --record REF]`: one command, registered beside the command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import MAX_NUMBER, crm

app = typer.Typer(add_completion=False)

FIELDS = [
    ("ref", "Record"),
    ("undone", "Undid"),
    ("entry", "Audit #"),
    ("summary", "Now"),
    ("version", "Version"),
]


@app.command()
def undo(
    ctx: typer.Context,
    entry: Annotated[
        int | None,
        typer.Option("--entry", min=1, max=MAX_NUMBER, help="The change with this audit # (crm audit list)."),
    ] = None,
    record: Annotated[
        str | None, typer.Option("--record", "-r", help="Your newest change to this record, like D-4.")
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Undo your newest change (a deal won, lost, reopened or moved; a ticket's status,
    resolution or closing; a task done or reopened; archiving or restoring), unless the
    record changed since. Admins may undo anyone's change by its audit #."""
    from crm_tui.logic.admin import undo as undoing

    if entry is not None and record is not None:
        raise typer.BadParameter("give --entry or --record, not both", param_hint="--record")
    opened = crm(ctx)
    result = undoing.undo_entry(opened, entry) if entry is not None else undoing.undo_last(opened, record)
    if fmt == Format.table:
        output.console().print(f"Undid {result.undone}: {result.summary}", markup=False, highlight=False)
    else:
        output.print_record(result, fmt, FIELDS)
