"""Writing a batch of imported records with one statement a table.

An import's rows are checked in Python first; what goes in is then written with one
executemany per table (records, stage history, timeline, audit), not an ORM flush per
row. Every value still goes through its column type, so the rows stored are exactly
those the single-record path would store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy import text as sql_text

from crm_tui.logic.core.context import Work
from crm_tui.storage import search as search_index
from crm_tui.storage.models import AuditEntry, table_of

VALUES_PER_QUERY = 10_000  # bound values per statement: within SQLite's limit of 32,766
# Tables whose rows the search index holds: their rows are indexed in one statement
# after the batch (see ``storage/search.py`` ``indexed_at_end``).
_INDEXED = frozenset({"contacts", "deals", "tickets", "activities"})


class JsonText(str):
    """A JSON column's value already written as the column writes it (``json.dumps``),
    by a process that had the time to: bound as it is."""


def is_sqlite(work: Work) -> bool:
    return work.session.get_bind().dialect.name == "sqlite"


def insert_records(work: Work, model: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (every column given but the id) into ``model``'s table; their ids,
    in the rows' order.

    On SQLite the ids are given, not returned: the batch runs under BEGIN IMMEDIATE, so
    no other connection can insert until it commits, and SQLite (no table of crm has
    AUTOINCREMENT) would itself number new rows max(id) + 1, + 2, ... . Numbering them
    here saves INSERT ... RETURNING, which SQLAlchemy runs one row at a time on SQLite
    when the order of the ids must match the rows. Other databases use RETURNING, which
    they run in bulk.
    """
    if not rows:
        return []
    table = table_of(model)
    session = work.session
    if not is_sqlite(work):
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(session.execute(returning, _decoded(rows)).scalars())
    connection = session.connection()
    with _indexed_at_end(work, table.name) as last:
        if last is None:
            last = connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table.name}").scalar_one()
        ids = list(range(last + 1, last + 1 + len(rows)))
        _sqlite_insert(work, table, rows, ids)
    return ids


def insert_plain(work: Work, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` whose ids nobody needs back (stage history, audit entries)."""
    if not rows:
        return
    table = table_of(model)
    if not is_sqlite(work):
        work.session.execute(insert(table), _decoded(rows))
        return
    with _indexed_at_end(work, table.name):
        _sqlite_insert(work, table, rows)


def rows_in(work: Work, query: str, values: set[Any]) -> list[Any]:
    """The rows ``query`` gives for ``values``: it holds one ``IN ({})``, which gets a
    mark for each value, a chunk of values at a time.

    The statement goes straight to the driver: building and compiling an IN of
    thousands of bound values took SQLAlchemy a few microseconds a value, more than
    the database's own lookups.
    """
    connection = work.session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    listed = sorted(values)
    found: list[Any] = []
    for start in range(0, len(listed), VALUES_PER_QUERY):
        chunk = tuple(listed[start : start + VALUES_PER_QUERY])
        found.extend(connection.exec_driver_sql(query.format(", ".join([mark] * len(chunk))), chunk))
    return found


def case_foldings(texts: set[str]) -> set[str]:
    """Each of ``texts`` in lower case both as SQLite's lower() writes it (it folds only
    A to Z) and as PostgreSQL's and Python's do (every letter): a query comparing
    lower(column) with these finds what the database's own folding would, and Python
    then compares the rows found folded alike."""
    return {text.lower() for text in texts} | {text.translate(_ASCII_LOWER) for text in texts}


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def matching_pairs(
    work: Work, model: Any, text_column: str, pairs: set[tuple[int, str]], columns: list[str], where: str = ""
) -> list[Any]:
    """``columns`` of the rows of ``model`` whose (customer_id, lower(``text_column``))
    is one of ``pairs``, the text in both foldings (``case_foldings``); pairs of
    customers the import is yet to add (below zero) have none. One seek a pair in the
    table's index on (customer_id, lower(text)), the pairs the outer loop.

    SQL by hand: SQLite names a VALUES list's columns column1, column2 and takes no
    names for them, which SQLAlchemy's ``values()`` writes.
    """
    wanted = sorted(
        {(owner, folded) for owner, text in pairs if owner > 0 for folded in case_foldings({text})}
    )
    if not wanted:
        return []
    table = table_of(model)
    params: dict[str, Any] = {}
    for n, (owner, text) in enumerate(wanted):
        params[f"o{n}"], params[f"t{n}"] = owner, text
    listed = ", ".join(f"(:o{n}, :t{n})" for n in range(len(wanted)))
    if is_sqlite(work):  # CROSS JOIN: SQLite keeps the pairs as the outer loop
        source = f"(SELECT column1 AS owner, column2 AS text FROM (VALUES {listed})) AS wanted CROSS JOIN"
    else:
        source = f"(VALUES {listed}) AS wanted (owner, text) JOIN"
    query = sql_text(
        f"SELECT {', '.join(f'r.{name}' for name in columns)} FROM {source} {table.name} AS r "
        f"ON r.customer_id = wanted.owner AND lower(r.{text_column}) = wanted.text {where}"
    ).columns(*[table.c[name] for name in columns])
    return list(work.session.execute(query, params))


def audit_entry(
    work: Work, at: datetime, entity: str, entity_id: int, action: str, changes: dict[str, Any] | JsonText
) -> dict[str, Any]:
    """An audit entry's row, as ``Work.audit`` writes it (``changes`` already plain)."""
    return {"at": at, "actor_id": work.actor.id, "entity": entity, "entity_id": entity_id,
            "action": action, "changes": changes}  # fmt: skip


def insert_audit(work: Work, entries: Sequence[dict[str, Any]]) -> None:
    insert_plain(work, AuditEntry, entries)


def _indexed_at_end(work: Work, table: str) -> Any:
    if table in _INDEXED:
        return search_index.indexed_at_end(work.session.connection(), table)
    return nullcontext(None)


def _decoded(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as SQLAlchemy's own insert takes them: it writes JSON columns itself."""
    return [
        {name: json.loads(value) if isinstance(value, JsonText) else value for name, value in row.items()}
        for row in rows
    ]


def _sqlite_insert(
    work: Work, table: Any, rows: Sequence[dict[str, Any]], ids: list[int] | None = None
) -> None:
    """One executemany on the driver (``ids``, if given, the first column): SQLAlchemy's
    own costs about 20 µs a row on SQLite. Each value still goes through its column
    type's bind processor (timestamps as UTC text, JSON as text), so the rows are stored
    exactly as a Core insert would."""
    dialect = work.session.get_bind().dialect
    names = list(rows[0])
    columns = [
        _bound([row[name] for row in rows], table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in names
    ]
    if ids is not None:
        names, columns = ["id", *names], [ids, *columns]
    quoted = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    work.session.connection().exec_driver_sql(
        f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})', list(zip(*columns, strict=True))
    )


def _bound(values: list[Any], process: Callable[[Any], Any] | None) -> list[Any]:
    """One column's values as the driver takes them. A bind processor is a function of
    its value alone, so each distinct moment (a batch's one timestamp, a file's dates)
    is processed once, and a run of the same object (a shared empty object) too; JSON
    already written (``JsonText``) is taken as it is."""
    if process is None:
        return values
    bound: list[Any] = []
    last: Any = bound  # a sentinel no value is
    done: Any = None
    seen: dict[Any, Any] = {}
    for value in values:
        if value is last:
            pass
        elif isinstance(value, datetime):
            last = value
            done = seen.get(value, bound)
            if done is bound:
                done = seen[value] = process(value)
        else:
            last, done = value, value if value.__class__ is JsonText else process(value)
        bound.append(done)
    return bound
