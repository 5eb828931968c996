"""`crm export` and `crm import`: every record out, and records in from other tools."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, NamedTuple

import typer

from crm_tui.cli import output
from crm_tui.cli.state import crm

if TYPE_CHECKING:
    from crm_tui.logic.exchange.imports import ImportSummary
    from crm_tui.logic.exchange.options import ImportOptions

REASONS_SHOWN = 10  # refused or skipped rows told on stderr; the rejects file has them all


class _Reading(NamedTuple):
    """How to read the file, and whether to say anything while doing it."""

    encoding: str
    delimiter: str | None
    quiet: bool


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
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="json or csv; vcard for contacts (vCard 4.0).")
    ] = "json",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for a full export (default: crm-export-TIMESTAMP).",
            show_default=False,
        ),
    ] = None,
    quiet: output.Quiet = False,
) -> None:
    """Export every record with stable field names (one file per table), or one table to stdout."""
    from crm_tui.cli.progress import bars
    from crm_tui.logic.exchange import exports

    if fmt == "vcard":
        _export_vcards(ctx, entity, out)
        return
    if entity is not None:
        opened = crm(ctx)
        with _whole_file(out / f"{entity}.{fmt}" if out else None) as target, bars(quiet):
            count = exports.export_table(opened, entity, fmt, target)
        if not quiet:
            output.say(f"exported {count} {entity}")
        return
    folder = out or Path(f"crm-export-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    with bars(quiet):
        report = exports.export_all(crm(ctx), folder, fmt)
    if quiet:
        return
    sys.stdout.write(report.folder + "\n")
    output.say(
        f"exported {sum(report.counts.values())} rows of {len(report.counts)} tables to {report.folder}"
    )


def _export_vcards(ctx: typer.Context, entity: str | None, out: Path | None) -> None:
    """Contacts as vCard 4.0, to stdout or to contacts.vcf in the --out folder."""
    from crm_tui.logic.exchange import vcard_export

    if entity != "contacts":
        raise typer.BadParameter("vCards hold contacts: use `crm export contacts --format vcard`")
    opened = crm(ctx)
    with _whole_file(out / "contacts.vcf" if out else None) as target:
        count, people = vcard_export.export_contacts(opened, target)
    output.say(f"exported {count} contacts and {people} person customers as vCards")


@contextmanager
def _whole_file(path: Path | None) -> Iterator[IO[str]]:
    """stdout, or ``path`` written whole and private, as a full export's files are."""
    if path is None:
        yield sys.stdout
        return
    from crm_tui.logic.exchange.exports import private_text

    with private_text(path) as target:
        yield target


def _pairs(pairs: list[str] | None, option: str, shape: str) -> dict[str, str]:
    """``A=B`` options as a dict; the last ``=`` splits, so column names may hold one."""
    found = {}
    for pair in pairs or []:
        given, sep, target = pair.rpartition("=")
        if not sep or not given.strip() or not target.strip():
            raise typer.BadParameter(f"expected {shape}, got {pair!r}", param_hint=option)
        found[given.strip()] = target.strip()
    return found


def _import(
    ctx: typer.Context,
    entity: str,
    file: str,
    rejects: Path | None,
    reading: _Reading,
    options: ImportOptions,
) -> None:
    """Run one import and report it: a progress bar on a terminal, the first ten refused
    or skipped rows with their reasons (all of them are in the rejects file), a summary
    line (none with --quiet when every row went in), and exit 9 when any was refused."""
    from dataclasses import replace

    from crm_tui.cli.progress import bars
    from crm_tui.logic.exchange.csv_files import delimiter_named, open_source
    from crm_tui.logic.exchange.imports import import_file

    delimiter = delimiter_named(reading.delimiter) if reading.delimiter is not None else None
    source = open_source(file, reading.encoding)
    if rejects is None and file != "-":
        rejects = Path(file).with_suffix(".rejected.csv")
    told = 0

    def report(line: int, reason: str) -> None:
        nonlocal told
        told += 1
        if told <= REASONS_SHOWN:
            # A skipped duplicate is news, not an error.
            (output.say if reason.startswith("skipped:") else output.fail)(f"line {line}: {reason}")

    with bars(reading.quiet):
        summary = import_file(
            crm(ctx), entity, source, options=replace(options, rejects_path=rejects, on_reject=report),
            delimiter=delimiter,
        )  # fmt: skip
    if told > REASONS_SHOWN:
        where = f" in {summary.rejects_file}" if summary.rejects_file else ""
        output.say(
            f"... and {told - REASONS_SHOWN:,} more rows refused or skipped, each with its reason{where}"
        )
    if not (reading.quiet and told == 0):
        output.say(_summary_line(entity, summary))
    if summary.refused:
        raise typer.Exit(output.SOME_LINES_FAILED)


