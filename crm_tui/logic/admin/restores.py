"""Restores: a backup put back in place of the configured database, after checking both.

A restore verifies the copy first, refuses a schema newer than this code, upgrades an
older one, takes a safety backup, then replaces the data in one transaction. The safety
backup of an encrypted backup's restore is encrypted too: to the recipients its manifest
names (and to the identity that read it), or to those given; never in the clear. Into
SQLite the file is rewritten through SQLite's backup API; into PostgreSQL every crm
table is emptied (TRUNCATE: other sessions wait, then see old or new data) and filled
in the same transaction, and the id sequences go on after the highest id.

Across backends: a SQLite backup restores into PostgreSQL (the way to move a team's
file to a server) and a PostgreSQL dump into SQLite. An older dump, or any dump going
into SQLite, is first loaded into a new SQLite file at its own schema version and
upgraded there by the migrations. A PostgreSQL database older than this crm is
upgraded (as `crm db upgrade` would) after the safety backup, before its rows are
replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from crm_tui.config import Settings
from crm_tui.logic.admin.backups import PERMISSION, backup_folder, create_backup, io_problem, remove_leftovers
from crm_tui.logic.admin.verification import unpack_verified
from crm_tui.logic.core.context import Crm, open_crm
from crm_tui.logic.core.errors import Conflict, DatabaseProblem, Invalid
from crm_tui.logic.core.schemas import Output
from crm_tui.storage import backup as files
from crm_tui.storage import dump, schema
from crm_tui.storage.database import Database, normalise_url, sqlite_file
from crm_tui.storage.errors import StorageError, driver_message
from crm_tui.storage.folders import private_folder

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout runs out


class RestoreReport(Output):
    """What a restore did."""

    file: str
    database: str
    schema_version: str | None
    upgraded_from: str | None
    safety_backup: str | None


@dataclass(frozen=True)
class _Job:
    """What a restore was asked: the settings, the backup and how to read it, and where
    (and to whom) the safety backup goes."""

    settings: Settings
    backup: Path
    identity: Path | str | None
    folder: Path | str | None
    recipients: Sequence[str]


def restore_backup(
    settings: Settings,
    path: Path | str,
    *,
    identity: Path | str | None = None,
    folder: Path | str | None = None,
    recipients: Sequence[str] = (),
) -> RestoreReport:
    """Replace the configured database with a backup, after checking both.

    The acting user must be an admin of the current database (when there is one). A
    schema newer than this crm is refused; an older one is upgraded before the swap.
    The safety backup of the current data goes to ``folder``, encrypted to
    ``recipients`` if given, else to an encrypted backup's own.
    """
    backup = Path(path).expanduser().absolute()
    try:
        url = normalise_url(settings.database_target()[0])
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    job = _Job(settings, backup, identity, folder, recipients)
    if url.get_backend_name() == "postgresql":
        return _restore_into_postgres(job, url)
    return _restore_into_sqlite(job, url)


def _restore_into_sqlite(job: _Job, url: URL) -> RestoreReport:
    """Rewrite the database file, in one write transaction, from a copy at this crm's schema."""
    settings, backup, folder = job.settings, job.backup, job.folder
    target = sqlite_file(url)
    if target is None:
        raise Invalid("an in-memory database cannot be restored into")
    # No database yet: restoring creates it, and there is no admin to ask.
    current = _admin_of_current(settings) if target.is_file() else None
    try:
        if settings.database_target()[1]:
            private_folder(target.parent)  # crm's own data folder, made as a first use makes it
        if not target.parent.is_dir():
            raise DatabaseProblem(f"cannot restore: folder {target.parent} does not exist")
        remove_leftovers(target.parent, backup.parent, backup_folder(folder)[0])
        with files.scratch_folder(target.parent) as work:
            manifest, copy = unpack_verified(backup, job.identity or _need_identity(backup), work, [])
            assert copy is not None
            copy, upgraded_from = _as_sqlite_at_head(backup, manifest, copy, settings)
            safety = _safety_backup(current, job, manifest)
            files.restore_sqlite(copy, target)
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    except OSError as exc:
        raise io_problem("restore the backup", exc) from None
    finally:
        if current is not None:
            current.close()
    return RestoreReport(
        file=str(backup), database=str(target), schema_version=schema.HEAD,
        upgraded_from=upgraded_from, safety_backup=safety,
    )  # fmt: skip


