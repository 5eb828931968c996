"""Verifying a backup: that it is whole, unpacks, and holds a sound database.

Verify checks the SHA-256 and size against the manifest, decompresses (decrypts with
an identity), then a SQLite copy's integrity and schema version, or a dump's every
line, its row counts against the manifest and its schema version. A restore reads a
backup only through the same checks.
"""

from __future__ import annotations

from pathlib import Path

from crm_tui.logic.admin.backups import io_problem, list_backups
from crm_tui.logic.core.errors import DatabaseProblem, Invalid
from crm_tui.logic.core.schemas import Output
from crm_tui.storage import backup as files
from crm_tui.storage import dump


class VerifyReport(Output):
    """The outcome of checking one backup; ``problem`` is None when it is sound."""

    file: str
    ok: bool
    problem: str | None
    schema_version: str | None
    checked: list[str]


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
            manifest, _ = unpack_verified(backup, identity, work, checked)
        return VerifyReport(
            file=str(backup), ok=True, problem=None, schema_version=manifest.schema_version, checked=checked
        )
    except OSError as exc:
        problem = str(io_problem("unpack the backup", exc))
    except (Invalid, DatabaseProblem) as exc:
        problem = str(exc)
    return VerifyReport(file=str(backup), ok=False, problem=problem, schema_version=None, checked=checked)


def verify_all(folder: Path | str | None = None, *, identity: Path | str | None = None) -> list[VerifyReport]:
    """Verify every backup in ``folder``, newest first."""
    return [verify_backup(info.file, identity=identity) for info in list_backups(folder)]


def unpack_verified(
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
        raise io_problem("read the backup", exc) from None


def _check_copy(backup: Path, copy: Path, manifest: files.Manifest, checked: list[str]) -> None:
    problem = files.check_sqlite(copy)
    if problem:
        raise files.BackupDamaged(f"{backup.name} is damaged: {problem}")
    checked.append("integrity")
    _check_schema_version(backup, files.sqlite_schema_version(copy), manifest, checked)


def _check_dump(backup: Path, copy: Path, manifest: files.Manifest, checked: list[str]) -> None:
    """Every line of the dump read and checked; its row counts are the manifest's."""
    try:
        found = dump.check_dump(copy)
    except dump.DumpDamaged as exc:
        raise files.BackupDamaged(f"{backup.name} is damaged: {exc}") from None
    checked.append("every row")
    if found.counts != manifest.counts:
        raise files.BackupDamaged(f"{backup.name}: the rows inside are not the ones the manifest counts")
    checked.append("row counts")
    _check_schema_version(backup, found.schema_version, manifest, checked)


def _check_schema_version(
    backup: Path, found: str | None, manifest: files.Manifest, checked: list[str]
) -> None:
    if found != manifest.schema_version:
        raise files.BackupDamaged(
            f"{backup.name}: schema {found} inside, but the manifest says {manifest.schema_version}"
        )
    checked.append("schema version")
