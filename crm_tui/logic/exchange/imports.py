"""Importing customers, contacts, deals and tickets from files written by other tools.

- A CSV file is read in the encoding and with the delimiter it has, and checked whole
  before anything is stored (``csv_files.py``).
- CSV columns are matched to fields by their header, ignoring case, spaces and
  punctuation, with the names other tools use ("Company Name", "E-mail Address",
  "Deal Stage", "Close Date", ...); ``--map COLUMN=FIELD`` overrides, and ``custom.KEY``
  stores a column as a custom field. Every other column is kept as a custom field of
  its header's name, unless ``--unknown-columns ignore`` (``headers.py``). Contacts may
  come as vCards instead (``vcard.py``), recognised by the file's extension or its
  first line.
- Every row goes through the same rules as one typed in (cleaning, duplicates, audit),
  and is stored as `crm deal add` or `crm ticket add` would store it: checked, owned,
  priced and given SLA due times. The rows of a batch are checked first, with what they
  name looked up once; those that pass go in with one statement a table (``bulk.py``).
  Contacts are cleaned in a second process while the batch before them is written
  (``cleaning.py``).
- Good rows go in one transaction per batch, so a run stopped halfway leaves whole
  batches only; each refused row is reported with its line and reason.
- Duplicates are skipped (the default), updated (the file wins) or merged (only empty
  fields are filled in); contacts, deals and tickets are only ever skipped.
- A dry run does all of it in transactions that are rolled back (``runner.py``).

Deals and tickets carry their history along:

- A deal's pipeline and stage are named as in crm (any case or spacing), or mapped
  with ``--pipeline FROM=TO`` and ``--stage FROM=TO``; "Closed Won" and "Closed Lost"
  mean the pipeline's won and lost stages. A deal in a won or lost stage is opened and
  then closed the way `crm deal win` and `crm deal lose` close it (a lost deal needs a reason: its row's
  or ``--lost-reason``), at its closed date (else its close date, else now).
- A ticket opened at its file's created date gets the due times its priority's SLA
  policy gives from that moment; a resolved or closed one needs a resolution (its
  row's or ``--resolution``) and is resolved at its closed date (else now).
- Changing a record's dates to the file's is its own audit entry ("import"), after
  the entries the record's creation and closing wrote, so the trail tells both.

This module is the way in; each kind of record has its importer (``customer_import``,
``contact_import``, ``deal_import``, ``ticket_import``), and ``options.ImportOptions``
says what an import is asked to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from crm_tui.logic.core.context import Crm
from crm_tui.logic.core.errors import Invalid, quoted
from crm_tui.logic.core.schemas import Output
from crm_tui.logic.exchange import vcard
from crm_tui.logic.exchange.contact_import import ContactCleaning, import_contacts
from crm_tui.logic.exchange.csv_files import (
    SourceFile,
    check_shape,
    delimiter_shown,
    extra_cells,
    read_rows,
    sniff_delimiter,
)
from crm_tui.logic.exchange.customer_import import import_customers
from crm_tui.logic.exchange.deal_import import import_deals
from crm_tui.logic.exchange.headers import HEADERS, cell_values, map_columns
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.logic.exchange.runner import BATCH_SIZE, AddRows, Job, Row, Tally, run_rows
from crm_tui.logic.exchange.ticket_import import import_tickets

__all__ = ["ImportOptions", "ImportSummary", "import_csv", "import_file", "import_vcards"]

# The function that adds a batch of each kind of record, looked up as each run starts.
IMPORTERS: dict[str, AddRows] = {
    "customers": import_customers,
    "contacts": import_contacts,
    "deals": import_deals,
    "tickets": import_tickets,
}
PERMISSIONS = {
    "customers": "customers.write",
    "contacts": "customers.write",
    "deals": "deals.write",
    "tickets": "tickets.write",
}
_VCARD_MAPPING = {"FN (or N)": "name", "ORG": "customer", "TITLE": "title", "EMAIL": "email",
                  "TEL": "phone", "TEL;TYPE=cell": "mobile"}  # fmt: skip


class ImportSummary(Output):
    """What an import did, or would do on a dry run."""

    entity: str
    format: str = "csv"
    rows: int
    created: int
    updated: int
    skipped: int  # duplicates of records crm has (or of earlier rows), left as they are
    refused: int  # rows that broke a rule, each with its reason; not counted in skipped
    people: int = 0  # of the created, person customers: vCards that name no company
    dry_run: bool
    mapping: dict[str, str]
    ignored_columns: list[str]
    created_users: list[str]
    rejects_file: str | None
    encoding: str  # what the file was read as: utf-8, or the one found or given
    delimiter: str | None = None  # a CSV file's


def import_file(
    crm: Crm,
    entity: str,
    source: SourceFile | IO[str],
    name: str | None = None,
    options: ImportOptions | None = None,
    *,
    delimiter: str | None = None,
) -> ImportSummary:
    """Import ``source`` as ``entity``: vCards for contacts when the file is named .vcf
    or .vcard or opens with BEGIN:VCARD, CSV otherwise (see ``import_csv``)."""
    options = options or ImportOptions()
    _check_rejects_path(options.rejects_path)
    if not isinstance(source, SourceFile):
        source = SourceFile.of_lines(name or "standard input", source)
    is_vcard = Path(source.name).suffix.lower() in (".vcf", ".vcard") or vcard.looks_like_vcard(
        source.first_line()
    )
    if not is_vcard:
        return import_csv(crm, entity, source, source.name, options, delimiter=delimiter)
    if entity != "contacts":
        raise Invalid(f"{source.name} holds vCards, which are contacts: use `crm import contacts`")
    if options.mapping:
        raise Invalid("--map names CSV columns; a vCard's properties are read as they are")
    if delimiter is not None:
        raise Invalid("--delimiter is for CSV files; a vCard's lines are read as they are")
    return import_vcards(crm, source.lines(), source.name, options, encoding=source.encoding)


def _check_rejects_path(path: Path | None) -> None:
    """Refuse a rejects file that cannot be written before any row is stored: it is
    opened only at the first refused row, when earlier batches are in."""
    if path is None:
        return
    if path.is_dir():
        raise Invalid(f"cannot write rejected rows to {path}: it is a folder")
    if not path.parent.is_dir():
        raise Invalid(f"cannot write rejected rows to {path}: folder {path.parent} does not exist")


def import_csv(
    crm: Crm,
    entity: str,
    source: SourceFile | Iterable[str],
    name: str,
    options: ImportOptions | None = None,
    *,
    delimiter: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import ``source`` (CSV) as ``entity`` (customers, contacts, deals or tickets),
    checked whole before the first row is stored; see the module's rules."""
    if entity not in HEADERS:
        raise Invalid(f"cannot import {quoted(entity)} from CSV: choose {', '.join(HEADERS)}")
    options = options or ImportOptions()
    if not isinstance(source, SourceFile):
        source = SourceFile.of_lines(name, source)
    delimiter = delimiter or sniff_delimiter(source.first_line())
    total = check_shape(source, delimiter)
    header, body = read_rows(source.lines(), name, delimiter)
    given = frozenset({"customer"} if entity == "deals" and options.default_customer else ())
    keep = options.unknown_columns == "keep"
    columns, ignored = map_columns(entity, header, dict(options.mapping), given, keep_unknown=keep)
    rows = (_row(line, cells, columns, len(header), delimiter) for line, cells in body)
    tally = run_rows(crm, _job(entity, header, options), rows, batch_size, total)
    mapping = {header[index]: target for index, target in sorted(columns.items())}
    return _summary(entity, options, tally, "csv", mapping, ignored, source.encoding, delimiter)


