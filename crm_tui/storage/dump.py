"""Dumps: every crm row of a database in one file, and a database's rows replaced by them.

A dump is how PostgreSQL is backed up: one JSON Lines stream, read in one REPEATABLE
READ, READ ONLY transaction. The first line is a head, ``{"format", "schema_version",
"tables": {table: [column, ...]}}``, with the tables as the database has them at that
schema version; then one line per row, ``[table, value, ...]`` in the head's column
order, table by table, parents first; the last line is ``{"end": true, "counts":
{table: rows}}``. A dump without its last line was cut short.

Rows go back the other way in the caller's transaction, from a dump or from another
database (a SQLite backup restored into PostgreSQL), so a failure part way leaves the
old rows. Who may, and what a bad dump means to the user, is logic's business; this
module raises DumpDamaged saying what is wrong.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any

from sqlalchemy import JSON, Column, Date, MetaData, Table, bindparam, inspect, select, text, update
from sqlalchemy.types import NullType

from crm_tui.storage import progress
from crm_tui.storage.backup import private_file
from crm_tui.storage.errors import StorageError
from crm_tui.storage.models import metadata
from crm_tui.storage.types import UTCDateTime

DUMP_FORMAT = "crm-dump/2"
LOAD_CHUNK = 5_000  # rows put into the database in one statement
DUMP_BLOCK = 2_000  # rows joined into one write
# How long a restore into PostgreSQL waits for other sessions to let go of its tables.
LOCK_TIMEOUT = "60s"


class DumpDamaged(StorageError):
    """A dump is not whole or not in the dump format; the message says where."""


class UnknownTable(StorageError):
    """A table name (asked for, or in a dump) that is none of crm's tables."""


@dataclass(frozen=True)
class Dump:
    """What a dump holds: its schema version and how many rows of each table."""

    schema_version: str
    counts: dict[str, int]


# Tables and values


def tables() -> list[Table]:
    """Every crm table, parents before children (the order loading needs)."""
    return [table for table in metadata.sorted_tables if table.name != "alembic_version"]


def table_named(name: str) -> Table:
    """The crm table called ``name``; UnknownTable, naming the tables there are, if none."""
    for table in tables():
        if table.name == name:
            return table
    raise UnknownTable(f"no such entity {name!r}: choose from {', '.join(t.name for t in tables())}")


