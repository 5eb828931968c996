"""What must hold of a crm database whatever happened to it: a process killed mid-write,
writers at once, a command refused.

Each check returns the problems it found (an empty list when the database is sound),
so that a test can say exactly what broke, and after which kill.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from crm_tui.storage import deal_totals, search
from crm_tui.storage.database import make_engine, normalise_url
from crm_tui.storage.derived import is_derived_table

# The audit trail names a record by kind and id; the kind's table holds the row.
TABLES = {
    "customer": "customers",
    "contact": "contacts",
    "activity": "activities",
    "task": "tasks",
    "deal": "deals",
    "order": "orders",
    "product": "products",
    "ticket": "tickets",
    "user": "users",
    "pipeline": "pipelines",
    "stage": "stages",
}
# Records made by someone, each with the entry that made it, and which of their rows
# are: the default pipeline and its stages come with the schema, and the timeline's
# system entries ("Won D-4", "Archived") tell of a change audited on its own record.
MADE_BY_SOMEONE = {
    "customer": "", "contact": "", "activity": " AND t.kind <> 'system'", "task": "", "deal": "",
    "order": "", "product": "", "ticket": "", "user": "",
}  # fmt: skip


@contextmanager
def connected(url: str) -> Iterator[Connection]:
    """A connection to ``url`` with crm's own settings (busy timeout, foreign keys)."""
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def engine_for(url: str) -> Engine:
    return make_engine(normalise_url(url))


def is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def integrity(conn: Connection) -> list[str]:
    """SQLite's full integrity check, and FTS5's own check of the search index against
    the documents it holds. PostgreSQL has neither: nothing to report there."""
    if not is_sqlite(conn):
        return []
    rows = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
    problems = [] if rows == ["ok"] else [f"integrity_check: {row}" for row in rows]
    with rolled_back(conn):
        try:
            conn.exec_driver_sql(f"INSERT INTO {search.TABLE} ({search.TABLE}) VALUES ('integrity-check')")
        except Exception as exc:
            problems.append(f"search index fails FTS5's integrity-check: {exc}")
    return problems


def search_index(conn: Connection) -> list[str]:
    """The index holds exactly the documents a rebuild from the rows would make, and no
    bulk write left its table paused (a paused table's new rows would go unindexed)."""
    problems = []
    if is_sqlite(conn):
        paused = conn.exec_driver_sql(
            f"SELECT group_concat(source) FROM {search.PAUSED}"
            if _has_table(conn, search.PAUSED)
            else "SELECT NULL"
        ).scalar()
        if paused:
            problems.append(f"the search index is left paused for {paused}")
    with rolled_back(conn):
        held = _documents(conn)
        search.rebuild(conn)
        rebuilt = _documents(conn)
    for key in sorted(held.keys() | rebuilt.keys()):
        if held.get(key) != rebuilt.get(key):
            problems.append(
                f"search document {key}: indexed {held.get(key)!r}, rows say {rebuilt.get(key)!r}"
            )
            if len(problems) >= 10:
                break
    return problems


def _documents(conn: Connection) -> dict[int, tuple]:
    key = "rowid" if is_sqlite(conn) else "doc_id"
    return {
        row[0]: tuple(row[1:])
        for row in conn.exec_driver_sql(
            f"SELECT {key}, name, keys, info, body, customer_id, hidden FROM {search.TABLE}"
        )
    }


def stage_totals(conn: Connection) -> list[str]:
    """The stage totals hold exactly what a rebuild from the deals makes."""
    sql = f"SELECT stage_id, owner_id, currency, deals, amount_minor FROM {deal_totals.TABLE}"
    with rolled_back(conn):
        held = {tuple(row[:3]): tuple(row[3:]) for row in conn.exec_driver_sql(sql)}
        deal_totals.rebuild(conn)
        rebuilt = {tuple(row[:3]): tuple(row[3:]) for row in conn.exec_driver_sql(sql)}
    return [
        f"stage total {key}: kept {held.get(key)!r}, the deals say {rebuilt.get(key)!r}"
        for key in sorted(held.keys() | rebuilt.keys())
        if held.get(key) != rebuilt.get(key)
    ][:10]


def audit_trail(conn: Connection) -> list[str]:
    """Every audit entry names a row that exists (or one it records the removal of), and
    every record someone made has the entry that made it."""
    problems = []
    with rolled_back(conn):
        for entity, table in TABLES.items():
            orphans = conn.execute(
                text(
                    f"SELECT a.id, a.entity_id, a.action FROM audit_entries a WHERE a.entity = :entity"
                    f" AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = a.entity_id)"
                    # A removed row is gone; its entries stay, as history.
                    " AND NOT EXISTS (SELECT 1 FROM audit_entries r WHERE r.entity = a.entity"
                    " AND r.entity_id = a.entity_id AND r.action = 'remove')"
                ),
                {"entity": entity},
            ).fetchmany(5)
            problems += [f"audit entry {id_} ({action}) names {entity} {eid}, which is not there"
                         for id_, eid, action in orphans]  # fmt: skip
            if entity in MADE_BY_SOMEONE:
                unmade = conn.execute(
                    text(
                        f"SELECT t.id FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM audit_entries a"
                        " WHERE a.entity = :entity AND a.entity_id = t.id AND a.action IN ('create', 'import'))"
                        + MADE_BY_SOMEONE[entity]
                    ),
                    {"entity": entity},
                ).fetchmany(5)
                problems += [f"{entity} {row[0]} has no audit entry that created it" for row in unmade]
    return problems


def everything(conn: Connection) -> list[str]:
    """All the checks above."""
    return integrity(conn) + search_index(conn) + stage_totals(conn) + audit_trail(conn)


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows in every table but the derived ones (search index, stage totals), in one statement."""
    names = values(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table'"
        if is_sqlite(conn)
        else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
    )
    tables = [name for name in names if not is_derived_table(name)]
    sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{table}")' for table in tables)
    with rolled_back(conn):
        return dict(zip(tables, conn.exec_driver_sql(sql).one(), strict=True))


def count(conn: Connection, sql: str, **params: object) -> int:
    with rolled_back(conn):
        return conn.execute(text(sql), params).scalar_one()


def values(conn: Connection, sql: str, **params: object) -> list:
    with rolled_back(conn):
        return [row[0] for row in conn.execute(text(sql), params)]


@contextmanager
def rolled_back(conn: Connection) -> Iterator[None]:
    """A transaction that changes nothing: what a check writes to compare is undone."""
    transaction = conn.begin_nested() if conn.in_transaction() else conn.begin()
    try:
        yield
    finally:
        transaction.rollback()


def _has_table(conn: Connection, name: str) -> bool:
    return bool(
        conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = ?", (name,)).scalar_one()
    )
