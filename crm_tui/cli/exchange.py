"""`crm export` and `crm import`: every record out, and records in from other tools."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.state import crm

# A single command with no callback: the root group shows it as `crm export`.
export_app = typer.Typer(add_completion=False)
import_app = typer.Typer(no_args_is_help=True, add_completion=False)


@export_app.command("export")
def export(
    ctx: typer.Context,
    entity: Annotated[
        str | None,
        typer.Argument(help="One table (customers, contacts, ...); default: everything.", show_default=False),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="json or csv.")] = "json",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for a full export (default: crm-export-TIMESTAMP).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Export every record with stable field names (one file per table), or one table to stdout."""
    from crm_tui.logic import exports

    if entity is not None:
        target = (out / f"{entity}.{fmt}").open("w", encoding="utf-8", newline="") if out else sys.stdout
        count = exports.export_table(crm(ctx), entity, fmt, target)
        if target is not sys.stdout:
            target.close()
        output.say(f"exported {count} {entity}")
        return
    folder = out or Path(f"crm-export-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    report = exports.export_all(crm(ctx), folder, fmt)
    sys.stdout.write(report.folder + "\n")
    output.say(
        f"exported {sum(report.counts.values())} rows of {len(report.counts)} tables to {report.folder}"
    )


def _mapping(pairs: list[str] | None) -> dict[str, str]:
    mapping = {}
    for pair in pairs or []:
        column, sep, target = pair.rpartition("=")
        if not sep or not column.strip() or not target.strip():
            raise typer.BadParameter(f"expected COLUMN=FIELD, got {pair!r}", param_hint="--map")
        mapping[column.strip()] = target.strip()
    return mapping


def _import(
    ctx: typer.Context, entity: str, file: str, maps: list[str] | None, policy: str, dry_run: bool,
    create_users: bool, create_customers: bool, rejects: Path | None, encoding: str,
) -> None:  # fmt: skip
    from crm_tui.logic.imports import import_csv, open_source

    source, name = open_source(file, encoding)
    if rejects is None and file != "-":
        rejects = Path(file).with_suffix(".rejected.csv")
    shown = 0

    def report(line: int, reason: str) -> None:
        nonlocal shown
        shown += 1
        if shown <= 20:
            # A skipped duplicate is news, not an error.
            (output.say if reason.startswith("skipped:") else output.fail)(f"line {line}: {reason}")

    try:
        summary = import_csv(
            crm(ctx), entity, source, name, mapping=_mapping(maps), policy=policy, dry_run=dry_run,
            create_users=create_users, create_customers=create_customers, rejects_path=rejects,
            on_reject=report,
        )  # fmt: skip
    finally:
        if source is not sys.stdin:
            source.close()
    verb = "would import" if dry_run else "imported"
    output.say(
        f"{verb} {summary.created} {entity} from {summary.rows} rows: {summary.updated} updated, "
        f"{summary.skipped} duplicates skipped, {summary.rejected - summary.skipped} refused"
        + (f"; columns ignored: {', '.join(summary.ignored_columns[:10])}" if summary.ignored_columns else "")
        + (f"; new users: {', '.join(summary.created_users)}" if summary.created_users else "")
        + (f"; reasons in {summary.rejects_file}" if summary.rejects_file else "")
    )
    if summary.rejected - summary.skipped:
        raise typer.Exit(output.SOME_LINES_FAILED)


FileArg = Annotated[str, typer.Argument(help="CSV file (- for standard input).", show_default=False)]
MapOpt = Annotated[list[str] | None, typer.Option("--map", "-m", help="COLUMN=FIELD; repeatable.")]
PolicyOpt = Annotated[str, typer.Option("--on-duplicate", help="skip, update or merge.")]
DryOpt = Annotated[bool, typer.Option("--dry-run", "-n", help="Check everything, store nothing.")]
UsersOpt = Annotated[bool, typer.Option("--create-users", help="Add unknown owners as sales users.")]
RejectsOpt = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        help="Where refused rows go, with reasons (default: FILE.rejected.csv).",
        show_default=False,
    ),
]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="The file's encoding, e.g. cp1252.")]


@import_app.command("customers")
def import_customers(
    ctx: typer.Context, file: FileArg, maps: MapOpt = None, policy: PolicyOpt = "skip",
    dry_run: DryOpt = False, create_users: UsersOpt = False, rejects: RejectsOpt = None,
    encoding: EncodingOpt = "utf-8",
) -> None:  # fmt: skip
    """Import customers from CSV; headers of other CRMs are recognised."""
    _import(ctx, "customers", file, maps, policy, dry_run, create_users, False, rejects, encoding)


@import_app.command("contacts")
def import_contacts(
    ctx: typer.Context, file: FileArg, maps: MapOpt = None, policy: PolicyOpt = "skip",
    dry_run: DryOpt = False,
    create_customers: Annotated[
        bool, typer.Option("--create-customers", help="Add unknown companies.")
    ] = False,
    rejects: RejectsOpt = None, encoding: EncodingOpt = "utf-8",
) -> None:  # fmt: skip
    """Import contacts from CSV, linked to their customer by company name or reference."""
    _import(ctx, "contacts", file, maps, policy, dry_run, False, create_customers, rejects, encoding)


@import_app.command("all")
def import_all(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="A folder written by `crm export`.", show_default=False)],
) -> None:
    """Load a full export into a new, empty database: the same records, links and audit trail."""
    from crm_tui.logic import exports

    counts = exports.load_export(crm(ctx), folder)
    output.say(f"loaded {sum(counts.values())} rows of {len(counts)} tables from {folder}")
