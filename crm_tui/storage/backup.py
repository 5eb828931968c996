"""Backup mechanics: snapshot, compress, encrypt, checksum, manifest, lock, verify, replace.

A backup is one compressed (zstd) copy of the database, optionally age-encrypted, with
a JSON manifest beside it that records its SHA-256, sizes and schema version. Files are
written under a temporary name in the backup folder, checked, flushed to disk and then
renamed into place, so a backup that is listed is always whole. The rules (who may,
where, how many to keep) live in logic; this module only moves bytes safely. What a
backup of PostgreSQL holds, a dump of its rows, is read and written by ``dump.py``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from crm_tui.storage import progress
from crm_tui.storage.errors import StorageError
from crm_tui.storage.zstd_frame import NotOneFrame, OneFrame

FORMAT = "crm-backup/1"
DATA_SUFFIX = ".sqlite3.zst"
DUMP_SUFFIX = ".dump.zst"
AGE_SUFFIX = ".age"
MANIFEST_SUFFIX = ".json"
TEMP_PREFIX = ".tmp-"
SCRATCH_PREFIX = ".crm-work-"
LOCK_NAME = ".crm-backup.lock"
SCRATCH_LOCK = ".in-use"
CHUNK = 1 << 20  # bytes per read: large enough for speed, small enough for memory
# Level 1 on every core: a 1.8 GB database packs in about 4 s on two cores (level 3 on
# one core took 10 s) and to about 34 % of its size instead of 31 %. The backup budget
# (1 GB in under 15 s, ARCHITECTURE.md section 4) matters more than the last few percent.
ZSTD_LEVEL = 1
ZSTD_THREADS = -1  # zstd's worker threads: one per core
BUSY_TIMEOUT_MS = 15_000


class BackupLocked(StorageError):
    """Another backup holds the folder's lock."""


class BackupDamaged(StorageError):
    """A backup file fails its checksum, its decompression or its integrity check."""


class BackupKeyProblem(StorageError):
    """An encrypted backup cannot be read with the identity given, or a recipient is bad."""


@dataclass
class Manifest:
    """What is known of one backup file; written beside it as JSON."""

    file: str
    sha256: str
    size: int
    raw_size: int
    schema_version: str | None
    created_at: str
    source: str
    backend: str = "sqlite"
    kind: str = "backup"
    encrypted: bool = False
    content: str = "sqlite"  # "sqlite" (a database file) or "dump" (a logical export)
    format: str = FORMAT
    counts: dict[str, int] | None = None  # a dump's rows per table, checked by verify
    # An encrypted backup's age recipients (public keys): a restore encrypts its safety
    # copy of the data it replaces to them. None when unencrypted, or made before
    # manifests recorded them.
    recipients: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def write(self, path: Path) -> None:
        """Write the manifest atomically (temporary name, fsync, rename), mode 0600."""
        temp = path.with_name(TEMP_PREFIX + path.name)
        with private_file(temp) as out:
            out.write(json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n")
        os.replace(temp, path)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Read a manifest; a missing or unreadable one is reported as damage."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
            return cls(**known)
        except FileNotFoundError:
            raise BackupDamaged(f"no manifest {path.name} beside the backup") from None
        except (OSError, ValueError, TypeError) as exc:
            raise BackupDamaged(f"unreadable manifest {path.name}: {exc}") from None


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def data_files(folder: Path) -> list[Path]:
    """The backup files in ``folder`` (not manifests, not temporary files)."""
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if not path.name.startswith(".")
        and path.name.removesuffix(AGE_SUFFIX).endswith((DATA_SUFFIX, DUMP_SUFFIX))
    )


# Files and folders


@contextlib.contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """A new file readable by its owner only (0600), flushed to disk when closed."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out:
        yield out
        out.flush()
        os.fsync(out.fileno())


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries, so a rename survives a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_quietly(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def remove_sqlite_files(path: Path) -> None:
    """A database file and its journal, WAL and shared-memory files."""
    remove_quietly(*(path.with_name(path.name + suffix) for suffix in ("", "-journal", "-wal", "-shm")))


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Temporary files and scratch folders left by runs that died; call only while
    holding the folder's lock. A scratch folder still in use holds a lock of its own
    (see ``scratch_folder``) and is left alone. Returns what was removed."""
    removed = []
    for path in sorted(folder.glob(TEMP_PREFIX + "*")):
        if path.is_file() and not path.is_symlink():
            remove_quietly(path)
            removed.append(path)
    return removed + remove_abandoned_scratch(folder)


