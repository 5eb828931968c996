"""Row counts and checksums of crm's tables, equal for equal data on SQLite and PostgreSQL.

A row is written as canonical JSON: an object of column name to value, values as a
dump writes them (times in ISO 8601 UTC, JSON values with their keys sorted). The
column names make it independent of the order the columns have in each database
(SQLite rebuilds a table to change it; PostgreSQL appends). A table's checksum is the
sum, modulo 2**256, of each row's SHA-256: independent of the order rows are read in,
which differs between the engines for text keys, and made in one pass without holding
or sorting a million rows. Any changed, missing or added row changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from crm_tui.storage import dump, progress

_MODULUS = 2**256
SHOWN_DIGITS = 16  # of the checksum's 64 hex digits, what a person compares by eye


@dataclass
class Tally:
    """A table's rows seen so far: how many, and the sum of their hashes."""

    rows: int = 0
    total: int = 0

    def add(self, names: Sequence[str], values: Sequence[Any]) -> None:
        text = json.dumps(
            {name: dump.plain(value) for name, value in zip(names, values, strict=True)},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        self.rows += 1
        self.total = (self.total + int.from_bytes(hashlib.sha256(text.encode()).digest())) % _MODULUS

    @property
    def checksum(self) -> str:
        """The checksum in hex, as shown: its first SHOWN_DIGITS digits."""
        return f"{self.total:064x}"[:SHOWN_DIGITS]


Chunks = Iterable[tuple[Table, list[tuple[Any, ...]]]]


def tallied(chunks: Chunks, tallies: dict[str, Tally]) -> Iterator[tuple[Table, list[tuple[Any, ...]]]]:
    """``chunks`` passed on unchanged, each row counted into its table's tally first
    (whoever takes the chunk may change it)."""
    for table, chunk in chunks:
        tally = tallies.setdefault(table.name, Tally())
        names = list(table.columns.keys())
        for row in chunk:
            tally.add(names, row)
        yield table, chunk


def tally_database(conn: Any) -> dict[str, Tally]:
    """The tally of every crm table of the database at ``conn``, empty ones included."""
    tallies: dict[str, Tally] = {}
    with progress.step("checking the copy") as advance:
        for _, chunk in tallied(dump.database_chunks(conn), tallies):
            advance(len(chunk))
    for table in dump.tables():
        tallies.setdefault(table.name, Tally())
    return tallies
