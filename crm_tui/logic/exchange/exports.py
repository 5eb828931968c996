"""Exporting every record, and loading such an export into an empty database.

An export holds every table row by row with the columns' own names (stable: they
change only with a schema migration, and the manifest names the schema version), so
that loading it reproduces the same records, ids, links and audit trail. It is read in
one transaction (one consistent snapshot) and streamed: no table is held in memory.

- JSON: ``<table>.json`` per table, a JSON array with one record per line, so it is
  both one JSON document and a stream that can be read line by line.
- CSV: ``<table>.csv`` per table, UTF-8, a header of column names; empty cells are
  NULL; cells a spreadsheet would run as a formula (starting = + - @ tab or CR) get a
  leading ``'``, as does a cell that starts with ``'`` (so loading it back is exact).
- Dump (backups of PostgreSQL): one JSON Lines stream, read in one REPEATABLE READ,
  READ ONLY transaction. The first line is a head, ``{"format", "schema_version",
  "tables": {table: [column, ...]}}``, with the tables as the database has them at
  that schema version; then one line per row, ``[table, value, ...]`` in the head's
  column order, table by table, parents first; the last line is ``{"end": true,
  "counts": {table: rows}}``. A dump without its last line was cut short.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    Table,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.types import JSON, BigInteger, NullType

from crm_tui import __version__
from crm_tui.logic.core.context import Crm
from crm_tui.logic.core.errors import Conflict, Invalid
from crm_tui.logic.core.schemas import Output
from crm_tui.storage import backup as files
from crm_tui.storage.models import metadata
from crm_tui.storage.schema import HEAD
from crm_tui.storage.types import UTCDateTime

PERMISSION = "database.manage"
EXPORT_FORMAT = "crm-export/1"
DUMP_FORMAT = "crm-dump/2"
LOAD_CHUNK = 5_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
# Rows a fresh database is given by its migrations and first use; anything else means
# the database holds someone's data and is not loaded over.
_SEEDED = {"users", "pipelines", "stages", "sla_policies", "audit_entries"}


class ExportReport(Output):
    """Where an export went and how many rows of each table it holds."""

    folder: str
    format: str
    schema_version: str
    counts: dict[str, int]


def tables() -> list[Table]:
    """Every crm table, parents before children (the order loading needs)."""
    return [table for table in metadata.sorted_tables if table.name != "alembic_version"]


def table_named(name: str) -> Table:
    for table in tables():
        if table.name == name:
            return table
    raise Invalid(f"no such entity {name!r}: choose from {', '.join(t.name for t in tables())}")


# Values in and out


def plain(value: Any) -> Any:
    """A column value as JSON: times in ISO 8601 (UTC), everything else as it is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


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
    return "'" + text if text.startswith(_FORMULA_START) else text


def from_csv(column: Any, text: str) -> Any:
    """A CSV cell back to the column's value (the inverse of ``csv_cell``)."""
    if text == "":
        return None
    if text.startswith("'"):
        text = text[1:]
    return from_json(column, _typed_text(column, text))


def _typed_text(column: Any, text: str) -> Any:
    kind = column.type
    if isinstance(kind, Boolean):
        return text == "true"
    if isinstance(kind, Integer | BigInteger):
        return int(text)
    if isinstance(kind, JSON):
        return json.loads(text)
    return text


def from_json(column: Any, value: Any) -> Any:
    """A JSON value back to the column's Python value."""
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


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


def rows(conn: Any, table: Table) -> Iterator[dict[str, Any]]:
    """The rows of ``table`` in key order, fetched in chunks."""
    result = conn.execution_options(yield_per=2_000).execute(select(table).order_by(*table.primary_key))
    for row in result.mappings():
        yield dict(row)


# Exporting


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)


@contextmanager
def private_text(path: Path) -> Iterator[IO[str]]:
    """A new text file (0600: exports hold personal data), replacing an older one.

    Written whole or not at all: under a temporary name, renamed into place when the
    block succeeds and removed when it fails, so no half or empty file is left.
    """
    temp = path.with_name(".tmp-" + path.name)
    files.remove_quietly(temp)
    fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            yield out
    except BaseException:
        files.remove_quietly(temp)
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
    with snapshot(crm) as conn:
        for table in tables():
            with private_text(folder / f"{table.name}.{fmt}") as out:
                records = rows(conn, table)
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
    with snapshot(crm) as conn:
        if fmt == "json":
            return write_json_rows(out, rows(conn, table))
        if fmt == "csv":
            return write_csv_rows(out, table, rows(conn, table))
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
        for table, records in streams:
            counts[table.name] = counts.get(table.name, 0) + _insert(conn, table, records, self_refs)
        for name, fixes in self_refs.items():
            table = table_named(name)
            for key, values in fixes:
                conn.execute(update(table).where(table.c.id == key).values(**values))
        files.reset_sequences(conn, [table.name for table in tables()])
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


