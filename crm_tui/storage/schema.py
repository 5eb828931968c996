"""The schema's version: what a database has, what this code expects, and upgrades.

Alembic is imported only when a database is not at the expected revision, so that the
everyday check costs one small query, not the loading of every migration script.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError

from crm_tui.storage import progress
from crm_tui.storage.database import hold_setup_lock
from crm_tui.storage.errors import DatabaseUnavailable, SchemaTooNew, SchemaTooOld, driver_message

if TYPE_CHECKING:
    from alembic.config import Config

    from crm_tui.storage.database import Database

# The newest migration's revision id; tests check it against the migration scripts.
HEAD = "0014"
# Indexes only PostgreSQL has (migration 0014), so the table models do not name them.
POSTGRESQL_ONLY_INDEXES = frozenset({
    "ix_customers_live_name", "ix_customers_live_created", "ix_customers_live_updated",
    "ix_deals_live_updated", "ix_deals_live_created", "ix_deals_live_amount",
})  # fmt: skip
MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class SchemaStatus:
    """What a database holds compared with what this code expects."""

    current: str | None
    head: str
    state: str  # "empty", "current", "older", "newer", "foreign"


def _alembic_config(connection: Any | None = None, **attributes: Any) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes.update(attributes)
    return config


def known_revisions() -> set[str]:
    """Every schema revision this code's migrations can bring to head."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config())
    return {script.revision for script in scripts.walk_revisions()}


def script_head() -> str:
    """The head revision according to the migration scripts themselves."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head() or ""


def read_status(database: Database) -> SchemaStatus:
    """Compare the database's revision with this code's.

    The everyday case costs one query; the table list is read only when the database
    has no revision table (new, or not crm's).
    """
    try:
        current = _current_revision(database)
        tables: set[str] = set()
        if current is None:
            with database.connection() as conn:
                tables = set(inspect(conn).get_table_names())
    except (OperationalError, DatabaseError) as exc:
        raise DatabaseUnavailable(f"cannot read {database.describe()}: {driver_message(exc)}") from exc
    if current is None:
        state = "empty" if not (tables - {"alembic_version"}) else "foreign"
    elif current == HEAD:
        state = "current"
    elif current in known_revisions():
        state = "older"
    else:
        state = "newer"
    return SchemaStatus(current=current, head=HEAD, state=state)


def _current_revision(database: Database) -> str | None:
    """The revision stamped in the database, or None if it has no revision table."""
    try:
        with database.connection() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError) as exc:
        if "alembic_version" in str(exc.orig):
            return None
        raise


def upgrade(
    database: Database,
    revision: str = "head",
    *,
    measure_spans: Callable[[Any], tuple[int | None, int | None, bool | None]] | None = None,
) -> None:
    """Bring the schema up to ``revision`` (this code's head) in one transaction.

    ``measure_spans`` is logic's measure of a ticket's service spans on its SLA clock
    (a row of the ticket's times in, its response seconds, resolution seconds and SLA
    flag out), for migration 0007 to fill them with; without it the database measures
    them on calendar time, which is right unless business hours are set.
    """
    from alembic import command

    with database.connection(write=True) as conn:
        hold_setup_lock(conn)  # several processes opening a new database at once: one migrates
        to_apply = _migrations_between(_revision_of(conn), revision) if progress.reported() else None
        with progress.step("upgrading the schema", to_apply, "migrations") as advance:
            config = _alembic_config(
                conn, measure_spans=measure_spans, on_version_apply=lambda **_: advance(1)
            )
            command.upgrade(config, revision)


def _revision_of(conn: Any) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _migrations_between(current: str | None, target: str) -> int:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config())
    return sum(1 for _ in scripts.iterate_revisions(target, current))


def stamp(database: Database, revision: str) -> None:
    """Record ``revision`` as the database's schema version (for tests and repairs)."""
    with database.connection(write=True) as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :rev"), {"rev": revision})


def ensure_usable(database: Database) -> bool:
    """Make a new database ready, or refuse one this code cannot use.

    Returns True when the schema was just created. A database written by a newer crm
    is refused rather than touched; an older one must be upgraded on purpose.
    """
    status = read_status(database)
    if status.state == "current":
        return False
    if status.state == "empty":
        upgrade(database)
        return True
    where = database.describe()
    if status.state == "newer":
        raise SchemaTooNew(
            f"{where} has schema {status.current}, newer than this crm knows ({HEAD}); "
            "install a newer crm to use it"
        )
    if status.state == "older":
        raise SchemaTooOld(
            f"{where} has schema {status.current}, older than this crm's ({HEAD}); "
            "run `crm db upgrade` (after a backup) to bring it up to date"
        )
    raise DatabaseUnavailable(f"{where} holds tables that are not a crm database")
