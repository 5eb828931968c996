"""Verifying a backup: that it is whole, unpacks, and holds a sound database.

Verify checks the SHA-256 and size against the manifest, decompresses (decrypts with
an identity), then a SQLite copy's integrity and schema version, or a dump's every
line, its row counts against the manifest and its schema version. A restore reads a
backup only through the same checks.

Unpacking stops as soon as the data outgrows the size the manifest gives, and bytes
after the compressed data are damage. An encrypted backup checked without its identity
is not verified (only its checksum could be read), and a backup of a schema newer than
this crm's is refused, as a restore would refuse it.
"""

from __future__ import annotations

from pathlib import Path

from crm_tui.config import Settings
from crm_tui.logic.admin.backups import database_folders, io_problem, list_backups, remove_leftovers
from crm_tui.logic.core.errors import DatabaseProblem, Invalid
from crm_tui.logic.core.schemas import Output
from crm_tui.storage import backup as files
from crm_tui.storage import dump, schema

OK = "ok"
DAMAGED = "damaged"
NEEDS_IDENTITY = "needs identity"  # encrypted, checked without its identity: not verified
NEWER = "newer schema"  # sound, but of a schema this crm cannot restore


class NewerSchema(DatabaseProblem):
    """A backup of a schema newer than this crm knows: it cannot be restored here."""


class VerifyReport(Output):
    """The outcome of checking one backup; ``problem`` is None when it is sound, and
    ``state`` is ok, damaged, needs identity or newer schema."""

    file: str
    ok: bool
    state: str
    problem: str | None
    schema_version: str | None
    checked: list[str]


def verify_backup(
    path: Path | str, *, identity: Path | str | None = None, settings: Settings | None = None
) -> VerifyReport:
    """Check one backup: its manifest, SHA-256 and size; then, when it can be read
    (unencrypted, or with the identity), that it decompresses and is a sound database
    (a SQLite copy's integrity check; a dump's every row and row counts). What killed
    runs left beside it, and beside the database of ``settings``, is removed first."""
    backup = Path(path).expanduser().absolute()
    near = database_folders(settings)
    checked: list[str] = []
    state, problem, version = DAMAGED, None, None
    try:
        if not backup.is_file():
            raise Invalid(f"no backup file {backup}")
        remove_leftovers(backup.parent, *near)
        with files.scratch_folder(backup.parent) as work:
            manifest, copy = unpack_verified(backup, identity, work, checked)
        version = manifest.schema_version
        state = OK if copy is not None else NEEDS_IDENTITY
        if copy is None:
            problem = (
                f"{backup.name}: not verified: needs --identity (it is encrypted; its checksum is right)"
            )
    except OSError as exc:
        problem = str(io_problem("unpack the backup", exc))
    except NewerSchema as exc:
        state, problem = NEWER, str(exc)
    except (Invalid, DatabaseProblem) as exc:
        problem = str(exc)
    return VerifyReport(
        file=str(backup),
        ok=state == OK,
        state=state,
        problem=problem,
        schema_version=version,
        checked=checked,
    )


def verify_all(
    folder: Path | str | None = None, *, identity: Path | str | None = None, settings: Settings | None = None
) -> list[VerifyReport]:
    """Verify every backup in ``folder``, newest first."""
    return [verify_backup(info.file, identity=identity, settings=settings) for info in list_backups(folder)]


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
        keys = []
        if manifest.encrypted:
            if identity is None:
                return manifest, None
            keys = files.identities_from(Path(identity).expanduser())
        copy = workdir / f"{backup.name}.raw"
        raw_size = files.unpack(backup, copy, manifest.raw_size, keys)
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
    if found is not None and found != schema.HEAD and found not in schema.known_revisions():
        raise NewerSchema(
            f"{backup.name} has schema {found}, newer than this crm knows ({schema.HEAD}); "
            "install a newer crm to restore it"
        )
    checked.append("schema version")
