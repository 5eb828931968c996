"""Backups: who may take one, where it goes, how many are kept, and how they are listed.

- A backup is taken by an admin (the ``database.manage`` permission), as a consistent
  snapshot while others keep working, checked before it is renamed into place, and
  kept with mode 0600 in a 0700 folder, beside a manifest with its SHA-256. A database
  of any schema version can be backed up: the backup says which version it holds.
- SQLite: a copy of the database file through SQLite's backup API, integrity-checked.
- PostgreSQL: a dump (``storage/dump.py``) of every table, read in one REPEATABLE
  READ, READ ONLY transaction; the manifest records each table's row count. Not
  pg_dump: a dump is then the same on every server version, needs no client tools of
  the server's version on the backup machine, can be restored into SQLite as well, and
  is upgraded by crm's own migrations when it is older.
- Rotation keeps the newest N regular backups of the same database; safety backups
  (taken before a restore) are never rotated away, nor is the backup just made.

Checking a backup is ``verification.py``; putting one back, ``restores.py``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from crm_tui import __version__
from crm_tui.config import Settings, data_dir
from crm_tui.logic.core.context import Crm, open_crm
from crm_tui.logic.core.errors import Conflict, DatabaseProblem, Invalid
from crm_tui.logic.core.schemas import Output
from crm_tui.storage import backup as files
from crm_tui.storage import dump, schema
from crm_tui.storage.database import Database, normalise_url, sqlite_file
from crm_tui.storage.errors import StorageError
from crm_tui.storage.folders import private_folder

PERMISSION = "database.manage"
LOCK_WAIT_SECONDS = 120.0


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


def default_folder() -> Path:
    """Backups go to ``backups`` in the platformdirs data folder unless told otherwise."""
    return data_dir() / "backups"


def backup_folder(folder: Path | str | None) -> tuple[Path, bool]:
    """The folder backups go to, and whether it is the default (whose mode crm keeps
    at 0700; a folder the user names is left as they made it)."""
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


def remove_leftovers(*folders: Path) -> list[Path]:
    """What runs of backup, verify and restore killed outright left in ``folders``,
    removed: scratch folders, and a backup folder's temporary files. Each run calls it
    on the folders it works in; a folder that cannot be read is passed over."""
    removed: list[Path] = []
    for folder in dict.fromkeys(folders):
        try:
            removed += files.remove_leftovers(folder)
        except OSError:
            continue
    return removed


def database_folders(settings: Settings | None) -> list[Path]:
    """The folder of the configured SQLite database, where restores unpack their copies
    (none for PostgreSQL, or without settings)."""
    if settings is None:
        return []
    try:
        path = sqlite_file(normalise_url(settings.database_target()[0]))
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    return [path.parent] if path is not None else []


def clean_up(settings: Settings, folder: Path | str | None = None) -> list[str]:
    """Remove what killed runs of backup, verify and restore left beside the configured
    database and in the backup folder; returns the paths removed. Opens no database."""
    target, _ = backup_folder(folder)
    return [str(removed) for removed in remove_leftovers(target, *database_folders(settings))]


def io_problem(action: str, exc: OSError) -> DatabaseProblem:
    """A failed file operation in the user's words: what could not be done, to which file."""
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
    target, is_default = backup_folder(folder)
    try:
        private_folder(target, tighten=is_default)
        if crm.database.path is not None:
            remove_leftovers(crm.database.path.parent)
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
        raise io_problem("write the backup", exc) from None
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
            recipients=list(recipients) or None,
            extra={"crm_version": __version__, "host": socket.gethostname()},
        )
        _place(packed, final, manifest)
    finally:
        files.remove_quietly(raw, packed)
    return final


def _take_dump(crm: Crm, folder: Path, recipients: Sequence[str], kind: str) -> Path:
    """PostgreSQL: a dump of every table from one snapshot, packed like a SQLite copy."""
    now = datetime.now(UTC)
    name = crm.database.url.database or "crm"
    final = _new_name(folder, name, kind, now, bool(recipients), "dump")
    raw = folder / f"{files.TEMP_PREFIX}{os.getpid()}-{final.name}.raw"
    packed = folder / f"{files.TEMP_PREFIX}{final.name}"
    try:
        written = dump.write_dump(crm.database.engine, raw)
        sha256, size = files.pack(raw, packed, recipients)
        manifest = files.Manifest(
            file=final.name,
            sha256=sha256,
            size=size,
            raw_size=raw.stat().st_size,
            schema_version=written.schema_version,
            created_at=now.isoformat(),
            source=crm.database.describe(),
            backend=crm.database.backend,
            kind=kind,
            encrypted=bool(recipients),
            recipients=list(recipients) or None,
            content="dump",
            counts=written.counts,
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


# Listing


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
    target, _ = backup_folder(folder)
    listed = []
    for path in files.data_files(target):
        try:
            manifest: files.Manifest | None = files.Manifest.read(files.manifest_path(path))
        except files.BackupDamaged:
            manifest = None
        listed.append(_info(path, manifest))
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(listed, key=lambda info: (info.created_at or epoch, info.file), reverse=True)