def _summary_line(entity: str, summary: ImportSummary) -> str:
    verb = "would import" if summary.dry_run else "imported"
    unit = "cards" if summary.format == "vcard" else "rows"
    unused = "properties" if summary.format == "vcard" else "columns"
    people = f" ({summary.people} of them as person customers: no company named)" if summary.people else ""
    return (
        f"{verb} {summary.created} {entity}{people} from {summary.rows} {unit}: {summary.updated} updated, "
        f"{summary.skipped} duplicates skipped, {summary.refused} refused"
        + _read_as(summary.encoding, summary.delimiter)
        + _listed(
            "kept as custom fields", [c for c, to in summary.mapping.items() if to.startswith("custom.")]
        )
        + _listed(f"{unused} ignored", summary.ignored_columns)
        + (f"; new users: {', '.join(summary.created_users)}" if summary.created_users else "")
        + (f"; reasons in {summary.rejects_file}" if summary.rejects_file else "")
    )


def _listed(what: str, columns: list[str]) -> str:
    """``; what: A, B, C`` for up to ten columns, and how many more."""
    if not columns:
        return ""
    more = f" and {len(columns) - 10:,} more" if len(columns) > 10 else ""
    return f"; {what}: {', '.join(columns[:10])}{more}"


def _read_as(encoding: str, delimiter: str | None) -> str:
    """How the file was read, when it was not as UTF-8 with commas."""
    from crm_tui.logic.exchange.csv_files import delimiter_shown

    said = [f"read as {encoding}"] if encoding != "utf-8" else []
    if delimiter not in (None, ","):
        said.append(f"{delimiter_shown(delimiter)}-separated")
    return f"; {', '.join(said)}" if said else ""


FileArg = Annotated[str, typer.Argument(help="CSV file (- for standard input).", show_default=False)]
MapOpt = Annotated[list[str] | None, typer.Option("--map", "-m", help="COLUMN=FIELD; repeatable.")]
UnknownOpt = Annotated[
    str,
    typer.Option(
        "--unknown-columns", help="keep: columns crm has no field for become custom fields; ignore: dropped."
    ),
]
PolicyOpt = Annotated[str, typer.Option("--on-duplicate", help="skip, update or merge.")]
DryOpt = Annotated[bool, typer.Option("--dry-run", "-n", help="Check everything, store nothing.")]
UsersOpt = Annotated[bool, typer.Option("--create-users", help="Add unknown owners as sales users.")]
CustomersOpt = Annotated[bool, typer.Option("--create-customers", help="Add unknown companies.")]
RejectsOpt = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        help="Where refused rows go, with reasons (default: FILE.rejected.csv).",
        show_default=False,
    ),
]
EncodingOpt = Annotated[
    str, typer.Option("--encoding", help="The file's encoding, e.g. cp1252; auto: UTF-8 or the one found.")
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        "-d",
        help="comma, semicolon, tab, pipe or one character; default: the header's.",
        show_default=False,
    ),
]
DateOrderOpt = Annotated[
    str | None,
    typer.Option(
        "--date-order",
        help="dmy or mdy: how to read dates like 03/04/2025 (15/03 and 03/15 read alone).",
        show_default=False,
    ),
]


@import_app.command("customers")
def import_customers(
    ctx: typer.Context, file: FileArg, maps: MapOpt = None, unknown: UnknownOpt = "keep",
    policy: PolicyOpt = "skip",
    dry_run: DryOpt = False, create_users: UsersOpt = False, rejects: RejectsOpt = None,
    encoding: EncodingOpt = "auto", delimiter: DelimiterOpt = None, quiet: output.Quiet = False,
) -> None:  # fmt: skip
    """Import customers from CSV; headers of other CRMs are recognised."""
    from crm_tui.logic.exchange.options import ImportOptions

    options = ImportOptions(
        mapping=_pairs(maps, "--map", "COLUMN=FIELD"), unknown_columns=unknown,
        policy=policy, dry_run=dry_run,
        create_users=create_users,
    )  # fmt: skip
    _import(ctx, "customers", file, rejects, _Reading(encoding, delimiter, quiet), options)


