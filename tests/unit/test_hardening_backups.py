"""Backups that cannot be turned against crm: nothing left behind by a run killed outright,
no safety copy in the clear, no unpacking past the manifest's size, no verify that says ok
without having looked, and crm's folders private to their owner however they come to be."""

from __future__ import annotations

import functools
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crm_tui.config import load_settings
from crm_tui.logic.admin import backups, restores, verification
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.storage import backup as files
from crm_tui.storage import schema

ROOT = Path(__file__).resolve().parents[2]
CRM = Path(sys.executable).with_name("crm")  # the installed console script


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def key(tmp_path):
    """An age identity file and its recipient."""
    from pyrage import x25519

    identity = x25519.Identity.generate()
    path = tmp_path / "key.txt"
    path.write_text(f"# created: now\n{identity}\n")
    return path, str(identity.to_public())


def _names(crm) -> list[str]:
    return [c.name for c in customers.list_customers(crm, limit=1000).customers]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _one_error(result, code: int, *expected: str) -> None:
    """Exit ``code``, and exactly one line on stderr, crm's, naming each of ``expected``."""
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("crm: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in result.stderr


def _rewrite(backup: Path, content: bytes, **fields) -> None:
    """Replace a backup's bytes and rewrite its manifest to match them, as someone who can
    write the backup folder could: only the checks inside the file can tell."""
    backup.write_bytes(content)
    manifest_file = files.manifest_path(backup)
    manifest = files.Manifest.read(manifest_file)
    manifest.sha256, manifest.size = files.file_sha256(backup)
    for name, value in fields.items():
        setattr(manifest, name, value)
    manifest_file.unlink()
    manifest.write(manifest_file)


@functools.cache
def _bomb(size: int) -> bytes:
    """A small zstd frame that unpacks to ``size`` zero bytes."""
    import zstandard

    compressor = zstandard.ZstdCompressor(level=3, write_checksum=True)
    chunk = bytes(1 << 22)
    writer = compressor.chunker(chunk_size=1 << 20)
    out = [piece for _ in range(size // len(chunk)) for piece in writer.compress(chunk)]
    return b"".join([*out, *writer.finish()])


# 11. Bounded unpacking, trailing bytes, verify without the identity, newer schemas


@pytest.mark.parametrize("encrypted", [False, True])
def test_a_zstd_bomb_is_refused_as_soon_as_it_outgrows_the_manifest(
    crm, db_url, folder, cli, counts, key, encrypted
):
    """64 KB that unpack to 2 GiB: refused after the manifest's size, not after 2 GiB."""
    import pyrage

    customers.add_customer(crm, CustomerCreate(name="Acme"))
    key_file, recipient = key
    made = Path(backups.create_backup(crm, folder=folder, recipients=[recipient] if encrypted else []).file)
    bomb = _bomb(2 << 30)
    assert len(bomb) < 100_000
    if encrypted:
        from pyrage import x25519

        bomb = pyrage.encrypt(bomb, [x25519.Recipient.from_str(recipient)])
    _rewrite(made, bomb)
    before = counts()
    identity = ["--identity", str(key_file)] if encrypted else []
    started = time.monotonic()
    verified = cli("backup", "verify", str(made), *identity)
    _one_error(verified, 3, "unpacks to more than the", "bytes its manifest says")
    restored = cli("restore", str(made), "--yes", "--dir", str(folder), *identity)
    _one_error(restored, 3, "unpacks to more than the")
    assert time.monotonic() - started < 20  # whole, it took 184 s
    assert counts() == before and _names(crm) == ["Acme"]
    assert not list(folder.glob(".crm-work-*")) and not list(folder.glob(".tmp-*"))


def test_bytes_after_the_compressed_data_are_refused(crm, folder, cli, counts):
    """Appended bytes, even a zstd "skippable" frame that a decompressor passes over."""
    import struct

    customers.add_customer(crm, CustomerCreate(name="Acme"))
    made = Path(backups.create_backup(crm, folder=folder).file)
    whole = made.read_bytes()
    before = counts()
    for tail in (b"appended", struct.pack("<II", 0x184D2A50, 4) + b"note"):
        _rewrite(made, whole + tail)
        _one_error(cli("backup", "verify", str(made)), 3, "bytes follow the end of its compressed data")
        result = cli("restore", str(made), "--yes", "--dir", str(folder))
        _one_error(result, 3, "bytes follow the end of its compressed data")
    _rewrite(made, whole[:-1])
    _one_error(cli("backup", "verify", str(made)), 3, "cut short?")
    assert counts() == before


def test_an_encrypted_backup_verified_without_its_identity_is_not_verified(crm, folder, cli, key):
    key_file, recipient = key
    made = backups.create_backup(crm, folder=folder, recipients=[recipient]).file
    result = cli("backup", "verify", made, "-f", "json")
    _one_error(result, 2, "not verified: needs --identity")
    (report,) = json.loads(result.stdout)
    assert report["ok"] is False and report["state"] == "needs identity" and report["checked"] == ["checksum"]
    every = cli("backup", "verify", "--all", "--dir", str(folder))
    _one_error(every, 2, "not verified: needs --identity")
    assert cli("backup", "verify", made, "--identity", str(key_file)).exit_code == 0


def test_verify_refuses_a_backup_of_a_newer_schema_as_restore_does(crm, folder, cli, counts):
    schema.stamp(crm.database, "9999_from_the_future")
    made = backups.create_backup(crm, folder=folder).file
    schema.stamp(crm.database, schema.HEAD)
    before = counts()
    result = cli("backup", "verify", made, "-f", "json")
    _one_error(result, 8, "has schema 9999_from_the_future, newer than this crm knows")
    assert json.loads(result.stdout)[0]["state"] == "newer schema"
    _one_error(cli("restore", made, "--yes", "--dir", str(folder)), 8, "newer than this crm knows")
    assert counts() == before


# 10. The safety copy of an encrypted backup's restore


def _safety(folder: Path) -> list[backups.BackupInfo]:
    return [info for info in backups.list_backups(folder) if info.kind == "safety"]


def test_the_safety_copy_of_an_encrypted_restore_is_encrypted_to_the_same_recipients(
    crm, folder, cli, key, tmp_path
):
    from pyrage import x25519

    key_file, recipient = key
    other = x25519.Identity.generate()  # a second key the team encrypts to
    customers.add_customer(crm, CustomerCreate(name="Secret GmbH"))
    made = backups.create_backup(crm, folder=folder, recipients=[recipient, str(other.to_public())]).file
    customers.add_customer(crm, CustomerCreate(name="Later AG"))
    result = cli("restore", made, "--yes", "--dir", str(folder), "--identity", str(key_file))
    assert result.exit_code == 0, result.stderr
    (safety,) = _safety(folder)
    assert safety.encrypted and safety.file.endswith(".age")
    assert b"Later AG" not in Path(safety.file).read_bytes()
    manifest = files.Manifest.read(files.manifest_path(Path(safety.file)))
    assert manifest.recipients == [recipient, str(other.to_public())]
    other_file = tmp_path / "other.txt"
    other_file.write_text(f"{other}\n")
    assert verification.verify_backup(safety.file, identity=other_file).ok
    assert _mode(Path(safety.file)) == 0o600


def test_an_encrypted_backup_that_does_not_name_its_recipients_gets_no_safety_copy_in_the_clear(
    crm, folder, cli, counts, key, tmp_path
):
    """A backup made before manifests named recipients: refused, unless --encrypt-to says."""
    key_file, recipient = key
    customers.add_customer(crm, CustomerCreate(name="Secret GmbH"))
    made = Path(backups.create_backup(crm, folder=folder, recipients=[recipient]).file)
    _rewrite(made, made.read_bytes(), recipients=None)
    customers.add_customer(crm, CustomerCreate(name="Later AG"))
    before = counts()
    refused = cli("restore", str(made), "--yes", "--dir", str(folder), "--identity", str(key_file))
    _one_error(refused, 3, "does not name its recipients", "--encrypt-to", f"yours is {recipient}")
    assert counts() == before and _names(crm) == ["Later AG", "Secret GmbH"] and not _safety(folder)
    assert not [*folder.glob(".crm-work-*"), *folder.glob(".tmp-*"), *tmp_path.glob(".crm-work-*")]
    given = ["--encrypt-to", recipient]
    result = cli("restore", str(made), "--yes", "--dir", str(folder), "--identity", str(key_file), *given)
    assert result.exit_code == 0, result.stderr
    (safety,) = _safety(folder)
    assert safety.encrypted and verification.verify_backup(safety.file, identity=key_file).ok


# 13. crm's folders are its owner's only, whoever makes them first


def test_the_data_folder_is_private_when_a_backup_makes_it(crm):
    data = Path(os.environ["XDG_DATA_HOME"])
    assert not data.exists()
    made = Path(backups.create_backup(crm).file)
    assert made.parent == data / "crm" / "backups"
    assert [_mode(p) for p in (data, data / "crm", data / "crm" / "backups", made)] == [0o700] * 3 + [0o600]


def test_the_data_folder_is_private_when_a_restores_safety_copy_makes_it(crm, db_url, folder):
    made = backups.create_backup(crm, folder=folder).file
    data = Path(os.environ["XDG_DATA_HOME"])
    assert not data.exists()
    report = restores.restore_backup(load_settings(db=db_url), made)
    assert Path(report.safety_backup).parent == data / "crm" / "backups"
    assert [_mode(p) for p in (data, data / "crm", data / "crm" / "backups")] == [0o700] * 3


@pytest.mark.sqlite_only
def test_a_restore_into_the_default_database_makes_its_folder_private(crm, folder):
    """On a new machine the data folder does not exist yet: the restore makes it, 0700."""
    from typer.testing import CliRunner

    from crm_tui.cli import app

    made = backups.create_backup(crm, folder=folder).file
    data = Path(os.environ["XDG_DATA_HOME"])
    # No --db: the default database, in a data folder that does not exist yet.
    result = CliRunner().invoke(app, ["restore", made, "--yes", "--dir", str(folder)])
    assert result.exit_code == 0, result.stderr
    assert (data / "crm" / "crm.sqlite3").is_file()
    assert [_mode(p) for p in (data, data / "crm", data / "crm" / "crm.sqlite3")] == [0o700, 0o700, 0o600]


# 9. Nothing left behind by runs killed outright


def _leftovers(db: Path, folder: Path) -> tuple[Path, Path]:
    """A scratch folder beside the database and a temporary file in the backup folder,
    made as a restore killed with SIGKILL leaves them: the scratch's lock file is there
    but no living process holds it; the backup folder has its lock file."""
    scratch = db.parent / ".crm-work-killed"
    scratch.mkdir(mode=0o700)
    (scratch / ".in-use").touch(mode=0o600)
    (scratch / "crm.sqlite3.zst.raw").write_bytes(b"x" * 10_000)
    folder.mkdir(mode=0o700, exist_ok=True)
    (folder / ".crm-backup.lock").touch(mode=0o600)
    temporary = folder / ".tmp-4242-crm-pre-restore-20260101T000000Z.sqlite3.zst.raw"
    temporary.write_bytes(b"y" * 10_000)
    return scratch, temporary


@pytest.mark.sqlite_only
@pytest.mark.parametrize("run", ["verify", "restore", "backup", "clean"])
def test_the_next_run_removes_what_a_killed_one_left(crm, db_url, folder, cli, counts, run):
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    made = backups.create_backup(crm, folder=folder).file
    db = Path(db_url.removeprefix("sqlite:///"))
    scratch, temporary = _leftovers(db, folder)
    with files.scratch_folder(db.parent) as busy:  # a verify still reading: its lock is held
        args = {
            "verify": ("backup", "verify", made),
            "restore": ("restore", made, "--yes", "--dir", str(folder)),
            "backup": ("backup", "create", "--dir", str(folder)),
            "clean": ("backup", "clean", "--dir", str(folder)),
        }[run]
        result = cli(*args)
        assert result.exit_code == 0, result.stderr
        assert busy.exists()
    assert not scratch.exists() and not temporary.exists()
    if run == "clean":
        assert sorted(result.stdout.split()) == sorted([str(scratch), str(temporary)])
        assert "removed 2 left behind" in result.stderr
        again = cli("backup", "clean", "--dir", str(folder))
        assert again.exit_code == 0 and again.stdout == "" and "nothing was left behind" in again.stderr
    assert _names(crm) == ["Acme"]


@pytest.mark.sqlite_only
def test_clean_leaves_other_programs_temporary_files_alone(crm, db_url, tmp_path, cli):
    """A .tmp- name outside a backup folder may be anyone's; a .crm-work- one is crm's."""
    db = Path(db_url.removeprefix("sqlite:///"))
    theirs = db.parent / ".tmp-someone-else"
    theirs.write_text("mine")
    result = cli("backup", "clean", "--dir", str(tmp_path / "no-backups-here"))
    assert result.exit_code == 0 and result.stdout == "" and theirs.exists()


def _padded(db: Path, megabytes: int) -> None:
    """Give the database incompressible bulk, so that a restore of it takes a while."""
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE padding (blob BLOB)")
        for _ in range(megabytes):
            conn.execute("INSERT INTO padding VALUES (?)", (os.urandom(1 << 20),))
    conn.close()


@pytest.mark.sqlite_only
def test_a_restore_killed_with_sigkill_leaves_what_the_next_run_removes(crm, db_url, folder, tmp_path):
    """A real `crm restore` killed while it unpacks: its scratch folder (0700, its copy
    0600) is left beside the database; the database is whole and as it was; `crm backup
    clean` (or the next backup, verify or restore) removes what was left."""
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    db = Path(db_url.removeprefix("sqlite:///"))
    _padded(db, 24)
    made = backups.create_backup(crm, folder=folder).file
    customers.add_customer(crm, CustomerCreate(name="After the backup"))
    env = {**os.environ, "CRM_USER": "alice"}
    kills = 0
    for _attempt in range(5):
        run = subprocess.Popen(
            [str(CRM), "--db", str(db), "restore", made, "--yes", "--dir", str(folder)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        copy = None
        while copy is None and run.poll() is None and time.monotonic() < deadline:
            copy = next(iter(db.parent.glob(".crm-work-*/*.raw")), None)
            time.sleep(0.002)
        if copy is not None and run.poll() is None:
            run.send_signal(signal.SIGKILL)
            kills += 1
        run.wait(30)
        if kills:
            break
    assert kills == 1, "the restore finished before it could be killed"
    (scratch,) = db.parent.glob(".crm-work-*")
    assert _mode(scratch) == 0o700 and _mode(scratch / ".in-use") == 0o600
    assert all(_mode(path) == 0o600 for path in scratch.iterdir())
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    assert _names(crm) == ["Acme", "After the backup"]
    cleaned = subprocess.run(
        [str(CRM), "--db", str(db), "backup", "clean", "--dir", str(folder)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert cleaned.returncode == 0, cleaned.stderr
    assert str(scratch) in cleaned.stdout.split()
    assert not list(db.parent.glob(".crm-work-*")) and not list(folder.glob(".tmp-*"))


@pytest.mark.parametrize("piece", [1, 2, 3, 7, 4096, 1 << 20])
def test_one_frame_is_found_whatever_pieces_it_comes_in(piece):
    """Raw, RLE and compressed blocks, frames with and without a content size, checksum
    or window, fed in pieces that split every header: the bytes pass through whole, one
    more is refused, and one fewer is cut short."""
    import io

    import zstandard

    from crm_tui.storage.zstd_frame import NotOneFrame, OneFrame

    data = os.urandom(60_000) + bytes(400_000) + b"crm " * 20_000
    frames = [
        zstandard.ZstdCompressor(write_checksum=True).compress(data),
        zstandard.ZstdCompressor(write_content_size=False).compress(data[:1000]),
        zstandard.ZstdCompressor(level=1, write_checksum=True, threads=2).compress(data),
    ]
    for frame in frames:
        passed = io.BytesIO()
        one = OneFrame(passed)
        for start in range(0, len(frame), piece):
            one.write(frame[start : start + piece])
        one.finish()
        assert passed.getvalue() == frame
        with pytest.raises(NotOneFrame, match="bytes follow"):
            one.write(b"\0")
        cut = OneFrame(io.BytesIO())
        cut.write(frame[:-1])
        with pytest.raises(NotOneFrame, match="cut short"):
            cut.finish()