def remove_abandoned_scratch(folder: Path) -> list[Path]:
    """The scratch folders in ``folder`` that no living run holds, removed; safe without
    the backup folder's lock, and in any folder (the name is crm's own). Returns them."""
    removed = []
    for scratch in sorted(folder.glob(SCRATCH_PREFIX + "*")):
        if scratch.is_dir() and not scratch.is_symlink() and _abandoned(scratch):
            shutil.rmtree(scratch, ignore_errors=True)
            if not scratch.exists():
                removed.append(scratch)
    return removed


def remove_leftovers(folder: Path) -> list[Path]:
    """What runs of backup, verify and restore killed outright left in ``folder``, removed:
    scratch folders no living run holds and, in a backup folder no backup is writing to
    just now, temporary files. Returns what was removed.

    A verify or a restore cleans the folders it works in as it starts; a backup run,
    which holds the folder's lock anyway, cleans its folder under it. Temporary files
    are removed only in a folder that holds a backup lock file: elsewhere a ``.tmp-``
    name may be another program's.
    """
    if not folder.is_dir():
        return []
    if not (folder / LOCK_NAME).is_file():
        return remove_abandoned_scratch(folder)
    try:
        with folder_lock(folder, wait=0):
            return remove_stale_temporaries(folder)
    except BackupLocked:
        return remove_abandoned_scratch(folder)  # its temporary files may be a live run's