def _restore_into_postgres(job: _Job, url: URL) -> RestoreReport:
    """Empty every crm table and fill it from the backup, in one transaction."""
    settings, backup = job.settings, job.backup
    current = _admin_of_current(settings, replacing_rows=True)
    database = current.database if current is not None else Database(url, create=False)
    workdir, is_default = backup_folder(job.folder)
    try:
        private_folder(workdir, tighten=is_default)
        remove_leftovers(workdir, backup.parent)
        with files.scratch_folder(workdir) as work:
            manifest, copy = unpack_verified(backup, job.identity or _need_identity(backup), work, [])
            assert copy is not None
            upgraded_from = _dump_upgraded_from(manifest, backup) if manifest.content == "dump" else None
            is_dump = manifest.content == "dump" and upgraded_from is None
            if not is_dump:
                copy, upgraded_from = _as_sqlite_at_head(backup, manifest, copy, settings)
            safety = _safety_backup(current, job, manifest)
            if schema.read_status(database).state in ("empty", "older"):
                _upgrade(database, settings)
            _replace_rows(database, copy, is_dump)
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    except OSError as exc:
        raise io_problem("restore the backup", exc) from None
    finally:
        database.close()
    return RestoreReport(
        file=str(backup), database=database.describe(), schema_version=schema.HEAD,
        upgraded_from=upgraded_from, safety_backup=safety,
    )  # fmt: skip


def _replace_rows(database: Database, copy: Path, is_dump: bool) -> None:
    """Every crm row of ``database`` replaced by those of ``copy`` (a dump at this crm's
    schema, or a SQLite file), in one transaction: a failure leaves the data as it was."""
    source = None if is_dump else Database(f"sqlite:///{copy}", create=False)
    try:
        with database.connection(write=True) as conn:
            if source is None:
                _load_dump(conn, copy)
            else:
                with dump.read_snapshot(source.engine) as rows:
                    dump.replace_rows(conn, dump.database_chunks(rows))
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise Conflict(
                f"{database.describe()} is in use: a session held its tables for longer than "
                f"{dump.LOCK_TIMEOUT}; the data is as it was, try again"
            ) from None
        raise DatabaseProblem(
            f"cannot restore into {database.describe()}: {driver_message(exc)}; the data is as it was"
        ) from None
    finally:
        if source is not None:
            source.close()


def _load_dump(conn: Any, copy: Path) -> None:
    """The rows of the dump ``copy`` in place of those at ``conn``, in its transaction.
    A line found damaged part way is Invalid, as verify calls it, and rolls back."""
    try:
        dump.replace_rows(conn, dump.dump_chunks(copy))
    except (dump.DumpDamaged, dump.UnknownTable) as exc:
        raise Invalid(str(exc)) from None


def _need_identity(backup: Path) -> None:
    if backup.name.endswith(files.AGE_SUFFIX):
        raise Invalid(f"{backup.name} is encrypted: give the identity file with --identity")


def _admin_of_current(settings: Settings, *, replacing_rows: bool = False) -> Crm | None:
    """The database about to be replaced, once the actor is known to be its admin; None
    when it holds no crm data yet (restoring creates it, and there is no admin to ask).

    ``replacing_rows``: its rows are to be replaced in place, which needs tables this
    crm knows; a newer or foreign database is refused before anything is done.
    """
    crm = open_crm(settings, check_schema=False, create=False)
    try:
        status = schema.read_status(crm.database)
        if status.state == "empty":
            crm.close()
            return None
        where = crm.database.describe()
        if replacing_rows and status.state == "newer":
            raise DatabaseProblem(
                f"{where} has schema {status.current}, newer than this crm knows ({schema.HEAD}); "
                "install a newer crm to restore into it"
            )
        if replacing_rows and status.state == "foreign":
            raise DatabaseProblem(
                f"{where} holds tables that are not a crm database; restore into an empty one"
            )
        with crm.work(PERMISSION, write=False):
            pass
        return crm
    except StorageError as exc:
        crm.close()
        raise DatabaseProblem(str(exc)) from None
    except BaseException:
        crm.close()
        raise


