"""Backups and restores: who may, where they go, how many are kept, and what is checked.

- A backup is taken by an admin (the ``database.manage`` permission), as a consistent
  snapshot while others keep working, checked before it is renamed into place, and
  kept with mode 0600 in a 0700 folder, beside a manifest with its SHA-256. A database
  of any schema version can be backed up: the backup says which version it holds.
- SQLite: a copy of the database file through SQLite's backup API, integrity-checked.
- PostgreSQL: a logical dump (``logic/exports.py``) of every table, read in one
  REPEATABLE READ, READ ONLY transaction; the manifest records each table's row count.
  Not pg_dump: a dump is then the same on every server version, needs no client tools
  of the server's version on the backup machine, can be restored into SQLite as well,
  and is upgraded by crm's own migrations when it is older.
- Rotation keeps the newest N regular backups of the same database; safety backups
  (taken before a restore) are never rotated away, nor is the backup just made.
- Verify checks the SHA-256 and size, decompresses (decrypts with an identity), then a
  SQLite copy's integrity and schema version, or a dump's every line, its row counts
  against the manifest and its schema version.
- A restore verifies the copy first, refuses a schema newer than this code, upgrades
  an older one, takes a safety backup, then replaces the data in one transaction.
  Into SQLite the file is rewritten through SQLite's backup API; into PostgreSQL every
  crm table is emptied (TRUNCATE: other sessions wait, then see old or new data) and
  filled in the same transaction, and the id sequences go on after the highest id.
- Across backends: a SQLite backup restores into PostgreSQL (the way to move a team's
  file to a server) and a PostgreSQL dump into SQLite. An older dump, or any dump
  going into SQLite, is first loaded into a new SQLite file at its own schema version
  and upgraded there by the migrations. A PostgreSQL database older than this crm is
  upgraded (as `crm db upgrade` would) after the safety backup, before its rows are
  replaced.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from crm_tui import __version__
from crm_tui.config import Settings, data_dir
from crm_tui.logic.core.context import Crm, open_crm
from crm_tui.logic.core.errors import Conflict, DatabaseProblem, Invalid
from crm_tui.logic.core.schemas import Output
from crm_tui.storage import backup as files
from crm_tui.storage import schema
from crm_tui.storage.database import Database, normalise_url, sqlite_file
from crm_tui.storage.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

PERMISSION = "database.manage"
LOCK_WAIT_SECONDS = 120.0
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout runs out


class BackupInfo(Output):
    """One backup file as listed: where, when, how big, of which schema."""

    file: str
    created_at: datetime | None
    kind: str
    size: int
    schema_version: str | None
    encrypted: bool
    source: str
    sha256: str | None
    complete: bool


class VerifyReport(Output):
    """The outcome of checking one backup; ``problem`` is None when it is sound."""

    file: str
    ok: bool
    problem: str | None
    schema_version: str | None
    checked: list[str]


class RestoreReport(Output):
    """What a restore did."""

    file: str
    database: str
    schema_version: str | None
    upgraded_from: str | None
    safety_backup: str | None


def default_folder() -> Path:
    """Backups go to ``backups`` in the platformdirs data folder unless told otherwise."""
    return data_dir() / "backups"


def _folder(folder: Path | str | None) -> tuple[Path, bool]:
    if folder is None:
        return default_folder(), True
    return Path(folder).expanduser().absolute(), False


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


def _new_name(folder: Path, stem: str, kind: str, now: datetime, encrypted: bool, content: str) -> Path:
    """A timestamped name not yet taken (two backups in one second get -2, -3, ...)."""
    label = f"{stem}-{'pre-restore-' if kind == 'safety' else ''}{_stamp(now)}"
    base = files.DATA_SUFFIX if content == "sqlite" else files.DUMP_SUFFIX
    suffix = base + (files.AGE_SUFFIX if encrypted else "")
    candidate, number = folder / f"{label}{suffix}", 1
    while candidate.exists() or files.manifest_path(candidate).exists():
        number += 1
        candidate = folder / f"{label}-{number}{suffix}"
    return candidate


def _io_problem(action: str, exc: OSError) -> DatabaseProblem:
    where = f" {exc.filename}" if exc.filename else ""
    return DatabaseProblem(f"cannot {action}{where}: {exc.strerror or exc}")


# Creating


def create_backup(
    crm: Crm,
    *,
    folder: Path | str | None = None,
    keep: int | None = None,
    recipients: Sequence[str] = (),
    kind: str = "backup",
) -> BackupInfo:
    """Take a verified, compressed backup of crm's database; admins only.

    With ``keep``, only the newest ``keep`` regular backups of this database remain.
    """
    if keep is not None and keep < 1:
        raise Invalid("--keep must be at least 1: the backup just made is always kept")
    _refuse_no_crm_data(crm.database)
    with crm.work(PERMISSION, write=False):
        pass  # only the permission check: the snapshot is taken outside any transaction
    target, is_default = _folder(folder)
    try:
        files.private_folder(target, enforce=is_default)
        with files.folder_lock(target, wait=LOCK_WAIT_SECONDS):
            files.remove_stale_temporaries(target)
            made = _take(crm, target, recipients, kind)
            if keep is not None:
                _rotate(target, made, keep)
    except files.BackupLocked as exc:
        raise Conflict(f"{exc}; try again when it has finished") from None
    except files.BackupKeyProblem as exc:
        raise Invalid(str(exc)) from None
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    except OSError as exc:
        raise _io_problem("write the backup", exc) from None
    return _info(made, files.Manifest.read(files.manifest_path(made)))


def open_for_backup(settings: Settings) -> Crm:
    """Open the configured database at whatever schema version it has (a backup is what
    one takes before upgrading); a database that does not exist is not created."""
    return open_crm(settings, check_schema=False, create=False)


def _refuse_no_crm_data(database: Database) -> None:
    try:
        state = schema.read_status(database).state
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    if state == "empty":
        raise Invalid(f"{database.describe()} holds no crm data yet: there is nothing to back up")
    if state == "foreign":
        raise Invalid(f"{database.describe()} holds tables that are not a crm database")


def _take(crm: Crm, folder: Path, recipients: Sequence[str], kind: str) -> Path:
    """Snapshot, check, pack and rename into place; returns the new backup's path."""
    database = crm.database
    if database.path is None:
        return _take_dump(crm, folder, recipients, kind)
    now = datetime.now(UTC)
    final = _new_name(folder, database.path.stem, kind, now, bool(recipients), "sqlite")
    raw = folder / f"{files.TEMP_PREFIX}{os.getpid()}-{final.name}.raw"
    packed = folder / f"{files.TEMP_PREFIX}{final.name}"
    try:
        files.snapshot_sqlite(database.path, raw)
        check = files.CheckInBackground(raw)
        sha256, size = files.pack(raw, packed, recipients)
        problem = check.wait()
        if problem:
            raise DatabaseProblem(f"the copy of {database.describe()} fails its integrity check: {problem}")
        manifest = files.Manifest(
            file=final.name,
            sha256=sha256,
            size=size,
            raw_size=raw.stat().st_size,
            schema_version=files.sqlite_schema_version(raw),
            created_at=now.isoformat(),
            source=database.describe(),
            kind=kind,
            encrypted=bool(recipients),
            extra={"crm_version": __version__, "host": socket.gethostname()},
        )
        _place(packed, final, manifest)
    finally:
        files.remove_quietly(raw, packed)
    return final