# Dumps: every row of a database, for backups of PostgreSQL


@dataclass(frozen=True)
class Dump:
    """What a dump holds: its schema version and how many rows of each table."""

    schema_version: str
    counts: dict[str, int]


def _as_found(model: Table, names: Sequence[str]) -> Table:
    """``model`` with just the columns ``names`` (an older schema has fewer), typed as
    the model types them and without defaults: rows go in exactly as they came out."""
    columns = [
        Column(
            name,
            model.c[name].type if name in model.c else NullType(),
            primary_key=name in model.c and model.c[name].primary_key,
        )
        for name in names
    ]
    return Table(model.name, MetaData(), *columns)


def _tables_in(conn: Any) -> list[Table]:
    """crm's tables as the database at ``conn`` has them, parents first."""
    found = inspect(conn).get_multi_columns()
    columns = {name: [column["name"] for column in listed] for (_, name), listed in found.items()}
    return [_as_found(model, columns[model.name]) for model in tables() if model.name in columns]


def _json_line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=plain).encode() + b"\n"


def write_dump(crm: Crm, path: Path) -> Dump:
    """Write every crm row of a PostgreSQL database, read in one snapshot, to the new
    file ``path``.

    The caller checks that the actor may. The database may have an older schema than
    this crm's: the dump holds its tables as they are, and says which version they are.
    """
    counts: dict[str, int] = {}
    engine = crm.database.engine
    with engine.connect() as probe:
        present = set(inspect(probe).get_table_names())
    locked = [table.name for table in tables() if table.name in present]
    with files.read_snapshot(engine, locked) as conn, files.private_file(path) as out:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        found = _tables_in(conn)
        columns = {table.name: list(table.columns.keys()) for table in found}
        out.write(_json_line({"format": DUMP_FORMAT, "schema_version": version, "tables": columns}))
        for table in found:
            counts[table.name] = 0
            for lines in files.dump_rows(conn, table):
                out.write(lines)
                counts[table.name] += lines.count(b"\n")
        out.write(_json_line({"end": True, "counts": counts}))
    return Dump(version, counts)


def _dump_head(source: IO[str]) -> dict[str, Any]:
    try:
        head = json.loads(source.readline())
    except ValueError:
        head = None
    if not (
        isinstance(head, dict)
        and head.get("format") == DUMP_FORMAT
        and isinstance(head.get("schema_version"), str)
        and isinstance(head.get("tables"), dict)
    ):
        raise Invalid(f"it does not start as a crm dump ({DUMP_FORMAT}) does")
    return head


def _dump_rows(source: IO[str], head: dict[str, Any], counts: dict[str, int]) -> Iterator[list[Any]]:
    """The row lines after ``head``, each checked against it and counted in ``counts``.

    The closing line must be there, with the same counts, and nothing after it.
    """
    position = {name: number for number, name in enumerate(head["tables"])}
    widths = {name: len(columns) + 1 for name, columns in head["tables"].items()}
    counts.update(dict.fromkeys(position, 0))
    at = 0
    try:
        for number, line in enumerate(source, start=2):
            try:
                item = json.loads(line)
            except ValueError:
                raise Invalid(f"line {number} is not JSON") from None
            if isinstance(item, dict):
                if item.get("end") is not True or item.get("counts") != counts:
                    raise Invalid(f"line {number}: the closing counts do not match the rows")
                if source.readline():
                    raise Invalid(f"more lines after the closing line {number}")
                return
            if not (isinstance(item, list) and item and widths.get(item[0]) == len(item)):
                raise Invalid(f"line {number} is not a row of the tables the dump names")
            if position[item[0]] < at:
                raise Invalid(f"line {number}: a row of {item[0]} after the rows of a later table")
            at = position[item[0]]
            counts[item[0]] += 1
            yield item
    except UnicodeDecodeError as exc:
        raise Invalid(f"not UTF-8 text ({exc.reason})") from None
    raise Invalid("it ends before its closing line (cut short?)")