def _safety_backup(current: Crm | None, job: _Job, manifest: files.Manifest) -> str | None:
    """A backup of the data about to be replaced; None when there is none."""
    if current is None:
        return None
    recipients = _safety_recipients(job, manifest)
    return create_backup(current, folder=job.folder, kind="safety", recipients=recipients).file


def _safety_recipients(job: _Job, manifest: files.Manifest) -> list[str]:
    """Whom the safety backup is encrypted to: those given; else, restoring an encrypted
    backup, its recipients and the identity that read it (whatever the manifest says,
    the admin restoring can read it). An encrypted backup whose manifest does not name
    its recipients is refused, rather than its safety backup written in the clear."""
    if job.recipients:
        return list(job.recipients)
    if not manifest.encrypted:
        return []
    assert job.identity is not None  # an encrypted backup is only unpacked with one
    try:
        own = files.public_keys(Path(job.identity).expanduser())
    except files.BackupKeyProblem as exc:
        raise Invalid(str(exc)) from None
    if not manifest.recipients:
        raise Invalid(
            f"{job.backup.name} is encrypted and its manifest does not name its recipients, so the "
            f"safety backup of the current data would be in the clear: give its recipients with "
            f"--encrypt-to (yours is {own[0]})"
        )
    return list(dict.fromkeys([*manifest.recipients, *own]))


def _as_sqlite_at_head(
    backup: Path, manifest: files.Manifest, copy: Path, settings: Settings
) -> tuple[Path, str | None]:
    """An unpacked backup as a SQLite file at this crm's schema, and the version it was
    upgraded from: a SQLite copy is upgraded in place; a dump is loaded into a new file
    at its own schema version, which the migrations then upgrade (the dump is removed)."""
    if manifest.content == "sqlite":
        return copy, _bring_to_head(copy, backup, settings)
    upgraded_from = _dump_upgraded_from(manifest, backup)
    loaded = _dump_as_sqlite(copy, manifest.schema_version or "", settings)
    files.remove_quietly(copy)
    return loaded, upgraded_from


def _bring_to_head(copy: Path, backup: Path, settings: Settings) -> str | None:
    """Refuse a copy newer than this crm; upgrade an older one. Returns the old version."""
    database = Database(f"sqlite:///{copy}", create=False)
    try:
        status = schema.read_status(database)
        if status.state == "newer":
            raise DatabaseProblem(
                f"{backup.name} has schema {status.current}, newer than this crm knows ({schema.HEAD}); "
                "install a newer crm to restore it"
            )
        if status.state in ("empty", "foreign"):
            raise Invalid(f"{backup.name} does not hold a crm database")
        if status.state == "older":
            _upgrade(database, settings)
            return status.current
        return None
    finally:
        database.close()


def _dump_upgraded_from(manifest: files.Manifest, backup: Path) -> str | None:
    """None for a dump of this crm's schema, its version for an older one; a dump of a
    newer schema is refused."""
    version = manifest.schema_version
    if version == schema.HEAD:
        return None
    if version not in schema.known_revisions():
        raise DatabaseProblem(
            f"{backup.name} has schema {version}, newer than this crm knows ({schema.HEAD}); "
            "install a newer crm to restore it"
        )
    return version


def _dump_as_sqlite(copy: Path, version: str, settings: Settings) -> Path:
    """Load the dump ``copy`` into a new SQLite file beside it, at the dump's schema
    ``version``, then upgrade the file to this crm's schema with the migrations."""
    loaded = copy.with_name(copy.name + ".sqlite3")
    files.remove_sqlite_files(loaded)
    database = Database(f"sqlite:///{loaded}")
    try:
        schema.upgrade(database, version)
        with database.connection(write=True) as conn:
            _load_dump(conn, copy)
        if version != schema.HEAD:
            _upgrade(database, settings)
    except BaseException:
        database.close()
        files.remove_sqlite_files(loaded)
        raise
    database.close()
    return loaded


def _upgrade(database: Database, settings: Settings) -> None:
    """Upgrade to this crm's schema as `crm db upgrade` does: existing tickets' service
    spans measured on the SLA clock of the settings."""
    from crm_tui.logic.service.sla import span_measure

    measure = span_measure(Crm(database, settings, settings.acting_username()))
    schema.upgrade(database, measure_spans=measure)