def _take_dump(crm: Crm, folder: Path, recipients: Sequence[str], kind: str) -> Path:
    """PostgreSQL: a dump of every table from one snapshot, packed like a SQLite copy."""
    from crm_tui.logic.exchange import exports

    now = datetime.now(UTC)
    name = crm.database.url.database or "crm"
    final = _new_name(folder, name, kind, now, bool(recipients), "dump")
    raw = folder / f"{files.TEMP_PREFIX}{os.getpid()}-{final.name}.raw"
    packed = folder / f"{files.TEMP_PREFIX}{final.name}"
    try:
        dump = exports.write_dump(crm, raw)
        sha256, size = files.pack(raw, packed, recipients)
        manifest = files.Manifest(
            file=final.name,
            sha256=sha256,
            size=size,
            raw_size=raw.stat().st_size,
            schema_version=dump.schema_version,
            created_at=now.isoformat(),
            source=crm.database.describe(),
            backend=crm.database.backend,
            kind=kind,
            encrypted=bool(recipients),
            content="dump",
            counts=dump.counts,
            extra={"crm_version": __version__, "host": socket.gethostname()},
        )
        _place(packed, final, manifest)
    finally:
        files.remove_quietly(raw, packed)
    return final


def _place(packed: Path, final: Path, manifest: files.Manifest) -> None:
    """Rename the checked file into place, then its manifest: a listed backup is whole."""
    os.replace(packed, final)
    manifest.write(files.manifest_path(final))
    files.sync_folder(final.parent)


