"""Backups: consistent while others write, verified, rotated, locked, encrypted, restorable."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crm_tui.config import load_settings
from crm_tui.logic.admin import backups, restores, verification
from crm_tui.logic.core import users
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.core.errors import Conflict, DatabaseProblem, Forbidden, Invalid
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.storage import schema

pytestmark = pytest.mark.sqlite_only
ROOT = Path(__file__).resolve().parents[2]
CRM = Path(sys.executable).with_name("crm")  # the installed console script, as cron runs it


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "backups"


def _names(crm) -> list[str]:
    return [c.name for c in customers.list_customers(crm, limit=1000).customers]


def _add(crm, *names: str) -> None:
    for name in names:
        customers.add_customer(crm, CustomerCreate(name=name))


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_create_list_verify_and_modes(crm, folder, cli):
    _add(crm, "Acme", "Beta")
    made = backups.create_backup(crm, folder=folder)
    path = Path(made.file)
    assert path.parent == folder and path.name.endswith(".sqlite3.zst")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    manifest = json.loads((folder / (path.name + ".json")).read_text())
    assert manifest["schema_version"] == schema.HEAD and len(manifest["sha256"]) == 64
    assert manifest["size"] == path.stat().st_size and manifest["kind"] == "backup"
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]
    assert [info.file for info in backups.list_backups(folder)] == [made.file]
    report = verification.verify_backup(path)
    assert report.ok and report.checked == ["checksum", "decompression", "integrity", "schema version"]
    result = cli("backup", "verify", str(path), "-f", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["ok"] is True


def test_default_folder_is_under_the_data_folder(crm, monkeypatch, tmp_path):
    made = backups.create_backup(crm)
    assert Path(made.file).parent == backups.default_folder()
    assert str(backups.default_folder()).startswith(os.environ["XDG_DATA_HOME"])
    assert stat.S_IMODE(backups.default_folder().stat().st_mode) == 0o700


@pytest.mark.parametrize("damage", ["flip", "truncate", "no-manifest", "bad-manifest"])
def test_damaged_copies_are_refused_by_verify_and_restore(crm, folder, cli, counts, damage):
    _add(crm, "Acme")
    path = Path(backups.create_backup(crm, folder=folder).file)
    manifest = folder / (path.name + ".json")
    if damage == "flip":
        _flip_byte(path, path.stat().st_size // 2)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "no-manifest":
        manifest.unlink()
    else:
        manifest.write_text("{not json")
    _add(crm, "Later")
    before = counts()
    report = verification.verify_backup(path)
    assert not report.ok
    expected = {
        "flip": "SHA-256 does not match",
        "truncate": "cut short?",
        "no-manifest": "no manifest",
        "bad-manifest": "unreadable manifest",
    }[damage]
    assert expected in report.problem
    result = cli("backup", "verify", str(path))
    assert result.exit_code == 3 and expected in result.stderr
    result = cli("restore", str(path), "--yes", "--dir", str(folder))
    assert result.exit_code == 3 and result.stderr.startswith("crm: error: ") and expected in result.stderr
    assert counts() == before and _names(crm) == ["Acme", "Later"]


def test_damage_inside_a_copy_with_a_matching_checksum_is_found(crm, folder):
    """A manifest rewritten to match a damaged file still fails decompression or integrity."""
    _add(crm, "Acme")
    path = Path(backups.create_backup(crm, folder=folder).file)
    _flip_byte(path, path.stat().st_size // 2)
    from crm_tui.storage.backup import Manifest, file_sha256

    manifest_file = folder / (path.name + ".json")
    manifest = Manifest.read(manifest_file)
    manifest.sha256, manifest.size = file_sha256(path)
    manifest_file.unlink()
    manifest.write(manifest_file)
    report = verification.verify_backup(path)
    assert not report.ok and "damaged" in report.problem


def test_rotation_keeps_the_newest_and_never_safety_copies(crm, folder, db_url):
    made = [backups.create_backup(crm, folder=folder).file for _ in range(4)]
    safety = backups.create_backup(crm, folder=folder, kind="safety").file
    newest = backups.create_backup(crm, folder=folder, keep=2).file
    left = {info.file for info in backups.list_backups(folder)}
    assert left == {made[-1], newest, safety}
    assert len(set([*made, newest])) == 5  # names never collide within a second
    with pytest.raises(Invalid, match="at least 1"):
        backups.create_backup(crm, folder=folder, keep=0)


def test_only_admins_back_up_and_restore(crm, db_url, folder, cli):
    users.add_user(crm, UserCreate(username="bob", role="manager"))
    bob = open_crm(load_settings(db=db_url, user="bob"))
    with pytest.raises(Forbidden, match="admin"):
        backups.create_backup(bob, folder=folder)
    bob.close()
    path = backups.create_backup(crm, folder=folder).file
    result = cli("restore", path, "--yes", user="bob")
    assert result.exit_code == 7 and "admin" in result.stderr


def test_a_backup_run_removes_scratch_folders_of_dead_runs_only(crm, folder):
    from crm_tui.storage.backup import scratch_folder

    folder.mkdir(mode=0o700)
    dead = folder / ".crm-work-dead"  # as left by a verify killed with SIGKILL
    dead.mkdir()
    (dead / ".in-use").touch()
    (dead / "copy.sqlite3").write_bytes(b"x" * 1000)
    young = folder / ".crm-work-young"  # made a moment ago, its lock not yet taken
    young.mkdir()
    with scratch_folder(folder) as busy:  # a verify beside the backup, still reading
        backups.create_backup(crm, folder=folder)
        assert busy.exists()
    assert not dead.exists() and young.exists() and not busy.exists()


def test_a_held_lock_is_reported_as_a_conflict(crm, folder, monkeypatch):
    from crm_tui.storage.backup import folder_lock

    monkeypatch.setattr(backups, "LOCK_WAIT_SECONDS", 0.2)
    folder.mkdir(mode=0o700)
    with folder_lock(folder, wait=0), pytest.raises(Conflict, match="another backup is running"):
        backups.create_backup(crm, folder=folder)
    assert backups.list_backups(folder) == []


def _crm_process(db: Path, *args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [str(CRM), "--db", str(db), *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env if env is not None else {**os.environ, "CRM_USER": "alice"}, cwd=ROOT, **kwargs,
    )  # fmt: skip


def test_two_concurrent_backup_runs_both_finish_whole(crm, db_url, folder):
    _add(crm, *(f"Firm {n}" for n in range(200)))
    db = Path(db_url.removeprefix("sqlite:///"))
    runs = [_crm_process(db, "backup", "create", "--dir", str(folder), "--keep", "5") for _ in range(2)]
    results = [(run.wait(60), *run.communicate()) for run in runs]
    assert [code for code, _, _ in results] == [0, 0], results
    files = [out.strip() for _, out, _ in results]
    assert len(set(files)) == 2
    assert all(verification.verify_backup(f).ok for f in files)
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]


def test_cron_run_with_an_empty_environment_and_no_terminal(crm, db_url, folder, tmp_path):
    db = Path(db_url.removeprefix("sqlite:///"))
    ok = _crm_process(db, "--user", "alice", "backup", "create", "--quiet", "--dir", str(folder), env={})
    assert (ok.wait(60), *ok.communicate()) == (0, "", "")
    assert len(backups.list_backups(folder)) == 1
    missing = tmp_path / "nowhere" / "crm.sqlite3"
    bad = _crm_process(
        missing, "--user", "alice", "backup", "create", "--quiet", "--dir", str(folder), env={}
    )
    code, out, err = bad.wait(60), *bad.communicate()
    assert code == 8 and out == "" and err.count("\n") == 1 and err.startswith("crm: error: ")


@pytest.mark.never_opened
def test_nothing_to_back_up_is_said_clearly(db_url, folder, cli):
    result = cli("backup", "create", "--dir", str(folder))
    assert result.exit_code == 8 and "no database at" in result.stderr
    Path(db_url.removeprefix("sqlite:///")).touch()
    result = cli("backup", "create", "--dir", str(folder))
    assert result.exit_code == 3 and "holds no crm data yet" in result.stderr
    assert backups.list_backups(folder) == []


def test_restore_without_yes_and_without_a_terminal_is_refused(crm, folder, cli):
    path = backups.create_backup(crm, folder=folder).file
    result = cli("restore", path)
    assert result.exit_code == 2 and "--yes" in result.stderr


def test_restore_brings_back_the_data_and_keeps_a_safety_copy(crm, db_url, folder, cli, tmp_path):
    _add(crm, "Acme")
    path = backups.create_backup(crm, folder=folder).file
    _add(crm, "Added after")
    result = cli("restore", path, "--yes", "--dir", str(folder))
    assert result.exit_code == 0, result.stderr
    # The connection opened before the restore sees the restored data, whole.
    assert _names(crm) == ["Acme"]
    kinds = sorted(info.kind for info in backups.list_backups(folder))
    assert kinds == ["backup", "safety"]
    safety = next(info for info in backups.list_backups(folder) if info.kind == "safety")
    fresh = tmp_path / "fresh.sqlite3"
    restores.restore_backup(load_settings(db=str(fresh)), safety.file, folder=folder)
    other = open_crm(load_settings(db=str(fresh)))
    assert _names(other) == ["Acme", "Added after"]
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    other.close()


def test_a_newer_schema_is_refused_and_an_older_one_upgraded(crm, db_url, folder, tmp_path, counts, cli):
    _add(crm, "Acme")
    schema.stamp(crm.database, "9999")
    newer = backups.create_backup(crm, folder=folder).file
    schema.stamp(crm.database, schema.HEAD)
    before = counts()
    with pytest.raises(DatabaseProblem, match="newer than this crm"):
        restores.restore_backup(load_settings(db=db_url), newer, folder=folder)
    assert counts()["customers"] == before["customers"] and _names(crm) == ["Acme"]

    from alembic import command

    with crm.database.connection(write=True) as conn:
        command.downgrade(schema._alembic_config(conn), "0003")
    # The backup to take before `crm db upgrade`: crm opens the older database for it.
    result = cli("backup", "create", "--dir", str(folder))
    assert result.exit_code == 0, result.stderr
    older = verification.verify_backup(result.stdout.strip())
    assert older.ok and older.schema_version == "0003"
    target = tmp_path / "upgraded.sqlite3"
    report = restores.restore_backup(load_settings(db=str(target)), older.file, folder=folder)
    assert report.upgraded_from == "0003" and report.schema_version == schema.HEAD
    restored = open_crm(load_settings(db=str(target)))
    assert _names(restored) == ["Acme"]
    restored.close()


def test_an_older_copy_is_upgraded_as_crm_db_upgrade_would(tmp_path, folder):
    """Tickets' service spans, new in 0007, measured on the settings' business hours."""
    from crm_tui.logic.service.working_time import WorkingTime
    from crm_tui.storage.database import Database
    from tests.unit.test_ticket_spans import _kept, _measured, _old_database

    old = tmp_path / "old.sqlite3"
    _old_database(f"sqlite:///{old}").close()
    crm = backups.open_for_backup(load_settings(db=str(old), user="alice"))
    made = backups.create_backup(crm, folder=folder)
    crm.close()
    assert made.schema_version == "0006"
    target = tmp_path / "restored.sqlite3"
    settings = load_settings(db=str(target), user="alice")
    settings.business_hours, settings.business_days, settings.timezone = "09:00-17:00", "mon-fri", "UTC"
    assert restores.restore_backup(settings, made.file, folder=folder).upgraded_from == "0006"
    database = Database(f"sqlite:///{target}")
    clock = WorkingTime.from_settings("09:00-17:00", "mon-fri", "UTC")
    assert _kept(database) == _measured(database, clock) != _measured(database, WorkingTime())
    database.close()


def test_encryption_round_trip(crm, folder, tmp_path, cli):
    from pyrage import x25519

    identity = x25519.Identity.generate()
    key_file = tmp_path / "key.txt"
    key_file.write_text(f"# created: now\n{identity}\n")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(f"{x25519.Identity.generate()}\n")
    _add(crm, "Secret GmbH")
    result = cli("backup", "create", "--dir", str(folder), "--encrypt-to", str(identity.to_public()))
    assert result.exit_code == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.name.endswith(".zst.age") and b"Secret GmbH" not in path.read_bytes()
    assert verification.verify_backup(path).checked == ["checksum"]
    assert verification.verify_backup(path, identity=key_file).ok
    bad = verification.verify_backup(path, identity=wrong)
    assert not bad.ok and "cannot decrypt" in bad.problem
    _add(crm, "Later")
    result = cli("restore", str(path), "--yes", "--dir", str(folder))
    assert result.exit_code == 3 and "--identity" in result.stderr
    result = cli("restore", str(path), "--yes", "--dir", str(folder), "--identity", str(key_file))
    assert result.exit_code == 0, result.stderr
    assert _names(crm) == ["Secret GmbH"]
    result = cli("backup", "create", "--dir", str(folder), "--encrypt-to", "age1nonsense")
    assert result.exit_code == 3 and "not an age recipient" in result.stderr


WRITER = textwrap.dedent(
    """
    import sys, time
    from crm_tui.config import load_settings
    from crm_tui.logic.customers import customers
    from crm_tui.logic.core.context import open_crm
    from crm_tui.logic.customers.schemas import CustomerCreate
    crm = open_crm(load_settings(db=sys.argv[1], user="alice"))
    n = 0
    deadline = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < deadline:
        n += 1
        customers.add_customer(crm, CustomerCreate(name=f"Writer {n}", tags=["w"]))
        if n == 1:
            print("writing", flush=True)
    print(n)
    """
)


def test_backup_while_another_process_writes_is_consistent(crm, db_url, folder, tmp_path):
    _add(crm, *(f"Firm {n}" for n in range(300)))
    db = db_url.removeprefix("sqlite:///")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, db, "4"], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert writer.stdout.readline() == "writing\n"  # however long a busy machine takes to start it
    made = [backups.create_backup(crm, folder=folder).file for _ in range(3)]
    assert writer.wait(60) == 0
    written = int(writer.stdout.read())
    assert written > 10
    for path in made:
        assert verification.verify_backup(path).ok
        target = tmp_path / f"{Path(path).name}.sqlite3"
        restores.restore_backup(load_settings(db=str(target)), path, folder=folder)
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            customers_n = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
            audited = conn.execute(
                "SELECT count(*) FROM audit_entries WHERE entity = 'customer' AND action = 'create'"
            ).fetchone()[0]
            tagged = conn.execute("SELECT count(*) FROM customer_tags").fetchone()[0]
        # Every customer comes with its audit entry and (for the writer's) its tag: no half-writes.
        assert customers_n == audited and tagged == customers_n - 300
        assert 300 <= customers_n <= 300 + written
