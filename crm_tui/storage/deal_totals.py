"""Stage totals: per stage, owner and currency, how many active deals there are and their
amounts summed, kept by triggers in the database itself.

The pipeline board heads every stage with its count and money over all of the stage's
deals. Summed from the deals, that reads every deal of the pipeline on each showing
(750,000 rows, 0.1 s at best); read from here, a few hundred rows. The triggers count
every write, whoever makes it (the ORM, bulk Core inserts, merges, raw SQL), as the
search index's do; a rebuild (``crm db reindex``) makes the table again from the deals.

A deal counts while it is not archived; its status is always its stage's kind, so the
stage says open, won or lost. A row whose count falls to zero is deleted, so the table
is exactly what a rebuild makes. On PostgreSQL, one trigger function changes the two
rows a moved deal touches in key order: two writers moving deals between the same two
stages in opposite directions take the rows' locks in the same order, not crosswise.

Migration 0011 calls ``install``; a later change of the table's shape needs a new
migration that calls it again (it drops what it creates first).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table
from sqlalchemy.engine import Connection

TABLE = "deal_totals"
# The deal columns a total depends on: a change to any other column leaves it alone.
_COLUMNS = ("stage_id", "owner_id", "currency", "amount_minor", "archived_at")

# A deal without an owner counts under owner 0, since a primary key cannot hold NULL.
_FILL = (
    f"INSERT INTO {TABLE} (stage_id, owner_id, currency, deals, amount_minor) "
    "SELECT stage_id, coalesce(owner_id, 0), currency, count(*), coalesce(sum(amount_minor), 0) "
    "FROM deals WHERE archived_at IS NULL GROUP BY stage_id, coalesce(owner_id, 0), currency"
)


# The table, as made and as queries see it; on a MetaData of its own, as no table model has it.
TOTALS = Table(
    TABLE,
    MetaData(),
    Column("stage_id", Integer, primary_key=True, autoincrement=False),
    Column("owner_id", Integer, primary_key=True, autoincrement=False),
    Column("currency", String(3), primary_key=True),
    Column("deals", Integer, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
)


def is_totals_table(name: str) -> bool:
    """Whether ``name`` is this module's table (derived data, not a table model)."""
    return name == TABLE


def _key(row: str) -> str:
    owner = f"coalesce({row}.owner_id, 0)"
    return f"stage_id = {row}.stage_id AND owner_id = {owner} AND currency = {row}.currency"


def _add(row: str) -> str:
    """SQL adding deal ``row`` (NEW or OLD) to its total."""
    return (
        f"INSERT INTO {TABLE} (stage_id, owner_id, currency, deals, amount_minor) "
        f"VALUES ({row}.stage_id, coalesce({row}.owner_id, 0), {row}.currency, 1, {row}.amount_minor) "
        "ON CONFLICT (stage_id, owner_id, currency) DO UPDATE SET deals = "
        f"{TABLE}.deals + 1, amount_minor = {TABLE}.amount_minor + excluded.amount_minor"
    )


def _take(row: str) -> list[str]:
    """SQL taking deal ``row`` out of its total, and the total away once it counts none."""
    return [
        f"UPDATE {TABLE} SET deals = deals - 1, amount_minor = amount_minor - {row}.amount_minor "
        f"WHERE {_key(row)}",
        f"DELETE FROM {TABLE} WHERE {_key(row)} AND deals = 0",
    ]


# SQLite: a trigger per event.


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _COLUMNS)
    take = "; ".join(_take("OLD"))
    return [
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON deals WHEN NEW.archived_at IS NULL "
        f"BEGIN {_add('NEW')}; END",
        # Two triggers for an update, as SQLite has no IF; in either order they add up the same.
        f"CREATE TRIGGER {TABLE}_update_old AFTER UPDATE OF {', '.join(_COLUMNS)} ON deals "
        f"WHEN OLD.archived_at IS NULL AND ({changed}) BEGIN {take}; END",
        f"CREATE TRIGGER {TABLE}_update_new AFTER UPDATE OF {', '.join(_COLUMNS)} ON deals "
        f"WHEN NEW.archived_at IS NULL AND ({changed}) BEGIN {_add('NEW')}; END",
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON deals WHEN OLD.archived_at IS NULL BEGIN {take}; END",
    ]


_SQLITE_TRIGGER_NAMES = [f"{TABLE}_{event}" for event in ("insert", "update_old", "update_new", "delete")]


# PostgreSQL: one trigger function.


def _pg_function() -> str:
    take = "; ".join(_take("OLD"))
    old_first = (
        "(OLD.stage_id, coalesce(OLD.owner_id, 0), OLD.currency) "
        "< (NEW.stage_id, coalesce(NEW.owner_id, 0), NEW.currency)"
    )
    return (
        f"CREATE FUNCTION {TABLE}_sync() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE was boolean := TG_OP <> 'INSERT' AND OLD.archived_at IS NULL; "
        "is_now boolean := TG_OP <> 'DELETE' AND NEW.archived_at IS NULL; "
        "BEGIN "
        # Both rows of a move change in key order (see the module's docstring).
        f"IF was AND is_now AND {old_first} THEN {take}; {_add('NEW')}; "
        f"ELSE IF is_now THEN {_add('NEW')}; END IF; IF was THEN {take}; END IF; END IF; "
        "RETURN NULL; END $$"
    )


def _pg_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _COLUMNS)
    function = f"{TABLE}_sync"
    return [
        _pg_function(),
        f"CREATE TRIGGER {function}_insert AFTER INSERT ON deals FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {function}_update AFTER UPDATE OF {', '.join(_COLUMNS)} ON deals "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {function}_delete AFTER DELETE ON deals FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


# Installing and rebuilding.


def _is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def uninstall(conn: Connection) -> None:
    """Drop the table, its triggers and its function."""
    if _is_sqlite(conn):
        for name in _SQLITE_TRIGGER_NAMES:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    else:
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {TABLE}_sync() CASCADE")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")


def install(conn: Connection) -> None:
    """Create the table and its triggers, and fill it from the deals."""
    uninstall(conn)
    TOTALS.create(conn)
    for statement in _sqlite_triggers() if _is_sqlite(conn) else _pg_triggers():
        conn.exec_driver_sql(statement)
    conn.exec_driver_sql(_FILL)


def rebuild(conn: Connection) -> int:
    """Empty the table and fill it again from the deals; returns the deals counted."""
    conn.exec_driver_sql(f"DELETE FROM {TABLE}")
    conn.exec_driver_sql(_FILL)
    return int(conn.exec_driver_sql(f"SELECT coalesce(sum(deals), 0) FROM {TABLE}").scalar_one())