def _rotate(folder: Path, made: Path, keep: int) -> None:
    """Remove all but the newest ``keep`` regular backups of the same database."""
    source = files.Manifest.read(files.manifest_path(made)).source
    mine = []
    for path in files.data_files(folder):
        try:
            manifest = files.Manifest.read(files.manifest_path(path))
        except files.BackupDamaged:
            continue  # never delete what we cannot identify
        if manifest.kind == "backup" and manifest.source == source and path != made:
            mine.append((manifest.created_at, path))
    mine.sort(reverse=True)
    for _, path in mine[max(keep - 1, 0) :]:
        files.remove_quietly(files.manifest_path(path), path)


# Listing and verifying


def _info(path: Path, manifest: files.Manifest | None) -> BackupInfo:
    if manifest is None:
        return BackupInfo(
            file=str(path), created_at=None, kind="unknown", size=path.stat().st_size,
            schema_version=None, encrypted=path.name.endswith(files.AGE_SUFFIX), source="",
            sha256=None, complete=False,
        )  # fmt: skip
    return BackupInfo(
        file=str(path),
        created_at=datetime.fromisoformat(manifest.created_at),
        kind=manifest.kind,
        size=manifest.size,
        schema_version=manifest.schema_version,
        encrypted=manifest.encrypted,
        source=manifest.source,
        sha256=manifest.sha256,
        complete=True,
    )


def list_backups(folder: Path | str | None = None) -> list[BackupInfo]:
    """The backups in ``folder``, newest first; one without a manifest is incomplete."""
    target, _ = _folder(folder)
    listed = []
    for path in files.data_files(target):
        try:
            manifest: files.Manifest | None = files.Manifest.read(files.manifest_path(path))
        except files.BackupDamaged:
            manifest = None
        listed.append(_info(path, manifest))
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(listed, key=lambda info: (info.created_at or epoch, info.file), reverse=True)


def verify_backup(path: Path | str, *, identity: Path | str | None = None) -> VerifyReport:
    """Check one backup: its manifest, SHA-256 and size; then, when it can be read
    (unencrypted, or with the identity), that it decompresses and is a sound database
    (a SQLite copy's integrity check; a dump's every row and row counts)."""
    backup = Path(path).expanduser().absolute()
    checked: list[str] = []
    try:
        if not backup.is_file():
            raise Invalid(f"no backup file {backup}")
        with files.scratch_folder(backup.parent) as work:
            manifest, _ = _unpacked(backup, identity, work, checked)
        return VerifyReport(
            file=str(backup), ok=True, problem=None, schema_version=manifest.schema_version, checked=checked
        )
    except OSError as exc:
        problem = str(_io_problem("unpack the backup", exc))
    except (Invalid, DatabaseProblem) as exc:
        problem = str(exc)
    return VerifyReport(file=str(backup), ok=False, problem=problem, schema_version=None, checked=checked)


def verify_all(folder: Path | str | None = None, *, identity: Path | str | None = None) -> list[VerifyReport]:
    """Verify every backup in ``folder``, newest first."""
    return [verify_backup(info.file, identity=identity) for info in list_backups(folder)]