@import_app.command("contacts")
def import_contacts(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(help="CSV or vCard (.vcf) file (- for standard input).", show_default=False),
    ],
    maps: MapOpt = None, unknown: UnknownOpt = "keep",
    policy: PolicyOpt = "skip", dry_run: DryOpt = False,
    create_customers: CustomersOpt = False, rejects: RejectsOpt = None, encoding: EncodingOpt = "auto",
    delimiter: DelimiterOpt = None, quiet: output.Quiet = False,
) -> None:  # fmt: skip
    """Import contacts from CSV or vCards (2.1, 3.0 or 4.0), linked to their customer by
    company name (ORG) or reference; a card naming no company is a person customer."""
    from crm_tui.logic.exchange.options import ImportOptions

    options = ImportOptions(
        mapping=_pairs(maps, "--map", "COLUMN=FIELD"), unknown_columns=unknown,
        policy=policy, dry_run=dry_run,
        create_customers=create_customers,
    )  # fmt: skip
    _import(ctx, "contacts", file, rejects, _Reading(encoding, delimiter, quiet), options)


@import_app.command("deals")
def import_deals(
    ctx: typer.Context, file: FileArg, maps: MapOpt = None, unknown: UnknownOpt = "keep",
    dry_run: DryOpt = False,
    pipelines: Annotated[
        list[str] | None,
        typer.Option("--pipeline", help="FILE_PIPELINE=PIPELINE: a pipeline of the file as one of crm's."),
    ] = None,
    stages: Annotated[
        list[str] | None,
        typer.Option("--stage", help="FILE_STAGE=STAGE: a stage of the file as one of the pipeline's."),
    ] = None,
    lost_reason: Annotated[
        str | None, typer.Option("--lost-reason", help="Reason for lost deals whose row gives none.")
    ] = None,
    default_customer: Annotated[
        str | None,
        typer.Option(
            "--default-customer", help="Customer of deals whose row names none (added if missing).",
            show_default=False,
        ),
    ] = None,
    create_users: UsersOpt = False, create_customers: CustomersOpt = False,
    date_order: DateOrderOpt = None, rejects: RejectsOpt = None, encoding: EncodingOpt = "auto",
    delimiter: DelimiterOpt = None, quiet: output.Quiet = False,
) -> None:  # fmt: skip
    """Import deals from CSV: stages and owners by name, amounts, close dates; won and
    lost deals come in closed. A deal already there (same customer and title) is skipped."""
    from crm_tui.logic.exchange.options import ImportOptions

    options = ImportOptions(
        mapping=_pairs(maps, "--map", "COLUMN=FIELD"), unknown_columns=unknown,
        dry_run=dry_run,
        pipelines=_pairs(pipelines, "--pipeline", "FILE_PIPELINE=PIPELINE"),
        stages=_pairs(stages, "--stage", "FILE_STAGE=STAGE"), lost_reason=lost_reason,
        default_customer=default_customer,
        create_users=create_users, create_customers=create_customers, date_order=date_order,
    )  # fmt: skip
    _import(ctx, "deals", file, rejects, _Reading(encoding, delimiter, quiet), options)


@import_app.command("tickets")
def import_tickets(
    ctx: typer.Context, file: FileArg, maps: MapOpt = None, unknown: UnknownOpt = "keep",
    dry_run: DryOpt = False,
    resolution: Annotated[
        str | None,
        typer.Option("--resolution", help="Resolution for resolved or closed tickets whose row gives none."),
    ] = None,
    create_users: Annotated[
        bool, typer.Option("--create-users", help="Add unknown assignees as service users.")
    ] = False,
    create_customers: CustomersOpt = False, date_order: DateOrderOpt = None,
    rejects: RejectsOpt = None, encoding: EncodingOpt = "auto", delimiter: DelimiterOpt = None,
    quiet: output.Quiet = False,
) -> None:  # fmt: skip
    """Import tickets from CSV, with SLA due times counted from each one's created date.
    A ticket already there (same customer, subject and created date) is skipped."""
    from crm_tui.logic.exchange.options import ImportOptions

    options = ImportOptions(
        mapping=_pairs(maps, "--map", "COLUMN=FIELD"), unknown_columns=unknown,
        dry_run=dry_run, resolution=resolution,
        create_users=create_users, create_customers=create_customers, date_order=date_order,
    )  # fmt: skip
    _import(ctx, "tickets", file, rejects, _Reading(encoding, delimiter, quiet), options)


@import_app.command("all")
def import_all(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="A folder written by `crm export`.", show_default=False)],
    quiet: output.Quiet = False,
) -> None:
    """Load a full export into a new, empty database: the same records, links and audit trail."""
    from crm_tui.cli.progress import bars
    from crm_tui.logic.exchange import exports

    with bars(quiet):
        counts = exports.load_export(crm(ctx), folder)
    if quiet:
        return
    output.say(f"loaded {sum(counts.values())} rows of {len(counts)} tables from {folder}")
