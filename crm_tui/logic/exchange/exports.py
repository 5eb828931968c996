"""Exporting every record, and loading such an export into an empty database.

An export holds every table row by row with the columns' own names (stable: they
change only with a schema migration, and the manifest names the schema version), so
that loading it reproduces the same records, ids, links and audit trail. It is read in
one transaction (one consistent snapshot) and streamed: no table is held in memory.

- JSON: ``<table>.json`` per table, a JSON array with one record per line, so it is
  both one JSON document and a stream that can be read line by line.
- CSV: ``<table>.csv`` per table, UTF-8, a header of column names; empty cells are
  NULL (the empty text in a text column that is never NULL); cells a spreadsheet would
  run as a formula (starting = + - @ tab or CR) get a leading ``'``, as does a cell
  that starts with ``'`` (so loading it back is exact).

Values are written and read back as a dump writes and reads them (``storage/dump.py``,
the format of backups of PostgreSQL).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Boolean, Integer, String, Table, delete, func, insert, select, update
from sqlalchemy.types import JSON, BigInteger

from crm_tui import __version__
from crm_tui.logic.core import progress
from crm_tui.logic.core.context import Crm
from crm_tui.logic.core.errors import Conflict, Invalid
from crm_tui.logic.core.schemas import Output
from crm_tui.logic.values.spreadsheet import from_inert, inert
from crm_tui.storage import backup as files
from crm_tui.storage import dump
from crm_tui.storage.dump import LOAD_CHUNK, from_json, plain, reset_sequences, tables
from crm_tui.storage.folders import private_folder, remove_made
from crm_tui.storage.schema import HEAD

PERMISSION = "database.manage"
EXPORT_FORMAT = "crm-export/1"
# Rows a fresh database is given by its migrations and first use; anything else means
# the database holds someone's data and is not loaded over.
_SEEDED = {"users", "pipelines", "stages", "sla_policies", "audit_entries"}


class ExportReport(Output):
    """Where an export went and how many rows of each table it holds."""

    folder: str
    format: str
    schema_version: str
    counts: dict[str, int]


def table_named(name: str) -> Table:
    """The crm table called ``name``; an unknown name is Invalid, naming those there are."""
    try:
        return dump.table_named(name)
    except dump.UnknownTable as exc:
        raise Invalid(str(exc)) from None


# Values in and out


def csv_cell(value: Any) -> str:
    """A value as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(plain(value))
    return inert(text)


def from_csv(column: Any, text: str) -> Any:
    """A CSV cell back to the column's value (the inverse of ``csv_cell``): an empty
    cell is NULL, or the empty text in a column that is never NULL (a task's notes)."""
    if text == "":
        return "" if not column.nullable and _is_text(column) else None
    return from_json(column, _typed_text(column, from_inert(text)))


def _is_text(column: Any) -> bool:
    kind = column.type
    return isinstance(getattr(kind, "impl_instance", kind), String)  # SQLModel wraps VARCHAR


def _typed_text(column: Any, text: str) -> Any:
    kind = column.type
    if isinstance(kind, Boolean):
        return text == "true"
    if isinstance(kind, Integer | BigInteger):
        return int(text)
    if isinstance(kind, JSON):
        return json.loads(text)
    return text


# Reading a consistent snapshot


@contextmanager
def snapshot(crm: Crm) -> Iterator[Any]:
    """One read transaction on the database, after checking the actor may export."""
    with crm.work(PERMISSION, write=False):
        pass
    engine = crm.database.engine
    options = {"isolation_level": "REPEATABLE READ"} if crm.database.backend == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


def _rows_in(conn: Any, counted: list[Table]) -> int | None:
    """How many rows the tables hold, when a progress bar shows it (else no time is spent)."""
    if not progress.reported():
        return None
    return sum(conn.execute(select(func.count()).select_from(table)).scalar_one() for table in counted)


def rows(conn: Any, table: Table) -> Iterator[dict[str, Any]]:
    """The rows of ``table`` in key order, fetched in chunks."""
    result = conn.execution_options(yield_per=2_000).execute(select(table).order_by(*table.primary_key))
    for row in result.mappings():
        yield dict(row)


# Exporting


def _private_folder(folder: Path) -> list[Path]:
    """The folder an export goes to, made with its missing parents (0700) if need be."""
    try:
        return private_folder(folder)
    except OSError as exc:
        raise Invalid(f"cannot make the folder {folder}: {exc.strerror or exc}") from None