def plain(value: Any) -> Any:
    """A column value as JSON: times in ISO 8601 (UTC), everything else as it is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


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


# Writing a dump


@contextlib.contextmanager
def read_snapshot(engine: Any, table_names: Sequence[str] = ()) -> Iterator[Any]:
    """One read-only transaction that sees the database as of its first query.

    PostgreSQL: REPEATABLE READ, READ ONLY: every table is read from the same
    snapshot while others keep writing, as pg_dump does. Like pg_dump it first locks
    ``table_names`` against changes of their structure and TRUNCATE (not writes), and
    only then takes its snapshot: TRUNCATE is not MVCC-safe, and a table a restore
    emptied and filled after the snapshot was taken would read as empty. SQLite: a
    deferred transaction, which in WAL mode is a snapshot too.
    """
    postgres = engine.dialect.name == "postgresql"
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True} if postgres else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        if postgres:
            conn.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")  # times as dump_rows writes them
            if table_names:
                listed = ", ".join(f'"{name}"' for name in table_names)
                conn.exec_driver_sql(f"LOCK TABLE {listed} IN ACCESS SHARE MODE")
        yield conn


def write_dump(engine: Any, path: Path) -> Dump:
    """Write every crm row of the PostgreSQL database at ``engine``, read in one
    snapshot, to the new file ``path``.

    The database may have an older schema than this crm's: the dump holds its tables as
    they are, and says which version they are.
    """
    counts: dict[str, int] = {}
    with engine.connect() as probe:
        present = set(inspect(probe).get_table_names())
    locked = [table.name for table in tables() if table.name in present]
    with read_snapshot(engine, locked) as conn, private_file(path) as out:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        found = _tables_in(conn)
        columns = {table.name: list(table.columns.keys()) for table in found}
        out.write(_json_line({"format": DUMP_FORMAT, "schema_version": version, "tables": columns}))
        for table in found:
            counts[table.name] = 0
            with progress.step(f"dumping {table.name}") as advance:
                for lines in dump_rows(conn, table):
                    out.write(lines)
                    done = lines.count(b"\n")
                    counts[table.name] += done
                    advance(done)
        out.write(_json_line({"end": True, "counts": counts}))
    return Dump(version, counts)


def _json_line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=plain).encode() + b"\n"


def dump_rows(connection: Any, table: Any) -> Iterator[bytes]:
    """PostgreSQL: the rows of ``table`` in key order as JSON lines, ``[table, value,
    ...]``, encoded by the server and streamed with COPY, in blocks of whole lines.

    The server writes times in ISO 8601 in the session's zone (UTC, see read_snapshot)
    and dates as YYYY-MM-DD. JSON columns go through jsonb, which writes them on one
    line whatever whitespace they were stored with. Then JSON text holds no raw control
    characters, so the one escape of COPY's text format left is the doubled backslash,
    and halving the pairs gives the JSON back exactly.
    """
    values = ", ".join(
        f'"{column.name}"::jsonb' if isinstance(column.type, JSON) else f'"{column.name}"'
        for column in table.columns
    )
    order = ", ".join(f'"{column.name}"' for column in table.primary_key)
    # json_build_array takes at most 100 arguments: the table's name and 99 columns.
    query = f"SELECT json_build_array('{table.name}', {values}) FROM \"{table.name}\" ORDER BY {order}"
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
        rows: list[Any] = []
        for row in copy:  # one row per item, so a doubled backslash is never split
            rows.append(row)
            if len(rows) == DUMP_BLOCK:
                yield b"".join(rows).replace(b"\\\\", b"\\")
                rows = []
        yield b"".join(rows).replace(b"\\\\", b"\\")


# Reading a dump


def check_dump(path: Path) -> Dump:
    """Read a whole dump and check its shape: its head, every row against the head, and
    the closing line with the row counts. Raises DumpDamaged saying what is wrong."""
    counts: dict[str, int] = {}
    with path.open(encoding="utf-8") as source, progress.step("checking the dump") as advance:
        head = _read_head(source)
        for _ in progress.counted(_read_rows(source, head, counts), advance):
            pass
    return Dump(head["schema_version"], counts)


def _read_head(source: IO[str]) -> dict[str, Any]:
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
        raise DumpDamaged(f"it does not start as a crm dump ({DUMP_FORMAT}) does")
    return head


def _read_rows(source: IO[str], head: dict[str, Any], counts: dict[str, int]) -> Iterator[list[Any]]:
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
                raise DumpDamaged(f"line {number} is not JSON") from None
            if isinstance(item, dict):
                if item.get("end") is not True or item.get("counts") != counts:
                    raise DumpDamaged(f"line {number}: the closing counts do not match the rows")
                if source.readline():
                    raise DumpDamaged(f"more lines after the closing line {number}")
                return
            if not (isinstance(item, list) and item and widths.get(item[0]) == len(item)):
                raise DumpDamaged(f"line {number} is not a row of the tables the dump names")
            if position[item[0]] < at:
                raise DumpDamaged(f"line {number}: a row of {item[0]} after the rows of a later table")
            at = position[item[0]]
            counts[item[0]] += 1
            yield item
    except UnicodeDecodeError as exc:
        raise DumpDamaged(f"not UTF-8 text ({exc.reason})") from None
    raise DumpDamaged("it ends before its closing line (cut short?)")


def _reader(column: Any) -> Callable[[Any], Any] | None:
    """How a column's JSON value becomes its Python value; None when it is the same."""
    if isinstance(column.type, UTCDateTime | Date):
        return partial(from_json, column)
    return None


def dump_chunks(path: Path) -> Iterator[tuple[Table, list[tuple[Any, ...]]]]:
    """A dump's rows in chunks (values in the table's column order), typed for loading,
    parents first.

    It is checked as it is read: a bad line raises DumpDamaged, which rolls back
    whatever transaction the rows were going into.
    """
    with path.open(encoding="utf-8") as source:
        head = _read_head(source)
        found = {name: _as_found(table_named(name), columns) for name, columns in head["tables"].items()}
        readers = {name: [_reader(column) for column in table.columns] for name, table in found.items()}
        current: Table | None = None
        chunk: list[tuple[Any, ...]] = []
        for item in _read_rows(source, head, {}):
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


