"""The database as a whole: where it is, its schema version, and upgrades."""

from __future__ import annotations

from crm_tui.config import Settings
from crm_tui.logic.admin.schemas import DatabaseStatus
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.core.errors import DatabaseProblem
from crm_tui.storage import schema
from crm_tui.storage.errors import StorageError

_MESSAGES = {
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
        message=_MESSAGES[status.state],
    )


def upgrade_database(settings: Settings) -> DatabaseStatus:
    """Upgrade the configured database to this code's schema; a newer one is refused."""
    crm = open_crm(settings, check_schema=False)
    try:
        status = schema.read_status(crm.database)
        if status.state == "newer":
            raise DatabaseProblem(f"{crm.describe()}: {_MESSAGES['newer']}")
        if status.state == "foreign":
            raise DatabaseProblem(f"{crm.describe()}: {_MESSAGES['foreign']}")
        if status.state != "current":
            from crm_tui.logic.service.sla import span_measure

            schema.upgrade(crm.database, measure_spans=span_measure(crm))
        if status.state == "empty":
            crm.ensure_first_user()
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from exc
    finally:
        crm.close()
    return database_status(settings)