def _abandoned(scratch: Path) -> bool:
    """Whether no living process holds ``scratch``'s lock (the kernel drops a dead
    process's flock). A folder too new to hold its lock file yet is not abandoned, nor
    is one this user cannot open (another user's)."""
    try:
        fd = os.open(scratch / SCRATCH_LOCK, os.O_RDWR)
    except FileNotFoundError:
        try:
            return time.time() - scratch.stat().st_mtime > 3600
        except OSError:
            return False
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@contextlib.contextmanager
def scratch_folder(near: Path) -> Iterator[Path]:
    """A new private folder in ``near`` for unpacked copies, removed with all it holds.

    Not a ``.tmp-`` name: a backup run removes those as left behind by dead runs, and
    would remove a copy that a verify or restore beside it is still reading. While in
    use it holds a lock, so that a run killed outright leaves a folder the next backup
    run can tell apart from one still in use, and remove.
    """
    folder = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=near))
    fd = os.open(folder / SCRATCH_LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield folder
    finally:
        os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def folder_lock(folder: Path, *, wait: float) -> Iterator[None]:
    """Hold the backup folder's lock, waiting up to ``wait`` seconds for another run.

    flock is released by the kernel when a process dies, so a killed run never leaves
    a stale lock behind.
    """
    fd = os.open(folder / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BackupLocked(f"another backup is running in {folder}") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


# SQLite snapshots


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return connection


def snapshot_sqlite(source: Path, target: Path) -> None:
    """Copy a live database into the new file ``target`` through SQLite's backup API.

    All pages are copied in one step, that is inside one read transaction: in WAL mode
    writers carry on meanwhile and the copy is the database as of the step's start.
    The copy is switched out of WAL mode so that it is one self-contained file.
    """
    with private_file(target):
        pass
    src = _connect(source)
    dst = _connect(target)
    try:
        # The copy is a scratch file: it is packed, and the packed file is flushed to disk
        # before it is renamed into place. Syncing the scratch copy would only cost time.
        dst.execute("PRAGMA synchronous = OFF")
        with progress.step("copying the database", unit=""):
            src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:
        raise StorageError(f"cannot copy {source}: {exc}") from exc
    finally:
        dst.close()
        src.close()


def check_sqlite(path: Path, *, quick: bool = False) -> str | None:
    """Run SQLite's integrity check on a database file; None when it is sound.

    ``quick`` runs ``PRAGMA quick_check`` instead of ``integrity_check``: the same checks
    of every page, b-tree, record, free list and NOT NULL/CHECK constraint, except that
    index entries are not matched against their table rows (about 2 s instead of 27 s on
    a 1.8 GB database).
    """
    pragma = "quick_check" if quick else "integrity_check"
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            with progress.step("checking the database's integrity", unit=""):
                rows = connection.execute(f"PRAGMA {pragma}(5)").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return f"not a sound SQLite database ({exc})"
    problems = [row[0] for row in rows if row[0] != "ok"]
    return "; ".join(problems) if problems else None


def sqlite_schema_version(path: Path) -> str | None:
    """The Alembic revision stamped in a database file, or None if it has none."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except (sqlite3.Error, TypeError):
        return None
    finally:
        connection.close()


class CheckInBackground:
    """The check of a fresh copy at backup time, in a thread while the caller compresses.

    It is ``PRAGMA quick_check``, not the full ``integrity_check`` that ``crm backup
    verify`` and restore run on every backup they read. The copy comes from SQLite's
    backup API, which copies pages, not rows: an index can only disagree with its table
    in the copy if it already does in the live database, which is no damage of the
    backup and which verify reports in full. What a copy can get wrong (a page cut
    short, a torn or mis-linked b-tree, a bad free list, a record that does not decode)
    quick_check finds, in about 2 s for 1.8 GB where integrity_check takes 27 s, more
    than the whole budget of a backup (15 s for 1 GB). The bytes written are then
    covered by zstd's frame checksum and the SHA-256 in the manifest, so damage after
    the backup is refused by verify and restore. sqlite3 releases the GIL while it
    works, so the check runs beside the compression.
    """

    def __init__(self, path: Path) -> None:
        self.result: str | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        self.result = check_sqlite(path, quick=True)

    def wait(self) -> str | None:
        self._thread.join()
        return self.result


def restore_sqlite(copy: Path, target: Path) -> None:
    """Replace the database at ``target`` with ``copy`` in one write transaction.

    The backup API writes through the live database's own journal (its WAL): a crash
    leaves either the old or the new database, and connections other processes hold
    open see the old one until the commit and the new one after, never a mix. A file
    rename would leave their open handles on the old file and could replay a stale WAL.
    """
    if not target.exists():
        with private_file(target):
            pass  # a new database is created readable by its owner only, like crm's own
    src = _connect(copy)
    dst = _connect(target)
    try:
        dst.execute("PRAGMA journal_mode = WAL")
        with progress.step("writing the database", unit=""):
            src.backup(dst)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise StorageError(f"cannot write {target}: {exc}") from exc
    finally:
        dst.close()
        src.close()


# Streams: compression, encryption, checksums


class _HashingWriter:
    """A write-only file that hashes and counts what passes through it."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


def _recipients(texts: Sequence[str]) -> list[Any]:
    import pyrage  # its ssh and x25519 are compiled in: imported as attributes, not modules

    parsed = []
    for text in texts:
        try:
            parsed.append(
                pyrage.ssh.Recipient.from_str(text)
                if text.startswith("ssh-")
                else pyrage.x25519.Recipient.from_str(text)
            )
        except Exception as exc:  # pyrage raises its own types, all "not a recipient"
            raise BackupKeyProblem(f"not an age recipient: {text[:40]!r} ({exc})") from None
    return parsed


def identities_from(path: Path) -> list[Any]:
    """The age identities in an identity file (lines starting AGE-SECRET-KEY-)."""
    import pyrage

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BackupKeyProblem(f"cannot read the identity file {path}: {exc.strerror}") from None
    keys = [line.strip() for line in lines if line.strip().startswith("AGE-SECRET-KEY-")]
    if not keys:
        raise BackupKeyProblem(f"{path} holds no age identity (a line starting AGE-SECRET-KEY-)")
    try:
        return [pyrage.x25519.Identity.from_str(key) for key in keys]
    except Exception as exc:
        raise BackupKeyProblem(f"{path}: not a valid age identity ({exc})") from None


def public_keys(path: Path) -> list[str]:
    """The recipients (age1...) of the identities in an identity file: what to encrypt to
    so that the holder of the file can read it."""
    return [str(identity.to_public()) for identity in identities_from(path)]


def pack(raw: Path, target: Path, recipients: Sequence[str] = ()) -> tuple[str, int]:
    """Compress ``raw`` into the new file ``target`` (and encrypt it to ``recipients``).

    Streams in fixed-size chunks; returns the SHA-256 and size of what was written.
    """
    import zstandard

    keys = _recipients(recipients) if recipients else []
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True, threads=ZSTD_THREADS)
    with (
        private_file(target) as out,
        raw.open("rb") as file,
        progress.step("compressing", raw.stat().st_size, "bytes") as advance,
    ):
        source = progress.CountingReader(file, advance)
        hashing = _HashingWriter(out)
        if keys:
            import pyrage

            # pyrage and zstandard read and write any object with read() or write(); their
            # stubs ask for a BufferedIOBase and an IO[bytes] (here and below).
            pyrage.encrypt_io(compressor.stream_reader(source, read_size=CHUNK), hashing, keys)  # pyright: ignore[reportArgumentType]
        else:
            with compressor.stream_writer(hashing, closefd=False) as writer:  # pyright: ignore[reportArgumentType]
                while chunk := source.read(CHUNK):
                    writer.write(chunk)
    return hashing.sha.hexdigest(), hashing.size


def file_sha256(path: Path) -> tuple[str, int]:
    """The SHA-256 and size of a file, read in chunks."""
    sha = hashlib.sha256()
    size = 0
    with (
        path.open("rb") as source,
        progress.step("checking the checksum", path.stat().st_size, "bytes") as advance,
    ):
        while chunk := source.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
            advance(len(chunk))
    return sha.hexdigest(), size


def unpack(packed: Path, target: Path, limit: int, identities: Sequence[Any] = ()) -> int:
    """Decrypt (if encrypted) and decompress ``packed`` into the new file ``target``.

    Returns the size written. It stops as soon as the data would grow past ``limit``
    bytes (the manifest's size: a few kilobytes of zstd can hold gigabytes), and
    refuses bytes after the compressed data; a damaged, truncated or overlong file
    raises BackupDamaged.
    """
    import zstandard

    encrypted = packed.name.endswith(AGE_SUFFIX)
    if encrypted and not identities:
        raise BackupKeyProblem(f"{packed.name} is encrypted: give the identity file (--identity)")
    try:
        with (
            private_file(target) as out,
            packed.open("rb") as file,
            progress.step("unpacking", packed.stat().st_size, "bytes") as advance,
        ):
            source = progress.CountingReader(file, advance)
            bounded = _BoundedWriter(out, limit, packed.name)
            with zstandard.ZstdDecompressor().stream_writer(bounded, closefd=False) as writer:  # pyright: ignore[reportArgumentType]
                frame = OneFrame(writer)
                if encrypted:
                    _decrypt(packed, source, frame, identities)
                else:
                    while chunk := source.read(CHUNK):
                        frame.write(chunk)
                frame.finish()
    except (zstandard.ZstdError, NotOneFrame) as exc:
        remove_quietly(target)
        raise BackupDamaged(f"{packed.name} is damaged: {exc}") from None
    except BaseException:
        remove_quietly(target)
        raise
    return bounded.size


def _decrypt(packed: Path, source: progress.CountingReader, out: OneFrame, identities: Sequence[Any]) -> None:
    import pyrage

    try:
        pyrage.decrypt_io(source, out, list(identities))  # pyright: ignore[reportArgumentType]
    except pyrage.DecryptError as exc:
        # age authenticates every chunk and the end: a cut or altered file fails here, as
        # does the wrong identity.
        raise BackupKeyProblem(f"cannot decrypt {packed.name}: {exc}") from None


class _BoundedWriter:
    """A write-only file that counts what it is given and refuses to grow past ``limit``."""

    def __init__(self, out: BinaryIO, limit: int, name: str) -> None:
        self.out, self.limit, self.name = out, limit, name
        self.size = 0

    def write(self, data: bytes) -> int:
        if self.size + len(data) > self.limit:
            raise BackupDamaged(
                f"{self.name} is damaged: it unpacks to more than the {self.limit} bytes its manifest says"
            )
        self.size += len(data)
        return self.out.write(data)
