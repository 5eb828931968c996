"""Rendering results: a rich table for people, json/jsonl/csv/ids for scripts.

Data goes to stdout and messages to stderr, so ``crm customer list -f json | jq`` sees
only data. Field names in json/jsonl/csv are the read models' names, which are stable.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from crm_tui.display import shown

# Exit codes; README's table is written from this one. Stable: scripts depend on them.
OK = 0
INTERNAL = 1
USAGE = 2
SOME_LINES_FAILED = 9
INTERRUPTED = 130
READER_GONE = 141  # as a program killed by SIGPIPE: the reader of stdout closed it (| head)


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    ids = "ids"


# (field, header); the field may be a function of the record, for computed cells.
Column = tuple[str | Callable[[Any], Any], str]

_out: Console | None = None
_err: Console | None = None


def console() -> Console:
    global _out
    if _out is None:
        _out = Console(highlight=False, soft_wrap=False)
    return _out


def error_console() -> Console:
    global _err
    if _err is None:
        _err = Console(stderr=True, highlight=False, soft_wrap=True)
    return _err


def say(message: str) -> None:
    """A message for the person at the terminal, on stderr."""
    error_console().print(message, markup=False)


def fail(message: str) -> None:
    """One error line on stderr, prefixed so it is recognisable in cron mail and logs."""
    sys.stderr.write(f"crm: error: {message}\n")
    sys.stderr.flush()


def as_dict(record: Any) -> dict[str, Any]:
    return record.model_dump(mode="json") if hasattr(record, "model_dump") else dict(record)


def cell(record: Any, field: str | Callable[[Any], Any]) -> Any:
    """The value of one column for one record."""
    return field(record) if callable(field) else getattr(record, field, None)


def money(minor_field: str) -> Callable[[Any], str]:
    """A column showing ``minor_field`` of a record as ``1,234.50 EUR``."""
    from crm_tui.logic.values.money import format_amount

    return lambda record: format_amount(getattr(record, minor_field), record.currency)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else value


class Printer:
    """Writes records one at a time in a format; tables are drawn at the end."""

    def __init__(self, fmt: Format, columns: Sequence[Column], title: str | None = None) -> None:
        self.fmt = fmt
        self.columns = columns
        self.title = title
        self.count = 0
        self._rows: list[Any] = []
        self._csv: Any = None

    def __enter__(self) -> Printer:
        if self.fmt == Format.json:
            sys.stdout.write("[")
        return self

    def add(self, record: Any) -> None:
        self.count += 1
        if self.fmt == Format.table:
            self._rows.append(record)
        elif self.fmt == Format.ids:
            sys.stdout.write(f"{getattr(record, 'ref', None) or as_dict(record).get('id')}\n")
        elif self.fmt == Format.jsonl:
            sys.stdout.write(json_line(as_dict(record)) + "\n")
        elif self.fmt == Format.json:
            text = json.dumps(as_dict(record), ensure_ascii=False, indent=2)
            sys.stdout.write(("," if self.count > 1 else "") + "\n" + _indent(text))
        else:
            data = as_dict(record)
            if self._csv is None:
                self._csv = csv.DictWriter(sys.stdout, fieldnames=list(data), lineterminator="\n")
                self._csv.writeheader()
            self._csv.writerow({key: _csv_cell(value) for key, value in data.items()})

    def __exit__(self, *exc: object) -> None:
        if self.fmt == Format.json:
            sys.stdout.write("\n]\n" if self.count else "]\n")
        elif self.fmt == Format.table and self._rows:
            table = Table(title=self.title, title_justify="left", header_style="bold")
            for _, header in self.columns:
                table.add_column(header, overflow="fold")
            for record in self._rows:
                table.add_row(*(shown(cell(record, field)) for field, _ in self.columns))
            console().print(table)
        sys.stdout.flush()


# JSON leaves these raw, yet many readers take them for line breaks: a record must stay
# on its own line whatever a customer's name holds.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_line(data: Any) -> str:
    """One record as one line of JSON, readable text kept as it is."""
    return json.dumps(data, ensure_ascii=False).translate(_LINE_BREAKS)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def print_records(
    records: Iterable[Any], fmt: Format, columns: Sequence[Column], title: str | None = None
) -> int:
    """Print every record; returns how many there were."""
    with Printer(fmt, columns, title) as printer:
        for record in records:
            printer.add(record)
    return printer.count


def print_record(record: Any, fmt: Format, fields: Sequence[Column] | None = None) -> None:
    """Print one record: a two-column table for people, one object for scripts."""
    if fmt == Format.table:
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for field, label in fields or [(name, name) for name in as_dict(record)]:
            value = cell(record, field)
            if value not in (None, "", [], {}):
                table.add_row(label, shown(value))
        console().print(table)
    elif fmt == Format.json:
        sys.stdout.write(json.dumps(as_dict(record), ensure_ascii=False, indent=2) + "\n")
    else:
        print_records([record], fmt, fields or [])


FormatOption = typer.Option(
    Format.table,
    "--format",
    "-f",
    help="Output: table for people; json, jsonl, csv or ids for scripts.",
)