@contextmanager
def private_text(path: Path) -> Iterator[IO[str]]:
    """A new text file (0600: exports hold personal data), replacing an older one.

    Written whole or not at all: under a temporary name, renamed into place when the
    block succeeds and removed when it fails, so no half or empty file is left. Its
    folder is made (0700) when missing, and removed again with the file.
    """
    made = _private_folder(path.parent)
    temp = path.with_name(".tmp-" + path.name)
    files.remove_quietly(temp)
    try:
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as exc:
        remove_made(made)
        raise Invalid(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            yield out
    except BaseException:
        files.remove_quietly(temp)
        remove_made(made)
        raise
    os.replace(temp, path)


def write_json_rows(out: IO[str], records: Iterable[dict[str, Any]]) -> int:
    """A JSON array, one record per line; returns how many."""
    count = 0
    out.write("[")
    for record in records:
        out.write(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False, default=plain))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_csv_rows(out: IO[str], table: Table, records: Iterable[dict[str, Any]]) -> int:
    """CSV with the column names as header; returns how many rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    names = [column.name for column in table.columns]
    writer.writerow(names)
    count = 0
    for record in records:
        writer.writerow([csv_cell(record[name]) for name in names])
        count += 1
    return count


def export_all(crm: Crm, folder: Path, fmt: str) -> ExportReport:
    """Write every table to ``folder`` in ``fmt`` (json or csv), with a manifest."""
    if fmt not in ("json", "csv"):
        raise Invalid(f"cannot export everything as {fmt!r}: use json or csv")
    _private_folder(folder)
    counts: dict[str, int] = {}
    with snapshot(crm) as conn, progress.step("exporting", _rows_in(conn, tables())) as advance:
        for table in tables():
            with private_text(folder / f"{table.name}.{fmt}") as out:
                records = progress.counted(rows(conn, table), advance)
                counts[table.name] = (
                    write_json_rows(out, records) if fmt == "json" else write_csv_rows(out, table, records)
                )
    manifest = {
        "format": EXPORT_FORMAT, "file_format": fmt, "schema_version": HEAD, "crm_version": __version__,
        "exported_at": datetime.now(UTC).isoformat(), "source": crm.describe(), "counts": counts,
    }  # fmt: skip
    with private_text(folder / "manifest.json") as out:
        out.write(json.dumps(manifest, indent=2) + "\n")
    return ExportReport(folder=str(folder), format=fmt, schema_version=HEAD, counts=counts)


def export_table(crm: Crm, name: str, fmt: str, out: IO[str]) -> int:
    """Write one table to ``out`` in ``fmt`` (json or csv); returns the row count."""
    table = table_named(name)
    with snapshot(crm) as conn, progress.step(f"exporting {name}", _rows_in(conn, [table])) as advance:
        records = progress.counted(rows(conn, table), advance)
        if fmt == "json":
            return write_json_rows(out, records)
        if fmt == "csv":
            return write_csv_rows(out, table, records)
    raise Invalid(f"cannot export {name} as {fmt!r}: use json or csv")


# Loading


def _records_of_json(path: Path) -> Iterator[dict[str, Any]]:
    """Records of one of our JSON array files, read line by line."""
    with path.open(encoding="utf-8") as source:
        for line in source:
            text = line.strip().rstrip(",")
            if text.startswith("{"):
                yield json.loads(text)


def _records_of_csv(path: Path, table: Table) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        header = next(reader, [])
        unknown = set(header) - set(table.columns.keys())
        if unknown:
            raise Invalid(f"{path.name}: unknown columns {', '.join(sorted(unknown))}")
        columns = [table.columns[name] for name in header]
        for cells in reader:
            yield {column.name: from_csv(column, cell) for column, cell in zip(columns, cells, strict=True)}


def _typed(table: Table, record: dict[str, Any]) -> dict[str, Any]:
    return {name: from_json(table.columns[name], value) for name, value in record.items()}


def load_export(crm: Crm, folder: Path) -> dict[str, int]:
    """Load an export folder into this (empty) database in one transaction."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Invalid(f"{folder} is not a crm export (manifest.json: {exc})") from None
    if manifest.get("format") != EXPORT_FORMAT:
        raise Invalid(f"{folder} is not a crm export")
    if manifest.get("schema_version") != HEAD:
        raise Invalid(f"{folder} holds schema {manifest.get('schema_version')}; this crm loads {HEAD} only")
    fmt = manifest["file_format"]

    def streams() -> Iterator[tuple[Table, Iterator[dict[str, Any]]]]:
        for table in tables():
            path = folder / f"{table.name}.{fmt}"
            if fmt == "json":
                yield table, (_typed(table, record) for record in _records_of_json(path))
            else:
                yield table, _records_of_csv(path, table)

    return _load(crm, streams(), replace=False)


def _load(
    crm: Crm, streams: Iterable[tuple[Table, Iterator[dict[str, Any]]]], *, replace: bool
) -> dict[str, int]:
    """Replace every row with the streamed ones, in one transaction."""
    counts: dict[str, int] = {}
    with crm.work(PERMISSION) as work:
        conn = work.session.connection()
        if not replace:
            _refuse_data(conn)
        for table in reversed(tables()):
            conn.execute(delete(table))
        self_refs: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
        with progress.step("loading") as advance:
            for table, records in streams:
                inserted = _insert(conn, table, progress.counted(records, advance), self_refs)
                counts[table.name] = counts.get(table.name, 0) + inserted
        for name, fixes in self_refs.items():
            table = table_named(name)
            for key, values in fixes:
                conn.execute(update(table).where(table.c.id == key).values(**values))
        reset_sequences(conn, [table.name for table in tables()])
    return counts


def _refuse_data(conn: Any) -> None:
    for table in tables():
        if table.name in _SEEDED:
            continue
        if conn.execute(select(func.count()).select_from(table)).scalar_one():
            raise Conflict(f"the database already holds {table.name}: load an export into a new, empty one")
    if conn.execute(select(func.count()).select_from(table_named("users"))).scalar_one() > 1:
        raise Conflict("the database already has users: load an export into a new, empty one")


def _insert(conn: Any, table: Table, records: Iterable[dict[str, Any]], self_refs: dict) -> int:
    """Insert in chunks; links to the same table are set afterwards (any order works)."""
    own = [
        column.name for column in table.columns if any(fk.column.table is table for fk in column.foreign_keys)
    ]
    count, chunk = 0, []
    for record in records:
        late = {name: record[name] for name in own if record.get(name) is not None}
        if late:
            self_refs.setdefault(table.name, []).append((record["id"], late))
            record = {**record, **dict.fromkeys(late)}
        chunk.append(record)
        if len(chunk) >= LOAD_CHUNK:
            conn.execute(insert(table), chunk)
            count, chunk = count + len(chunk), []
    if chunk:
        conn.execute(insert(table), chunk)
        count += len(chunk)
    return count


def plain_row(record: dict[str, Any]) -> dict[str, Any]:
    """A row with every value as JSON would show it, for comparing two databases."""
    return {name: plain(value) for name, value in record.items()}