def _unpacked(
    backup: Path, identity: Path | str | None, workdir: Path, checked: list[str]
) -> tuple[files.Manifest, Path | None]:
    """Check ``backup`` and unpack it into ``workdir`` (a scratch folder): the manifest
    and the raw copy.

    The copy is None for an encrypted backup checked without an identity (its checksum
    is all that can be checked then). Every failure is an Invalid naming the damage.
    """
    if not backup.is_file():
        raise Invalid(f"no backup file {backup}")
    try:
        manifest = files.Manifest.read(files.manifest_path(backup))
        if manifest.format != files.FORMAT:
            raise Invalid(f"{backup.name}: unknown backup format {manifest.format!r}")
        sha256, size = files.file_sha256(backup)
        if size != manifest.size:
            raise files.BackupDamaged(
                f"{backup.name} is damaged: {size} bytes where the manifest says {manifest.size} (cut short?)"
            )
        if sha256 != manifest.sha256:
            raise files.BackupDamaged(f"{backup.name} is damaged: its SHA-256 does not match the manifest")
        checked.append("checksum")
        if manifest.encrypted and identity is None:
            return manifest, None
        keys = files.identities_from(Path(identity).expanduser()) if manifest.encrypted else []
        copy = workdir / f"{backup.name}.raw"
        raw_size = files.unpack(backup, copy, keys)
        checked.append("decompression")
        if raw_size != manifest.raw_size:
            raise files.BackupDamaged(f"{backup.name} is damaged: it unpacks to the wrong size")
        if manifest.content == "sqlite":
            _check_copy(backup, copy, manifest, checked)
        else:
            _check_dump(backup, copy, manifest, checked)
        return manifest, copy
    except (files.BackupDamaged, files.BackupKeyProblem) as exc:
        raise Invalid(str(exc)) from None
    except OSError as exc:
        raise _io_problem("read the backup", exc) from None


def _check_copy(backup: Path, copy: Path, manifest: files.Manifest, checked: list[str]) -> None:
    problem = files.check_sqlite(copy)
    if problem:
        raise files.BackupDamaged(f"{backup.name} is damaged: {problem}")
    checked.append("integrity")
    _check_schema_version(backup, files.sqlite_schema_version(copy), manifest, checked)


def _check_dump(backup: Path, copy: Path, manifest: files.Manifest, checked: list[str]) -> None:
    """Every line of the dump read and checked; its row counts are the manifest's."""
    from crm_tui.logic.exchange import exports

    try:
        dump = exports.check_dump(copy)
    except Invalid as exc:
        raise files.BackupDamaged(f"{backup.name} is damaged: {exc}") from None
    checked.append("every row")
    if dump.counts != manifest.counts:
        raise files.BackupDamaged(f"{backup.name}: the rows inside are not the ones the manifest counts")
    checked.append("row counts")
    _check_schema_version(backup, dump.schema_version, manifest, checked)


def _check_schema_version(
    backup: Path, found: str | None, manifest: files.Manifest, checked: list[str]
) -> None:
    if found != manifest.schema_version:
        raise files.BackupDamaged(
            f"{backup.name}: schema {found} inside, but the manifest says {manifest.schema_version}"
        )
    checked.append("schema version")


# Restoring


def restore_backup(
    settings: Settings,
    path: Path | str,
    *,
    identity: Path | str | None = None,
    folder: Path | str | None = None,
) -> RestoreReport:
    """Replace the configured database with a backup, after checking both.

    The acting user must be an admin of the current database (when there is one). A
    schema newer than this crm is refused; an older one is upgraded before the swap.
    The safety backup of the current data goes to ``folder``.
    """
    backup = Path(path).expanduser().absolute()
    try:
        url = normalise_url(settings.database_target()[0])
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    if url.get_backend_name() == "postgresql":
        return _restore_into_postgres(settings, url, backup, identity, folder)
    return _restore_into_sqlite(settings, url, backup, identity, folder)


