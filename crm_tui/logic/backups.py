"""Backups and restores: who may, where they go, how many are kept, and what is checked.

- A backup is taken by an admin (the ``database.manage`` permission), as a consistent
  snapshot while others keep working, checked (integrity and SHA-256) before it is
  renamed into place, and kept with mode 0600 in a 0700 folder.
- Rotation keeps the newest N regular backups of the same database; safety backups
  (taken before a restore) are never rotated away, nor is the backup just made.
- A restore verifies the copy first, refuses a schema newer than this code, upgrades
  an older one, takes a safety backup, then swaps the data in one transaction.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from crm_tui import __version__
from crm_tui.config import Settings, data_dir
from crm_tui.logic.context import Crm, open_crm
from crm_tui.logic.errors import Conflict, DatabaseProblem, Invalid
from crm_tui.logic.schemas import Output
from crm_tui.storage import backup as files
from crm_tui.storage import schema
from crm_tui.storage.database import Database, normalise_url, sqlite_file
from crm_tui.storage.errors import StorageError

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
    """PostgreSQL: a logical export of every table, packed like a SQLite copy."""
    from crm_tui.logic import exports

    now = datetime.now(UTC)
    name = crm.database.url.database or "crm"
    final = _new_name(folder, name, kind, now, bool(recipients), "dump")
    raw = folder / f"{files.TEMP_PREFIX}{os.getpid()}-{final.name}.raw"
    packed = folder / f"{files.TEMP_PREFIX}{final.name}"
    try:
        schema_version = exports.write_dump(crm, raw)
        sha256, size = files.pack(raw, packed, recipients)
        manifest = files.Manifest(
            file=final.name,
            sha256=sha256,
            size=size,
            raw_size=raw.stat().st_size,
            schema_version=schema_version,
            created_at=now.isoformat(),
            source=crm.database.describe(),
            backend=crm.database.backend,
            kind=kind,
            encrypted=bool(recipients),
            content="dump",
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
    (unencrypted, or with the identity), that it decompresses and is a sound database."""
    backup = Path(path).expanduser().absolute()
    checked: list[str] = []
    try:
        manifest, copy = _unpacked(backup, identity, backup.parent, checked)
        if copy is not None:
            files.remove_sqlite_files(copy)
        return VerifyReport(
            file=str(backup), ok=True, problem=None, schema_version=manifest.schema_version, checked=checked
        )
    except (Invalid, DatabaseProblem) as exc:
        return VerifyReport(
            file=str(backup), ok=False, problem=str(exc), schema_version=None, checked=checked
        )


def verify_all(folder: Path | str | None = None, *, identity: Path | str | None = None) -> list[VerifyReport]:
    """Verify every backup in ``folder``, newest first."""
    return [verify_backup(info.file, identity=identity) for info in list_backups(folder)]


def _unpacked(
    backup: Path, identity: Path | str | None, workdir: Path, checked: list[str]
) -> tuple[files.Manifest, Path | None]:
    """Check ``backup`` and unpack it into ``workdir``: the manifest and the raw copy.

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
        copy = workdir / f"{files.TEMP_PREFIX}{os.getpid()}-{backup.name}.raw"
        files.remove_sqlite_files(copy)
        raw_size = files.unpack(backup, copy, keys)
        checked.append("decompression")
        if raw_size != manifest.raw_size:
            files.remove_quietly(copy)
            raise files.BackupDamaged(f"{backup.name} is damaged: it unpacks to the wrong size")
        if manifest.content == "sqlite":
            _check_copy(backup, copy, manifest, checked)
        return manifest, copy
    except (files.BackupDamaged, files.BackupKeyProblem) as exc:
        raise Invalid(str(exc)) from None
    except OSError as exc:
        raise _io_problem("read the backup", exc) from None


def _check_copy(backup: Path, copy: Path, manifest: files.Manifest, checked: list[str]) -> None:
    problem = files.check_sqlite(copy)
    if problem:
        files.remove_sqlite_files(copy)
        raise files.BackupDamaged(f"{backup.name} is damaged: {problem}")
    checked.append("integrity")
    found = files.sqlite_schema_version(copy)
    if found != manifest.schema_version:
        files.remove_sqlite_files(copy)
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
    """
    backup = Path(path).expanduser().absolute()
    try:
        url = normalise_url(settings.database_target()[0])
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    target = sqlite_file(url)
    if url.get_backend_name() != "sqlite":
        return _restore_dump(settings, backup, identity, folder)
    if target is None:
        raise Invalid("an in-memory database cannot be restored into")
    # No database yet: restoring creates it, and there is no admin to ask.
    safety = _current_admin_and_safety(settings, folder) if target.is_file() else None
    if not target.parent.is_dir():
        raise DatabaseProblem(f"cannot restore: folder {target.parent} does not exist")
    checked: list[str] = []
    manifest, copy = _unpacked(backup, identity or _need_identity(backup), target.parent, checked)
    assert copy is not None
    try:
        if manifest.content != "sqlite":
            raise Invalid(f"{backup.name} is a PostgreSQL dump; restore it into PostgreSQL")
        upgraded_from = _bring_to_head(copy, backup)
        files.restore_sqlite(copy, target)
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    finally:
        files.remove_sqlite_files(copy)
    return RestoreReport(
        file=str(backup), database=str(target), schema_version=schema.HEAD,
        upgraded_from=upgraded_from, safety_backup=safety,
    )  # fmt: skip


def _need_identity(backup: Path) -> None:
    if backup.name.endswith(files.AGE_SUFFIX):
        raise Invalid(f"{backup.name} is encrypted: give the identity file with --identity")


def _current_admin_and_safety(settings: Settings, folder: Path | str | None) -> str | None:
    """Check the actor is an admin of the current database, then back it up."""
    crm = open_crm(settings, check_schema=False, create=False)
    try:
        status = schema.read_status(crm.database)
        if status.state == "empty":
            return None
        with crm.work(PERMISSION, write=False):
            pass
        return create_backup(crm, folder=folder, kind="safety").file
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    finally:
        crm.close()


def _bring_to_head(copy: Path, backup: Path) -> str | None:
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
            schema.upgrade(database)
            return status.current
        return None
    finally:
        database.close()


def _restore_dump(
    settings: Settings, backup: Path, identity: Path | str | None, folder: Path | str | None
) -> RestoreReport:
    """PostgreSQL: load a logical dump into the database, replacing its rows."""
    from crm_tui.logic import exports

    safety = _current_admin_and_safety(settings, folder)
    checked: list[str] = []
    manifest, copy = _unpacked(backup, identity or _need_identity(backup), backup.parent, checked)
    assert copy is not None
    try:
        if manifest.content != "dump":
            raise Invalid(f"{backup.name} is a SQLite copy; restore it into a SQLite database")
        if manifest.schema_version != schema.HEAD:
            raise DatabaseProblem(
                f"{backup.name} has schema {manifest.schema_version}; "
                f"this crm loads dumps of {schema.HEAD} only"
            )
        crm = open_crm(settings)
        try:
            exports.load_dump(crm, copy, replace=True)
        finally:
            crm.close()
    finally:
        files.remove_quietly(copy)
    return RestoreReport(
        file=str(backup), database=crm.describe(), schema_version=manifest.schema_version,
        upgraded_from=None, safety_backup=safety,
    )  # fmt: skip
