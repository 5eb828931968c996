"""Reading the file an import is given: opening it in its encoding, and its CSV rows."""

from __future__ import annotations

import csv
import itertools
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from crm_tui.logic.core.errors import Invalid, quoted

# csv's default cell limit is 128 KiB; a longer cell is a broken file, said so.
csv.field_size_limit(1 << 24)


def open_source(path: str, encoding: str) -> tuple[IO[str], str]:
    """The file to import (or stdin for -), decoded as ``encoding`` (BOM dropped)."""
    if path == "-":
        return sys.stdin, "standard input"
    file = Path(path).expanduser()
    try:
        return file.open(
            encoding="utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding, newline=""
        ), str(file)
    except FileNotFoundError:
        raise Invalid(f"no file {file}") from None
    except LookupError:
        raise Invalid(f"unknown encoding {quoted(encoding)}") from None
    except ValueError:  # a NUL character, in the encoding's name or the file's
        raise Invalid(
            f"unknown encoding {quoted(encoding)}" if "\x00" in encoding else f"no file {quoted(path)}"
        ) from None
    except OSError as exc:
        raise Invalid(f"cannot read {file}: {exc.strerror}") from None


def read_rows(source: Iterable[str], name: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the (line, cells) of each non-blank row, streamed."""
    reader = csv.reader(source)

    def guarded() -> Iterator[list[str]]:
        try:
            yield from reader
        except UnicodeError as exc:
            raise _not_text(name, exc) from None
        except csv.Error as exc:
            raise Invalid(f"{name} line {reader.line_num}: not valid CSV ({exc})") from None

    rows = guarded()
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        raise Invalid(f"{name} is empty: expected a header line naming the columns")
    header = [cell.strip() for cell in header]

    def body() -> Iterator[tuple[int, list[str]]]:
        for cells in rows:
            if any(cell.strip() for cell in cells):
                yield reader.line_num, cells

    return header, body()


def first_line(source: IO[str], name: str) -> tuple[str, Iterator[str]]:
    """The first non-blank line of ``source`` and all its lines, that one included."""
    skipped = []
    try:
        for line in source:
            skipped.append(line)
            if line.strip():
                return line, itertools.chain(skipped, source)
    except UnicodeError as exc:
        raise _not_text(name, exc) from None
    return "", iter(skipped)


def decoded_lines(lines: Iterable[str], name: str) -> Iterator[str]:
    """``lines`` as they are; a byte the encoding cannot read is an error that says how to fix it."""
    try:
        yield from lines
    except UnicodeError as exc:
        raise _not_text(name, exc) from None


def _not_text(name: str, exc: UnicodeError) -> Invalid:
    """The error for a file that is not text in the encoding it was opened with (a bad
    byte, or no byte order mark where UTF-16 and UTF-32 need one)."""
    why = f"{exc.reason} at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else str(exc)
    return Invalid(f"{name} is not UTF-8 text ({why}); save it as UTF-8 or give its --encoding")
