"""`crm db ...`"""

from __future__ import annotations

import typer

from crm_tui.cli import output
from crm_tui.cli.output import Format, FormatOption
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
