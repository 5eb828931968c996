"""Reading the file an import is given: its encoding, its delimiter and its CSV rows.

Files come as people have them:

- The encoding is UTF-8 (with or without a byte order mark), UTF-16 or UTF-32 with
  their byte order mark, or, when the bytes are not UTF-8, the legacy encoding of
  Western European Windows and Mac spreadsheets, cp1252, or latin-1 where cp1252 cannot
  read a byte (charset-normalizer decides). ``--encoding`` forces one: cp1250 for
  Central European text, for instance, which no detector tells from cp1252 reliably
  in files as short as address lists.
- The delimiter is the one the header line uses most, of comma, semicolon, tab and
  pipe (comma when it uses none); ``--delimiter`` forces one.
- A file whose quoting is broken (a quote never closed, text after a closing quote) is
  refused with its line before anything is stored, as is a file where more than one
  row in a hundred has more cells than the header has columns (a wrong delimiter, or
  cells holding it unquoted); up to that, such rows are refused one by one.

A file is read twice, once to check its shape and once to import it, so standard
input is kept in memory for the second reading.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from crm_tui.logic.core import progress
from crm_tui.logic.core.errors import Invalid, quoted

# csv's default cell limit is 128 KiB; a longer cell is a broken file, said so.
csv.field_size_limit(1 << 24)

AUTO = "auto"
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# What charset-normalizer may choose from when a file is not UTF-8. Kept narrow: given
# cp1250 and mac_roman as well, it read short German, French and Polish lists in the
# wrong one of them more often than not.
LEGACY_ENCODINGS = ("cp1252", "latin_1")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16's, which begins the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SAMPLE = 1 << 16  # bytes around the first non-UTF-8 byte given to the detector
RAGGED_SHARE = 0.01  # rows with extra cells a file may have before it is refused whole


@dataclass(frozen=True)
class SourceFile:
    """A file to import, decoded, which can be read more than once."""

    name: str
    encoding: str  # the codec it is read with
    read_lines: Callable[[], Iterator[str]]

    @classmethod
    def of_lines(cls, name: str, lines: Iterable[str]) -> SourceFile:
        """Text already decoded (standard input in tests, a StringIO)."""
        kept = list(lines)
        return cls(name, "text", lambda: iter(kept))

    def lines(self) -> Generator[str]:
        """Its lines from the first; a byte the encoding cannot read is an error that
        says how to fix it."""
        try:
            yield from self.read_lines()
        except UnicodeError as exc:
            raise _not_text(self.name, self.encoding, exc) from None

    def first_line(self) -> str:
        """Its first non-blank line, or the empty text."""
        lines = self.lines()
        try:
            return next((line for line in lines if line.strip()), "")
        finally:
            lines.close()


def open_source(path: str, encoding: str = AUTO) -> SourceFile:
    """The file to import (or stdin for -) in ``encoding``, or the one it is found in."""
    if encoding != AUTO:
        encoding = _codec(encoding)
    if path == "-":
        data = sys.stdin.buffer.read()
        return _source("standard input", lambda: io.BytesIO(data), encoding)
    file = Path(path).expanduser()
    try:
        with file.open("rb"):
            pass
    except FileNotFoundError:
        raise Invalid(f"no file {file}") from None
    except ValueError:  # a NUL character in the name
        raise Invalid(f"no file {quoted(path)}") from None
    except OSError as exc:
        raise Invalid(f"cannot read {file}: {exc.strerror}") from None
    return _source(str(file), lambda: file.open("rb"), encoding)


def _codec(encoding: str) -> str:
    """The codec for an encoding's name; UTF-8 drops a byte order mark too."""
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, ValueError):  # ValueError: a NUL character in the name
        raise Invalid(f"unknown encoding {quoted(encoding)}") from None
    return "utf-8-sig" if name == "utf-8" else name


def _source(name: str, opener: Callable[[], IO[bytes]], encoding: str) -> SourceFile:
    codec = _detect(opener) if encoding == AUTO else encoding

    def read_lines() -> Iterator[str]:
        with io.TextIOWrapper(opener(), encoding=codec, newline="") as text:
            yield from text

    return SourceFile(name, codec, read_lines)


