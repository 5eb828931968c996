"""`crm db ...`"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.output import Format, FormatOption, print_record, print_records
from crm_tui.cli.state import state

app = typer.Typer(no_args_is_help=True, add_completion=False)

FIELDS = [
    ("location", "Database"),
    ("backend", "Backend"),
    ("schema_version", "Schema"),
    ("code_schema_version", "This crm's schema"),
    ("message", "State"),
]


@app.command("status")
def status(ctx: typer.Context, fmt: Format = FormatOption) -> None:
    """Where the database is and whether its schema matches this crm."""
    from crm_tui.logic.admin.database import database_status

    output.print_record(database_status(state(ctx).settings()), fmt, FIELDS)


@app.command("upgrade")
def upgrade(ctx: typer.Context, quiet: output.Quiet = False) -> None:
    """Upgrade the database's schema to this crm's (take a backup first)."""
    from crm_tui.cli.progress import bars
    from crm_tui.logic.admin.database import upgrade_database

    with bars(quiet):
        result = upgrade_database(state(ctx).settings())
    if not quiet:
        output.say(f"{result.location}: schema {result.schema_version}, {result.message}")


@app.command("reindex")
def reindex(ctx: typer.Context, quiet: output.Quiet = False) -> None:
    """Rebuild the search index and the board's stage totals from the data (for repairs)."""
    from crm_tui.cli.progress import bars
    from crm_tui.cli.state import crm
    from crm_tui.logic.customers.search import reindex as rebuild

    with bars(quiet):
        documents, deals = rebuild(crm(ctx))
    if not quiet:
        output.say(f"search index rebuilt: {documents} documents; stage totals rebuilt: {deals} active deals")


COPY_COLUMNS = [
    ("table", "Table"),
    ("rows", "Rows"),
    ("source_checksum", "Checksum read"),
    ("target_checksum", "Checksum stored"),
]


@app.command("copy")
def copy(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="Where to copy the data: a postgresql:// URL, or a SQLite file's path.",
            show_default=False,
        ),
    ],
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Replace a target's crm data (after a safety backup of it)."),
    ] = False,
    folder: Annotated[
        Path | None,
        typer.Option("--dir", "-d", help="Where the safety backup goes.", show_default=False),
    ] = None,
    fmt: Format = FormatOption,
    quiet: output.Quiet = False,
) -> None:
    """Copy this database's data into another, SQLite or PostgreSQL, in one transaction:
    each table's row count and checksum are compared on both sides before it commits."""
    from crm_tui.cli.progress import bars
    from crm_tui.logic.admin.copies import copy_database

    with bars(quiet):
        report = copy_database(state(ctx).settings(), to, replace=replace, folder=folder)
    if fmt == Format.json:
        print_record(report, fmt)
    elif not quiet:
        print_records(report.tables, fmt, COPY_COLUMNS)
    if quiet:
        return
    kept = f"; its previous data is in {report.safety_backup}" if report.safety_backup else ""
    output.say(
        f"copied {report.rows:,} rows of {len(report.tables)} tables "
        f"from {report.source} to {report.target}: "
        f"every table's rows and checksum are equal on both sides{kept}"
    )