def _restore_into_sqlite(
    settings: Settings, url: URL, backup: Path, identity: Path | str | None, folder: Path | str | None
) -> RestoreReport:
    """Rewrite the database file, in one write transaction, from a copy at this crm's schema."""
    target = sqlite_file(url)
    if target is None:
        raise Invalid("an in-memory database cannot be restored into")
    # No database yet: restoring creates it, and there is no admin to ask.
    current = _admin_of_current(settings) if target.is_file() else None
    try:
        if not target.parent.is_dir():
            raise DatabaseProblem(f"cannot restore: folder {target.parent} does not exist")
        with files.scratch_folder(target.parent) as work:
            manifest, copy = _unpacked(backup, identity or _need_identity(backup), work, [])
            assert copy is not None
            copy, upgraded_from = _as_sqlite_at_head(backup, manifest, copy, settings)
            safety = _safety_backup(current, folder)
            files.restore_sqlite(copy, target)
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    except OSError as exc:
        raise _io_problem("restore the backup", exc) from None
    finally:
        if current is not None:
            current.close()
    return RestoreReport(
        file=str(backup), database=str(target), schema_version=schema.HEAD,
        upgraded_from=upgraded_from, safety_backup=safety,
    )  # fmt: skip


def _restore_into_postgres(
    settings: Settings, url: URL, backup: Path, identity: Path | str | None, folder: Path | str | None
) -> RestoreReport:
    """Empty every crm table and fill it from the backup, in one transaction."""
    current = _admin_of_current(settings, replacing_rows=True)
    database = current.database if current is not None else Database(url, create=False)
    workdir, is_default = _folder(folder)
    try:
        files.private_folder(workdir, enforce=is_default)
        with files.scratch_folder(workdir) as work:
            manifest, copy = _unpacked(backup, identity or _need_identity(backup), work, [])
            assert copy is not None
            upgraded_from = _dump_upgraded_from(manifest, backup) if manifest.content == "dump" else None
            is_dump = manifest.content == "dump" and upgraded_from is None
            if not is_dump:
                copy, upgraded_from = _as_sqlite_at_head(backup, manifest, copy, settings)
            safety = _safety_backup(current, folder)
            if schema.read_status(database).state in ("empty", "older"):
                _upgrade(database, settings)
            _replace_rows(database, copy, is_dump)
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    except OSError as exc:
        raise _io_problem("restore the backup", exc) from None
    finally:
        database.close()
    return RestoreReport(
        file=str(backup), database=database.describe(), schema_version=schema.HEAD,
        upgraded_from=upgraded_from, safety_backup=safety,
    )  # fmt: skip


def _replace_rows(database: Database, copy: Path, is_dump: bool) -> None:
    """Every crm row of ``database`` replaced by those of ``copy`` (a dump at this crm's
    schema, or a SQLite file), in one transaction: a failure leaves the data as it was."""
    from crm_tui.logic.exchange import exports

    source = None if is_dump else Database(f"sqlite:///{copy}", create=False)
    try:
        with database.connection(write=True) as conn:
            if source is None:
                exports.replace_rows(conn, exports.dump_chunks(copy))
            else:
                with files.read_snapshot(source.engine) as rows:
                    exports.replace_rows(conn, exports.database_chunks(rows))
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise Conflict(
                f"{database.describe()} is in use: a session held its tables for longer than "
                f"{files.LOCK_TIMEOUT}; the data is as it was, try again"
            ) from None
        raise DatabaseProblem(
            f"cannot restore into {database.describe()}: {exc.orig}; the data is as it was"
        ) from None
    finally:
        if source is not None:
            source.close()


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


def _safety_backup(current: Crm | None, folder: Path | str | None) -> str | None:
    """A backup of the data about to be replaced; None when there is none."""
    if current is None:
        return None
    return create_backup(current, folder=folder, kind="safety").file


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


def _dump_as_sqlite(dump: Path, version: str, settings: Settings) -> Path:
    """Load a dump into a new SQLite file beside it, at the dump's schema ``version``,
    then upgrade the file to this crm's schema with the migrations."""
    from crm_tui.logic.exchange import exports

    loaded = dump.with_name(dump.name + ".sqlite3")
    files.remove_sqlite_files(loaded)
    database = Database(f"sqlite:///{loaded}")
    try:
        schema.upgrade(database, version)
        with database.connection(write=True) as conn:
            exports.replace_rows(conn, exports.dump_chunks(dump))
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
    from crm_tui.logic.service.tickets import span_measure

    measure = span_measure(Crm(database, settings, settings.acting_username()))
    schema.upgrade(database, measure_spans=measure)
