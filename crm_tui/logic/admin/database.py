"""The database as a whole: where it is, its schema version, and upgrades.

Upgrading a database that has users is an admin's work (``database.manage``), as a
backup or a restore is, and leaves an audit entry; a new, empty database is created
with the acting user as its first admin, as any first use does.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from crm_tui.config import Settings
from crm_tui.logic.admin.schemas import DatabaseStatus
from crm_tui.logic.core.context import Crm, open_crm
from crm_tui.logic.core.errors import DatabaseProblem
from crm_tui.storage import schema
from crm_tui.storage.errors import StorageError
from crm_tui.storage.models import User

PERMISSION = "database.manage"
STATE_MESSAGES = {
    "current": "up to date",
    "empty": "empty: crm creates the schema on first use",
    "older": "older than this crm: run `crm db upgrade` (after a backup)",
    "newer": "written by a newer crm: install a newer crm to use it",
    "foreign": "holds tables that are not a crm database",
}


def database_status(settings: Settings) -> DatabaseStatus:
    """The configured database's schema version against this code's; creates nothing."""
    crm = open_crm(settings, check_schema=False, create=False)
    try:
        status = schema.read_status(crm.database)
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from exc
    finally:
        crm.close()
    return DatabaseStatus(
        location=crm.describe(),
        backend=crm.database.backend,
        schema_version=status.current,
        code_schema_version=status.head,
        state=status.state,
        message=STATE_MESSAGES[status.state],
    )


def upgrade_database(settings: Settings) -> DatabaseStatus:
    """Upgrade the configured database to this code's schema; a newer one is refused.
    An older one is upgraded by an admin only, and the upgrade is audited."""
    crm = open_crm(settings, check_schema=False)
    try:
        status = schema.read_status(crm.database)
        if status.state == "newer":
            raise DatabaseProblem(f"{crm.describe()}: {STATE_MESSAGES['newer']}")
        if status.state == "foreign":
            raise DatabaseProblem(f"{crm.describe()}: {STATE_MESSAGES['foreign']}")
        if status.state == "older":
            _upgrade_older(crm, status.current)
        elif status.state == "empty":
            _upgrade(crm)
            crm.ensure_first_user()
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from exc
    finally:
        crm.close()
    return database_status(settings)


def _upgrade_older(crm: Crm, version: str | None) -> None:
    """Upgrade a database crm has used, as its admin, with an audit entry of the
    versions. The users table has been the same since the first schema, so the acting
    user is checked on the older schema, before anything changes. One with no users
    yet has no admin to ask: the acting user becomes its first, as on any first use."""
    if _has_users(crm):
        with crm.work(PERMISSION, write=False):
            pass
    _upgrade(crm)
    crm.ensure_first_user()
    with crm.work(PERMISSION) as work:
        # The database as a whole has no id of its own: entity_id 0.
        work.audit("database", 0, "upgrade", {"schema_version": [version, schema.HEAD]})


def _has_users(crm: Crm) -> bool:
    with crm.database.unit_of_work(write=False) as session:
        return session.execute(select(col(User.id)).limit(1)).first() is not None


def _upgrade(crm: Crm) -> None:
    from crm_tui.logic.service.sla import span_measure

    schema.upgrade(crm.database, measure_spans=span_measure(crm))
