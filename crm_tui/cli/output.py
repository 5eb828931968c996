"""Rendering results: a rich table for people, json/jsonl/csv/ids for scripts.

Data goes to stdout and messages to stderr, so ``crm customer list -f json | jq`` sees
only data. Field names in json/jsonl/csv are the read models' names, which are stable.
Whatever reaches a terminal shows control characters as ``\\x1b`` rather than obeying
them, so a record (even one stored before crm refused them) cannot retitle, recolour
or write the clipboard of the terminal it is printed on.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import IO, Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from crm_tui.display import shown
from crm_tui.logic.values.spreadsheet import inert

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

# The control characters a terminal obeys (escape sequences, carriage returns,
# backspaces, C1 codes); line breaks and tabs are kept in text, not in a one-line message.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def visible(text: str, *, one_line: bool = False) -> str:
    """``text`` safe to print on a terminal: each control character written out as
    Python writes it (``\\x1b``, ``\\r``); line breaks and tabs kept unless ``one_line``."""
    return (_CONTROL_IN_A_LINE if one_line else _CONTROL).sub(_written_out, text)


def _written_out(control: re.Match[str]) -> str:
    return control.group().encode("unicode_escape").decode("ascii")


class _WholePieces:
    """What a console writes to: stdout or stderr as they are now, in pieces a pipe takes
    whole. One write larger than a pipe holds, cut short because its reader went away
    while it waited (`crm customer list | head -1`), is reported as partly done, and
    Python's streams then drop the rest without an error; a piece at a time, the next
    piece finds the pipe closed, and the command ends with READER_GONE."""

    PIECE = 1024  # characters: at most 4 KiB of UTF-8, PIPE_BUF, which a pipe writes whole

    def __init__(self, name: str) -> None:
        self._name = name

    def write(self, text: str) -> int:
        stream = getattr(sys, self._name)
        for start in range(0, len(text), self.PIECE):
            stream.write(text[start : start + self.PIECE])
            stream.flush()
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(getattr(sys, self._name), name)


class _Terminal(Console):
    """A rich Console that prints text as it is given (no markup, no emoji codes) with
    its control characters made visible, and that stops the command when the reader of
    its output has gone (the command then ends with READER_GONE)."""

    def __init__(self, stream: str, **options: Any) -> None:
        pieces = cast(IO[str], _WholePieces(stream))
        super().__init__(file=pieces, markup=False, emoji=False, highlight=False, **options)

    def render_str(self, text: str, **options: Any) -> Any:
        return super().render_str(visible(text), **options)

    def on_broken_pipe(self) -> None:
        # rich's own answer is SystemExit(1); the command's runner turns this into 141.
        self.quiet = True
        raise BrokenPipeError


_out: Console | None = None
_err: Console | None = None


def console() -> Console:
    global _out
    if _out is None:
        _out = _Terminal("stdout", soft_wrap=False)
    return _out


def error_console() -> Console:
    global _err
    if _err is None:
        _err = _Terminal("stderr", soft_wrap=True)
    return _err


def say(message: str) -> None:
    """A message for the person at the terminal, on stderr."""
    error_console().print(message, markup=False)


def fail(message: str) -> None:
    """One error line on stderr, prefixed so it is recognisable in cron mail and logs."""
    sys.stderr.write(f"crm: error: {visible(message, one_line=True)}\n")
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
    """A value as a CSV cell: lists joined with "; ", objects as JSON, and text that a
    spreadsheet would run as a formula made inert, as `crm export` makes it."""
    if isinstance(value, list):
        value = "; ".join(str(item) for item in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else inert(value) if isinstance(value, str) else value


def _on_terminal(value: Any) -> Any:
    """A CSV cell as a terminal shows it; CSV for a file or a pipe is left as stored."""
    return visible(value) if isinstance(value, str) else value


class Printer:
    """Writes records one at a time in a format; tables are drawn at the end."""

    def __init__(self, fmt: Format, columns: Sequence[Column], title: str | None = None) -> None:
        self.fmt = fmt
        self.columns = columns
        self.title = title
        self.count = 0
        self._rows: list[Any] = []
        self._csv: Any = None
        self._shown: Callable[[Any], Any] = _on_terminal if sys.stdout.isatty() else lambda value: value

    def __enter__(self) -> Printer:
        if self.fmt == Format.json:
            sys.stdout.write("[")
        return self

    def add(self, record: Any) -> None:
        self.count += 1
        if self.fmt == Format.table:
            self._rows.append(record)
        elif self.fmt == Format.ids:
            sys.stdout.write(f"{_identity(record)}\n")
        elif self.fmt == Format.jsonl:
            sys.stdout.write(json_line(as_dict(record)) + "\n")
        elif self.fmt == Format.json:
            text = json_text(as_dict(record), indent=2)
            sys.stdout.write(("," if self.count > 1 else "") + "\n" + _indent(text))
        else:
            data = as_dict(record)
            if self._csv is None:
                self._csv = csv.DictWriter(sys.stdout, fieldnames=list(data), lineterminator="\n")
                self._csv.writeheader()
            self._csv.writerow({key: self._shown(_csv_cell(value)) for key, value in data.items()})

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


# JSON escapes the control characters below 0x20 and leaves these raw: DEL and the C1
# codes, which some terminals obey, and line separators, which many readers take for
# line breaks (a record must stay on its own line whatever a customer's name holds).
_RAW_IN_JSON = str.maketrans(
    {char: f"\\u{ord(char):04x}" for char in [*map(chr, range(0x7F, 0xA0)), "\u2028", "\u2029"]}
)


def json_text(data: Any, indent: int | None = None) -> str:
    """``data`` as JSON, readable text kept as it is and control characters escaped."""
    return json.dumps(data, ensure_ascii=False, indent=indent).translate(_RAW_IN_JSON)


def json_line(data: Any) -> str:
    """One record as one line of JSON, readable text kept as it is."""
    return json_text(data)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _identity(record: Any) -> str | int:
    """What ``--format ids`` prints of a record: its reference, else its id, else its
    first field when that names it (a copied table, a database's location). Output with
    nothing that names its records is a usage error, not a line of "None"."""
    data = as_dict(record)
    for value in (getattr(record, "ref", None), data.get("id"), next(iter(data.values()), None)):
        if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            return value
    raise typer.BadParameter(
        "this output has no references to list: use json, jsonl or csv", param_hint="--format"
    )


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
        sys.stdout.write(json_text(as_dict(record), indent=2) + "\n")
    else:
        print_records([record], fmt, fields or [])


FormatOption = typer.Option(
    Format.table,
    "--format",
    "-f",
    help="Output: table for people; json, jsonl, csv or ids for scripts.",
)
Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress bar, and nothing printed on success (for cron)."),
]
CustomFields = Annotated[
    list[str] | None,
    typer.Option("--field", help="Custom field KEY=VALUE (repeatable; KEY= removes it)."),
]


def custom_fields(pairs: list[str] | None) -> dict[str, str | None] | None:
    """``--field KEY=VALUE`` options as custom fields; ``KEY=`` removes one (None)."""
    if not pairs:
        return None
    custom: dict[str, str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--field")
        custom[key.strip()] = value.strip() or None
    return custom
