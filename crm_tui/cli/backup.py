"""`crm backup create|list|verify|clean` and `crm restore`: cron-ready, silent with --quiet.

Data (the new backup's path, lists, reports) goes to stdout; every failure is one line
on stderr with a non-zero exit code, and nothing ever prompts without a terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import state

app = typer.Typer(no_args_is_help=True, add_completion=False)
# A single command with no callback: the root group shows it as `crm restore`.
restore_app = typer.Typer(add_completion=False)

# A backup that fails verification exits like any invalid input; one of a newer schema
# like a database of a newer schema; an encrypted one checked without --identity like a
# missing option. The first that applies, in this order, is verify's exit code.
EXIT_CODES = {"damaged": 3, "newer schema": 8, "needs identity": 2}

DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir", "-d", help="Backup folder (default: backups in crm's data folder).", show_default=False
    ),
]
IdentityOption = Annotated[
    Path | None,
    typer.Option(
        "--identity", "-i", help="age identity file, to read encrypted backups.", show_default=False
    ),
]

LIST_COLUMNS: list[output.Column] = [
    ("created_at", "Taken"),
    ("kind", "Kind"),
    (lambda info: f"{info.size / 1_048_576:.1f} MB", "Size"),
    ("schema_version", "Schema"),
    ("encrypted", "Encrypted"),
    ("file", "File"),
]
VERIFY_COLUMNS: list[output.Column] = [
    (lambda report: "ok" if report.ok else report.state.upper(), "State"),
    ("file", "File"),
    (lambda report: report.problem or ", ".join(report.checked), "Details"),
]


@app.command("create")
def create(
    ctx: typer.Context,
    folder: DirOption = None,
    keep: Annotated[
        int | None,
        typer.Option("--keep", "-k", min=1, help="Keep only the newest N backups of this database."),
    ] = None,
    recipients: Annotated[
        list[str] | None,
        typer.Option("--encrypt-to", "-r", help="Encrypt to this age recipient (age1...); repeatable."),
    ] = None,
    quiet: output.Quiet = False,
) -> None:
    """Take a consistent, verified, compressed backup while others keep working."""
    from crm_tui.cli.progress import bars
    from crm_tui.logic.admin.backups import create_backup, open_for_backup

    # Opened at any schema version: the backup to take before `crm db upgrade` must work.
    database = open_for_backup(state(ctx).settings())
    try:
        with bars(quiet):
            made = create_backup(database, folder=folder, keep=keep, recipients=recipients or ())
    finally:
        database.close()
    if not quiet:
        sys.stdout.write(made.file + "\n")


@app.command("list")
def list_(ctx: typer.Context, folder: DirOption = None, fmt: Format = FormatOption) -> None:
    """The backups in the folder, newest first."""
    from crm_tui.logic.admin.backups import list_backups

    if not output.print_records(list_backups(folder), fmt, LIST_COLUMNS) and fmt == Format.table:
        output.say("no backups yet")


@app.command("verify")
def verify(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="The backup file to check.", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Check every backup in the folder.")] = False,
    folder: DirOption = None,
    identity: IdentityOption = None,
    fmt: Format = FormatOption,
    quiet: output.Quiet = False,
) -> None:
    """Check checksum, decompression, then integrity (a PostgreSQL dump: every row and the
    row counts) and schema version; exit 3 if damaged, 8 if of a newer schema than this
    crm's, 2 if encrypted and checked without --identity."""
    from crm_tui.cli.progress import bars
    from crm_tui.logic.admin.verification import verify_all, verify_backup

    if (file is None) == (not all_):
        raise typer.BadParameter("give one backup FILE, or --all", param_hint="FILE")
    settings = state(ctx).settings()  # the database beside which restores unpack, to clean
    with bars(quiet):
        if file is not None:
            reports = [verify_backup(file, identity=identity, settings=settings)]
        else:
            reports = verify_all(folder, identity=identity, settings=settings)
    if not quiet:
        output.print_records(reports, fmt, VERIFY_COLUMNS)
    failed = [report for report in reports if not report.ok]
    for report in failed:
        output.fail(report.problem or f"{report.file} is {report.state}")
    found = {report.state for report in failed}
    for outcome, code in EXIT_CODES.items():
        if outcome in found:
            raise typer.Exit(code)


@app.command("clean")
def clean(ctx: typer.Context, folder: DirOption = None) -> None:
    """Remove what backups, verifies and restores killed outright left behind (scratch
    folders beside the database and in the backup folder, temporary files); prints each."""
    from crm_tui.logic.admin.backups import clean_up

    removed = clean_up(state(ctx).settings(), folder)
    for path in removed:
        sys.stdout.write(path + "\n")
    output.say(f"removed {len(removed)} left behind" if removed else "nothing was left behind")


@restore_app.command("restore")
def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The backup to restore.", show_default=False)],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask; required without a terminal.")
    ] = False,
    identity: IdentityOption = None,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir", "-d", help="Where the safety backup of the current data goes.", show_default=False
        ),
    ] = None,
    recipients: Annotated[
        list[str] | None,
        typer.Option(
            "--encrypt-to",
            "-r",
            help="Encrypt the safety backup to this age recipient; repeatable "
            "(default: an encrypted backup's own recipients).",
            show_default=False,
        ),
    ] = None,
    quiet: output.Quiet = False,
) -> None:
    """Replace the database with a backup: verified first, the current data kept aside."""
    from crm_tui.cli.progress import bars
    from crm_tui.logic.admin.restores import restore_backup

    current = state(ctx)
    if not yes:
        if not sys.stdin.isatty():
            raise typer.BadParameter(
                "restoring replaces the database: pass --yes to confirm", param_hint="--yes"
            )
        if not typer.confirm(f"Replace the database with {file}?", err=True):
            raise typer.Exit(1)
    with bars(quiet):
        report = restore_backup(
            current.settings(), file, identity=identity, folder=folder, recipients=recipients or ()
        )
    if quiet:
        return
    upgraded = f", upgraded from schema {report.upgraded_from}" if report.upgraded_from else ""
    kept = f"; the previous data is in {report.safety_backup}" if report.safety_backup else ""
    output.say(f"restored {report.database} from {report.file}{upgraded}{kept}")