def check_dump(path: Path) -> Dump:
    """Read a whole dump and check its shape: its head, every row against the head, and
    the closing line with the row counts. Raises Invalid saying what is wrong."""
    counts: dict[str, int] = {}
    with path.open(encoding="utf-8") as source:
        head = _dump_head(source)
        for _ in _dump_rows(source, head, counts):
            pass
    return Dump(head["schema_version"], counts)


def _reader(column: Any) -> Callable[[Any], Any] | None:
    """How a column's JSON value becomes its Python value; None when it is the same."""
    if isinstance(column.type, UTCDateTime | Date):
        return partial(from_json, column)
    return None


def dump_chunks(path: Path) -> Iterator[tuple[Table, list[tuple[Any, ...]]]]:
    """A dump's rows in chunks (values in the table's column order), typed for loading,
    parents first.

    It is checked as it is read: a bad line raises Invalid, which rolls back whatever
    transaction the rows were going into.
    """
    with path.open(encoding="utf-8") as source:
        head = _dump_head(source)
        found = {name: _as_found(table_named(name), columns) for name, columns in head["tables"].items()}
        readers = {name: [_reader(column) for column in table.columns] for name, table in found.items()}
        current: Table | None = None
        chunk: list[tuple[Any, ...]] = []
        for item in _dump_rows(source, head, {}):
            table = found[item[0]]
            if chunk and (table is not current or len(chunk) >= LOAD_CHUNK):
                yield current, chunk  # type: ignore[misc]
                chunk = []
            current = table
            chunk.append(
                tuple(
                    value if read is None or value is None else read(value)
                    for read, value in zip(readers[item[0]], item[1:], strict=True)
                )
            )
        if chunk:
            yield current, chunk  # type: ignore[misc]


def database_chunks(conn: Any) -> Iterator[tuple[Table, list[tuple[Any, ...]]]]:
    """Every crm row of the database at ``conn``, in chunks (values in the table's
    column order), parents first; streamed, never a whole table at once."""
    for table in _tables_in(conn):
        result = conn.execution_options(yield_per=LOAD_CHUNK).execute(
            select(table).order_by(*table.primary_key)
        )
        for part in result.partitions():
            yield table, [tuple(row) for row in part]


def _links_within(table: Table) -> list[int]:
    """Where in ``table``'s rows the columns are that name another row of the same table."""
    model = table_named(table.name)
    linking = {c.name for c in model.columns if any(key.column.table is model for key in c.foreign_keys)}
    return [position for position, column in enumerate(table.columns) if column.name in linking]


def replace_rows(conn: Any, chunks: Iterable[tuple[Table, list[tuple[Any, ...]]]]) -> dict[str, int]:
    """Replace every crm row of the database at ``conn`` with ``chunks`` (parents first),
    in the caller's transaction, so that a failure part way leaves the old rows.

    Links between rows of one table (a customer merged into another) are set once all
    its rows are in.
    """
    present = set(inspect(conn).get_table_names())
    names = [table.name for table in tables() if table.name in present]
    counts: dict[str, int] = {}
    links: dict[tuple[Table, str], list[dict[str, Any]]] = {}
    with files.replacing_rows(conn, names[::-1]):
        for table, chunk in chunks:
            files.insert_rows(conn, table, _links_set_aside(table, chunk, links))
            counts[table.name] = counts.get(table.name, 0) + len(chunk)
        for (table, name), targets in links.items():
            if targets:
                statement = update(table).where(table.c.id == bindparam("_id"))
                conn.execute(statement.values({name: bindparam("_target")}), targets)
    return counts


def _links_set_aside(
    table: Table, chunk: list[tuple[Any, ...]], links: dict[tuple[Table, str], list[dict[str, Any]]]
) -> list[tuple[Any, ...]]:
    """``chunk`` with its links to rows of the same table left empty, and noted in
    ``links`` to be set once every row is in (a row may link to one loaded after it)."""
    for position in _links_within(table):
        key = list(table.columns.keys()).index("id")
        targets = links.setdefault((table, table.columns[position].name), [])
        for number, row in enumerate(chunk):
            if row[position] is not None:
                targets.append({"_id": row[key], "_target": row[position]})
                chunk[number] = (*row[:position], None, *row[position + 1 :])
    return chunk