# Replacing a database's rows


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
    with replacing_rows(conn, names[::-1]), progress.step("writing the rows") as advance:
        for table, chunk in chunks:
            insert_rows(conn, table, _links_set_aside(table, chunk, links))
            counts[table.name] = counts.get(table.name, 0) + len(chunk)
            advance(len(chunk))
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


def _links_within(table: Table) -> list[int]:
    """Where in ``table``'s rows the columns are that name another row of the same table."""
    model = table_named(table.name)
    linking = {c.name for c in model.columns if any(key.column.table is model for key in c.foreign_keys)}
    return [position for position, column in enumerate(table.columns) if column.name in linking]


def insert_rows(connection: Any, table: Any, rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows``, values in ``table``'s column order: on PostgreSQL through COPY,
    several times faster than INSERT. COPY skips SQLAlchemy's type handling, so values
    must be what the columns hold: aware times, dates, and Python values for JSON."""
    names = list(table.columns.keys())
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
        return
    from psycopg.types.json import Json

    json_at = [n for n, column in enumerate(table.columns) if isinstance(column.type, JSON)]
    listed = ", ".join(f'"{name}"' for name in names)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({listed}) FROM STDIN') as copy:
        for row in rows:
            if json_at:
                row = list(row)
                for n in json_at:
                    row[n] = None if row[n] is None else Json(row[n])
            copy.write_row(row)


@contextlib.contextmanager
def replacing_rows(connection: Any, table_names: Sequence[str]) -> Iterator[None]:
    """Empty ``table_names`` (children first) for new rows loaded inside the block;
    afterwards the id sequences go on from the highest id loaded. All of it happens in
    the caller's transaction.

    PostgreSQL: one TRUNCATE, which locks the tables until the transaction ends, so
    other sessions wait and then see the old rows or the new ones, never a mix; one
    that holds a table for longer than LOCK_TIMEOUT makes the restore fail (and roll
    back) instead of waiting for ever. As pg_restore does, the foreign keys and the
    search index are set aside while rows go in, then made again over all the rows at
    once: 1.6 million rows load in 111 s where checking keys and indexing row by row
    took 192 s, and a key that does not hold still fails the whole load. The stage
    totals, too, are made again from the loaded deals, on both databases.
    """
    from crm_tui.storage import deal_totals, search

    deal_totals.uninstall(connection)
    if connection.dialect.name != "postgresql":
        for name in table_names:
            connection.execute(text(f'DELETE FROM "{name}"'))
        yield
        deal_totals.install(connection)
        return
    connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    listed = ", ".join(f'"{name}"' for name in table_names)
    connection.execute(text(f"TRUNCATE {listed}"))
    keys = _foreign_keys(connection, table_names)
    for table, name, _ in keys:
        connection.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    search.uninstall(connection)
    yield
    for table, name, definition in keys:
        connection.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))
    search.install(connection)
    deal_totals.install(connection)
    reset_sequences(connection, table_names)
    # Statistics of the old rows would steer the first queries until autovacuum runs.
    connection.execute(text(f"ANALYZE {listed}"))


def _foreign_keys(connection: Any, table_names: Sequence[str]) -> list[tuple[str, str, str]]:
    """The foreign keys of ``table_names``: table, constraint name and definition."""
    return [
        tuple(row)
        for row in connection.execute(
            text(
                "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k"
                " JOIN pg_class c ON c.oid = k.conrelid"
                " WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace"
                " AND c.relname = ANY(:names) ORDER BY k.oid"
            ),
            {"names": list(table_names)},
        )
    ]


def reset_sequences(connection: Any, table_names: Sequence[str]) -> None:
    """After rows were loaded with their own ids, let PostgreSQL's id sequences go on
    from the highest one, so new records never collide with restored ones. Tables
    without a sequence (a composite key, a code as key) are left alone; SQLite needs
    nothing: it takes max(rowid) + 1."""
    if connection.dialect.name != "postgresql":
        return
    owned = connection.execute(
        text(
            "SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)"
            " FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ANY(:names)"
        ),
        {"names": list(table_names)},
    ).all()
    for table_name, column_name, sequence in owned:
        if sequence:
            connection.execute(
                text(
                    f'SELECT setval(:s, coalesce((SELECT max("{column_name}") FROM "{table_name}"), 0) + 1,'
                    " false)"
                ),
                {"s": sequence},
            )