def _row(line: int, cells: list[str], columns: dict[int, str], width: int, delimiter: str) -> Row:
    """A row's values, or its refusal when it has more cells than the header: its
    values would be read from the wrong columns."""
    if extra_cells(cells, width):
        return Row(line, cells, {}, (
            f"{len(cells)} cells where the header names {width} columns: "
            f"quote the cells that hold the delimiter ({delimiter_shown(delimiter)})"
        ))  # fmt: skip
    return Row(line, cells, cell_values(cells, columns))


def import_vcards(
    crm: Crm, source: Iterable[str], name: str, options: ImportOptions | None = None, *,
    batch_size: int = BATCH_SIZE, encoding: str = "text",
) -> ImportSummary:  # fmt: skip
    """Import contacts from vCards: FN (or N) is the name, ORG the customer, TITLE, the
    first EMAIL, TEL as the phone and TEL;TYPE=cell as the mobile (preferred ones first),
    the rest of the card custom fields; a card naming no company is a person customer.
    A card that cannot be read is refused with its line; the others go in."""
    options = options or ImportOptions()
    unused: set[str] = set()
    rows = _card_rows(source, name, unused)
    tally = run_rows(crm, _job("contacts", ["card"], options), rows, batch_size)
    return _summary("contacts", options, tally, "vcard", _VCARD_MAPPING, sorted(unused), encoding)


def _card_rows(source: Iterable[str], name: str, unused: set[str]) -> Iterator[Row]:
    """A row for each card, refused with its line when it cannot be read or names no
    company; the properties crm does not keep are added to ``unused`` as the cards go by."""
    for card in vcard.read_cards(source, name):
        if card.error is not None:
            yield Row(card.error_line or card.line, [card.text], {}, card.error)
            continue
        unused.update(vcard.unused_properties(card))
        try:
            values = vcard.contact_values(card)
            if "customer" not in values:  # a person of their own: a person customer
                values["person"] = True
        except Invalid as exc:
            yield Row(card.line, [card.text], {}, str(exc))
        else:
            yield Row(card.line, [card.text], values)


def _job(entity: str, header: list[str], options: ImportOptions) -> Job:
    preparer = ContactCleaning if entity == "contacts" else None
    return Job(entity, header, PERMISSIONS[entity], IMPORTERS[entity], options, preparer)


def _summary(
    entity: str, options: ImportOptions, tally: Tally, fmt: str, mapping: dict[str, str], ignored: list[str],
    encoding: str, delimiter: str | None = None,
) -> ImportSummary:  # fmt: skip
    return ImportSummary(
        entity=entity, format=fmt, rows=tally.rows, created=tally.created, updated=tally.updated,
        skipped=tally.skipped, refused=tally.refused, people=tally.people, dry_run=options.dry_run,
        mapping=mapping,
        ignored_columns=ignored, created_users=tally.new_users, rejects_file=tally.rejects_file,
        encoding=_encoding_shown(encoding), delimiter=delimiter,
    )  # fmt: skip


def _encoding_shown(codec: str) -> str:
    return {"utf-8-sig": "utf-8", "text": "utf-8"}.get(codec, codec)