def _detect(opener: Callable[[], IO[bytes]]) -> str:
    """The encoding of the bytes ``opener`` gives: a byte order mark's, UTF-8 when every
    byte reads as UTF-8, else the legacy encoding the detector finds likeliest."""
    from charset_normalizer import from_bytes

    with opener() as raw:
        head = raw.read(4)
        for bom, codec in _BOMS:
            if head.startswith(bom):
                return codec
        raw.seek(0)
        bad = _first_non_utf8(raw)
        if bad is None:
            return "utf-8-sig"
        raw.seek(0)
        sample = raw.read(_SAMPLE)
        if bad > len(sample):
            raw.seek(bad - _SAMPLE // 2)
            sample += b"\n" + raw.read(_SAMPLE)
    found = [match.encoding for match in from_bytes(sample, cp_isolation=list(LEGACY_ENCODINGS))]
    # The detector may rank first a code page that has no character for a byte it saw.
    readable = [name for name in found if _reads(sample, name)]
    return codecs.lookup(readable[0] if readable else LEGACY_ENCODINGS[-1]).name


def _reads(sample: bytes, encoding: str) -> bool:
    try:
        sample.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _first_non_utf8(raw: IO[bytes]) -> int | None:
    """Where the first byte that is not UTF-8 is, reading in chunks; None if none is."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    while chunk := raw.read(1 << 20):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return offset + exc.start
        offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset
    return None


def _not_text(name: str, encoding: str, exc: UnicodeError) -> Invalid:
    """The error for a file that is not text in the encoding it was read with (a bad
    byte, or no byte order mark where UTF-16 and UTF-32 need one)."""
    why = f"{exc.reason} at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else str(exc)
    shown = "UTF-8" if encoding in ("utf-8-sig", "text") else encoding
    return Invalid(f"{name} is not {shown} text ({why}); give the file's --encoding")


# The delimiter


def delimiter_named(text: str) -> str:
    """A ``--delimiter``: one character, or comma, semicolon, tab or pipe by name."""
    names = {name: char for char, name in DELIMITERS.items()} | {"\\t": "\t"}
    char = names.get(text.strip().lower(), text)
    if len(char) != 1 or char in '"\r\n' or char.isalnum():
        raise Invalid(f"the delimiter must be one character, or {', '.join(DELIMITERS.values())}")
    return char


def sniff_delimiter(header_line: str) -> str:
    """The delimiter the header line uses most outside quotes, comma on a tie or none.

    Written here rather than with ``csv.Sniffer``: the sniffer guesses from the rows'
    consistency and picks letters or spaces on short samples, while a header, which
    names columns, is where a file's delimiter is plainest."""
    counts = dict.fromkeys(DELIMITERS, 0)
    in_quotes = False
    for char in header_line:
        if char == '"':
            in_quotes = not in_quotes
        elif not in_quotes and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda char: counts[char])  # the first of equals: comma
    return best if counts[best] else ","


def delimiter_shown(char: str) -> str:
    return DELIMITERS.get(char, quoted(char))


# Rows


def _records(lines: Iterable[str], name: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The (first line, cells) of each row, blank ones included; broken quoting is an
    error naming the line it begins on."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise Invalid(f"{name} line {start}: {_broken(str(exc))}") from None
        yield start, cells
        start = reader.line_num + 1


def _broken(reason: str) -> str:
    if "unexpected end of data" in reason:
        return "a quote opened in this row is never closed"
    if "expected after" in reason:
        return 'text follows a cell\'s closing quote (a quote inside a quoted cell is written "")'
    return f"not valid CSV ({reason})"


def read_rows(
    lines: Iterable[str], name: str, delimiter: str = ","
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the (line, cells) of each non-blank row, streamed."""
    rows = _records(lines, name, delimiter)
    _line, header = next(rows, (0, []))
    if not any(cell.strip() for cell in header):
        raise Invalid(f"{name} is empty: expected a header line naming the columns")
    header = [cell.strip() for cell in header]
    body = ((line, cells) for line, cells in rows if any(cell.strip() for cell in cells))
    return header, body


def extra_cells(cells: list[str], columns: int) -> bool:
    """Whether a row has cells past the header's columns with something in them."""
    return len(cells) > columns and any(cell.strip() for cell in cells[columns:])


def check_shape(source: SourceFile, delimiter: str) -> int:
    """Read the whole file once and return its number of rows; refuse it, before anything
    is stored, when its quoting is broken or too many rows have extra cells."""
    header, body = read_rows(source.lines(), source.name, delimiter)
    rows = ragged = 0
    first_ragged = 0
    with progress.step("checking the file") as advance:
        for line, cells in progress.counted(body, advance, every=10_000):
            rows += 1
            if extra_cells(cells, len(header)):
                ragged += 1
                first_ragged = first_ragged or line
    if ragged > max(1, rows * RAGGED_SHARE):
        raise Invalid(
            f"{source.name} line {first_ragged}: more cells than the header's {len(header)} columns, "
            f"as in {ragged} of {rows} rows; the delimiter read is {delimiter_shown(delimiter)}: "
            "give the right one with --delimiter, or quote cells that hold it"
        )
    return rows
