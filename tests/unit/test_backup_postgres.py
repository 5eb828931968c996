"""Backups of PostgreSQL: a dump from one snapshot, verified row by row, restored in one
transaction, with fresh ids after it; and SQLite backups restored into PostgreSQL and back."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from crm_tui.config import load_settings
from crm_tui.logic.admin import backups, demo, restores, verification
from crm_tui.logic.core import users
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.core.errors import Conflict, DatabaseProblem
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import customers, tasks, timeline
from crm_tui.logic.customers.schemas import ActivityCreate, CustomerCreate, TaskCreate
from crm_tui.logic.sales import deals
from crm_tui.logic.sales.schemas import DealCreate
from crm_tui.logic.service import tickets
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.storage import backup as files
from crm_tui.storage import dump, schema
from tests.conftest import _postgres_database, all_rows, table_counts
from tests.unit.test_backup import WRITER

pytestmark = pytest.mark.postgres_only
ROOT = Path(__file__).resolve().parents[2]
CHECKS = ["checksum", "decompression", "every row", "row counts", "schema version"]


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def other_url():
    """A second empty PostgreSQL database, to restore into."""
    yield from _postgres_database()


def _names(crm) -> list[str]:
    return [c.name for c in customers.list_customers(crm, limit=1000).customers]


def _add(crm, *names: str) -> None:
    for name in names:
        customers.add_customer(crm, CustomerCreate(name=name))


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _repack(path: Path, change: Callable[[list[bytes]], list[bytes]]) -> None:
    """Change the lines of a dump inside a backup and pack it again with a manifest that
    matches the new file: only the checks of the dump itself can tell."""
    raw = path.with_name("changed.raw")
    files.unpack(path, raw, files.Manifest.read(files.manifest_path(path)).raw_size)
    lines = change(raw.read_bytes().splitlines(keepends=True))
    raw.unlink()
    raw.write_bytes(b"".join(lines))
    path.unlink()
    sha256, size = files.pack(raw, path)
    manifest_file = files.manifest_path(path)
    manifest = files.Manifest.read(manifest_file)
    manifest.sha256, manifest.size, manifest.raw_size = sha256, size, raw.stat().st_size
    manifest_file.unlink()
    manifest.write(manifest_file)
    raw.unlink()


def test_create_list_verify(crm, db_url, folder, cli):
    demo.load_demo(crm)
    result = cli("backup", "create", "--dir", str(folder))
    assert result.exit_code == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.parent == folder and path.name.endswith(".dump.zst")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    manifest = json.loads(files.manifest_path(path).read_text())
    assert manifest["backend"] == "postgresql" and manifest["content"] == "dump"
    assert manifest["schema_version"] == schema.HEAD and len(manifest["sha256"]) == 64
    assert manifest["size"] == path.stat().st_size and "@" in manifest["source"]
    stored = {name: n for name, n in table_counts(db_url).items() if name != "alembic_version"}
    assert manifest["counts"] == stored and stored["customers"] == 20
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == [files.LOCK_NAME]
    assert [info.file for info in backups.list_backups(folder)] == [str(path)]
    assert verification.verify_backup(path).checked == CHECKS
    result = cli("backup", "verify", "--all", "--dir", str(folder), "-f", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["ok"] is True
    quiet = cli("backup", "create", "--dir", str(folder), "--quiet")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")


def test_restore_brings_everything_back(crm, db_url, folder, cli):
    demo.load_demo(crm)
    before = all_rows(db_url)
    path = backups.create_backup(crm, folder=folder).file
    found = json.loads(cli("search", "Acme", "-f", "json").stdout)
    assert found
    # Changes after the backup: all of them go.
    _add(crm, "Zebra Added After")
    customers.archive_customer(crm, found[0]["ref"])
    deals.add_deal(crm, DealCreate(customer="C-2", title="Late deal"))
    tickets.add_ticket(crm, TicketCreate(customer="C-3", subject="Late ticket"))
    assert all_rows(db_url) != before

    result = cli("restore", path, "--yes", "--dir", str(folder))
    assert result.exit_code == 0, result.stderr
    assert "restored" in result.stderr and "pre-restore" in result.stderr
    assert all_rows(db_url) == before  # customers, deals, tickets, audit trail: row for row
    assert json.loads(cli("search", "Acme", "-f", "json").stdout) == found
    assert json.loads(cli("search", "Zebra", "-f", "json").stdout) == []
    # The safety backup holds the data as it was just before.
    safety = next(info for info in backups.list_backups(folder) if info.kind == "safety")
    assert verification.verify_backup(safety.file).ok
    assert restores.restore_backup(load_settings(db=db_url), safety.file, folder=folder).safety_backup
    assert "Zebra Added After" in _names(crm)


def test_awkward_values_come_back_exactly(crm, db_url, folder, other_url):
    """Backslashes, quotes, line breaks, tabs, accents and emoji in text and in custom
    fields; floats; and JSON stored by another program with line breaks of its own."""
    odd = 'Back\\slash "quoted" Søren\ttab 🚀'
    custom = {"path": "C:\\temp\\new", "lines": "one\ntwo\r\nthree", "rate": 0.1, "big": 10**15,
              "yes": True, "none": None, "quote": '"', "nul": "a\u0001b"}  # fmt: skip
    customer = customers.add_customer(crm, CustomerCreate(name="Odd", email="o@odd.example"))
    timeline.add_activity(crm, ActivityCreate(customer=customer.ref, body="line\nbreak \\ and\ttab"))
    tasks.add_task(crm, TaskCreate(customer=customer.ref, title="Call back", due=date(2030, 2, 28)))
    _add(crm, "Edited by hand")
    with crm.database.connection(write=True) as conn:
        # A tab in a name and control characters in custom fields are refused today, but
        # older versions and other programs stored them: a backup keeps what is there.
        conn.exec_driver_sql(
            "UPDATE customers SET name = %(name)s, custom = CAST(%(custom)s AS json) WHERE name = 'Odd'",
            {"name": odd, "custom": json.dumps(custom)},
        )
        conn.exec_driver_sql(
            """UPDATE customers SET custom = '{\n  "x":\t[1,\n2]}' WHERE name = 'Edited by hand'"""
        )
    before = all_rows(db_url)
    path = backups.create_backup(crm, folder=folder).file
    restores.restore_backup(load_settings(db=other_url), path, folder=folder)
    assert all_rows(other_url) == before
    restored = next(row for row in before["customers"] if row["name"] == "Edited by hand")
    assert restored["custom"] == {"x": [1, 2]}


def test_new_records_after_a_restore_get_fresh_ids(crm, db_url, folder, other_url):
    demo.load_demo(crm)
    path = backups.create_backup(crm, folder=folder).file
    highest = {name: max(row["id"] for row in rows) for name, rows in all_rows(db_url).items()
               if name in ("customers", "deals", "tickets", "audit_entries")}  # fmt: skip
    # A new database whose id sequences start at 1: each would collide without the reset.
    report = restores.restore_backup(load_settings(db=other_url), path, folder=folder)
    assert report.safety_backup is None and report.upgraded_from is None
    restored = open_crm(load_settings(db=other_url))
    try:
        customer = customers.add_customer(restored, CustomerCreate(name="Fresh Customer"))
        deal = deals.add_deal(restored, DealCreate(customer=customer.ref, title="Fresh deal"))
        ticket = tickets.add_ticket(restored, TicketCreate(customer=customer.ref, subject="Fresh ticket"))
    finally:
        restored.close()
    assert (customer.id, deal.id, ticket.id) == (
        highest["customers"] + 1, highest["deals"] + 1, highest["tickets"] + 1,
    )  # fmt: skip
    assert max(row["id"] for row in all_rows(other_url)["audit_entries"]) > highest["audit_entries"]


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damaged_copies_are_refused_by_verify_and_restore(crm, db_url, folder, cli, damage):
    _add(crm, "Acme")
    path = Path(backups.create_backup(crm, folder=folder).file)
    if damage == "flip":
        _flip_byte(path, path.stat().st_size // 2)
    else:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _add(crm, "Later")
    before = all_rows(db_url)
    expected = "SHA-256 does not match" if damage == "flip" else "cut short?"
    report = verification.verify_backup(path)
    assert not report.ok and expected in report.problem
    result = cli("backup", "verify", str(path))
    assert result.exit_code == 3 and expected in result.stderr
    result = cli("restore", str(path), "--yes", "--dir", str(folder))
    assert result.exit_code == 3 and result.stderr.startswith("crm: error: ") and expected in result.stderr
    assert all_rows(db_url) == before
    assert [info.kind for info in backups.list_backups(folder)] == ["backup"]  # no safety copy either


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda lines: lines[:-3], "ends before its closing line (cut short?)"),
        (lambda lines: lines[:-3] + lines[-1:], "closing counts do not match"),
        (lambda lines: [*lines[:-1], b'{"end": true, "counts": {}}\n'], "closing counts do not match"),
        (lambda lines: [*lines[:5], b'["customers", 1\n', *lines[6:]], "line 6 is not JSON"),
        (lambda lines: [lines[0], lines[-2], *lines[1:-2], lines[-1]], "after the rows of a later table"),
        (lambda lines: [b'{"format": "crm-dump/1"}\n', *lines[1:]], "does not start as a crm dump"),
    ],
    ids=["cut-short", "rows-missing", "counts", "bad-line", "order", "head"],
)
def test_damage_inside_a_dump_with_a_matching_checksum_is_found(crm, db_url, folder, change, expected):
    _add(crm, "Acme", "Beta")
    path = Path(backups.create_backup(crm, folder=folder).file)
    _repack(path, change)
    before = all_rows(db_url)
    report = verification.verify_backup(path)
    assert not report.ok and expected in report.problem and report.checked == ["checksum", "decompression"]
    with pytest.raises(Exception, match="damaged"):
        restores.restore_backup(load_settings(db=db_url), path, folder=folder)
    assert all_rows(db_url) == before


def test_row_counts_must_match_the_manifest(crm, folder):
    _add(crm, "Acme")
    path = Path(backups.create_backup(crm, folder=folder).file)
    manifest_file = files.manifest_path(path)
    manifest = files.Manifest.read(manifest_file)
    manifest.counts = {**(manifest.counts or {}), "customers": 2}
    manifest_file.unlink()
    manifest.write(manifest_file)
    report = verification.verify_backup(path)
    assert not report.ok and "not the ones the manifest counts" in report.problem


def test_a_failing_load_leaves_the_old_data(crm, db_url, folder, cli):
    """A dump sound as a file whose rows break a constraint at the very end of the load
    (a merge link to a customer that is not there): the one transaction rolls back."""
    _add(crm, "Acme", "Beta")
    path = Path(backups.create_backup(crm, folder=folder).file)

    def merged_into_nobody(lines: list[bytes]) -> list[bytes]:
        position = json.loads(lines[0])["tables"]["customers"].index("merged_into_id") + 1
        first = next(n for n, line in enumerate(lines) if line.startswith(b'["customers"'))
        record = json.loads(lines[first])
        record[position] = 999_999
        return [*lines[:first], (json.dumps(record) + "\n").encode(), *lines[first + 1 :]]

    _repack(path, merged_into_nobody)
    assert verification.verify_backup(path).ok
    _add(crm, "Later")
    before = all_rows(db_url)
    result = cli("restore", str(path), "--yes", "--dir", str(folder))
    assert result.exit_code == 8 and "the data is as it was" in result.stderr, result.stderr
    assert all_rows(db_url) == before


def test_a_session_holding_the_tables_makes_restore_wait_then_give_up(crm, db_url, folder, monkeypatch):
    _add(crm, "Acme")
    path = backups.create_backup(crm, folder=folder).file
    _add(crm, "Later")
    monkeypatch.setattr(dump, "LOCK_TIMEOUT", "300ms")
    url = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as holder:
        holder.execute("SELECT count(*) FROM customers")  # an open transaction keeps its lock
        with pytest.raises(Conflict, match="is in use"):
            restores.restore_backup(load_settings(db=db_url), path, folder=folder)
    assert _names(crm) == ["Acme", "Later"]


def test_a_backup_beside_a_restore_sees_the_restored_rows(crm, db_url, folder, tmp_path):
    """TRUNCATE is not MVCC-safe: a dump whose snapshot predates a restore's commit
    would read the emptied tables as empty. The dump locks them first and waits."""
    _add(crm, "Old One", "Old Two")
    url = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as restore:  # what a restore does, held open
        restore.execute("TRUNCATE customers CASCADE")
        restore.execute(
            "INSERT INTO customers (version, name, name_key, kind, lifecycle, custom, created_at, updated_at)"
            " VALUES (1, 'Restored', 'restored', 'company', 'lead', '{}', now(), now())"
        )
        made: list[str] = []
        backup = threading.Thread(target=lambda: made.append(backups.create_backup(crm, folder=folder).file))
        backup.start()
        time.sleep(1.0)
        assert not made  # waiting for the restore
        restore.commit()
    backup.join(30)
    rows = _dumped_rows(Path(made[0]), tmp_path)
    assert [row["name"] for row in rows["customers"]] == ["Restored"]


def test_rotation_keeps_the_newest_and_never_safety_copies(crm, folder):
    _add(crm, "Acme")
    made = [backups.create_backup(crm, folder=folder).file for _ in range(4)]
    safety = backups.create_backup(crm, folder=folder, kind="safety").file
    newest = backups.create_backup(crm, folder=folder, keep=2).file
    assert {info.file for info in backups.list_backups(folder)} == {made[-1], newest, safety}
    assert all(verification.verify_backup(info.file).ok for info in backups.list_backups(folder))


def test_only_admins_restore(crm, db_url, folder, cli):
    users.add_user(crm, UserCreate(username="bob", role="manager"))
    path = backups.create_backup(crm, folder=folder).file
    result = cli("restore", path, "--yes", "--dir", str(folder), user="bob")
    assert result.exit_code == 7 and "admin" in result.stderr


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
    assert path.name.endswith(".dump.zst.age") and b"Secret GmbH" not in path.read_bytes()
    assert verification.verify_backup(path).checked == ["checksum"]
    assert verification.verify_backup(path, identity=key_file).checked == CHECKS
    bad = verification.verify_backup(path, identity=wrong)
    assert not bad.ok and "cannot decrypt" in bad.problem
    _add(crm, "Later")
    result = cli("restore", str(path), "--yes", "--dir", str(folder))
    assert result.exit_code == 3 and "--identity" in result.stderr
    result = cli("restore", str(path), "--yes", "--dir", str(folder), "--identity", str(key_file))
    assert result.exit_code == 0, result.stderr
    assert _names(crm) == ["Secret GmbH"]


def test_a_newer_dump_is_refused_and_an_older_one_upgraded(crm, db_url, folder, other_url, cli):
    _add(crm, "Acme")
    customers.tag_customer(crm, "C-1", ["vip"])
    schema.stamp(crm.database, "9999")
    newer = backups.create_backup(crm, folder=folder).file
    schema.stamp(crm.database, schema.HEAD)
    before = all_rows(db_url)
    with pytest.raises(DatabaseProblem, match="newer than this crm"):
        restores.restore_backup(load_settings(db=db_url), newer, folder=folder)
    assert all_rows(db_url) == before

    from alembic import command

    with crm.database.connection(write=True) as conn:
        command.downgrade(schema._alembic_config(conn), "0003")
    # The backup to take before `crm db upgrade`: crm opens the older database for it.
    result = cli("backup", "create", "--dir", str(folder))
    assert result.exit_code == 0, result.stderr
    older = verification.verify_backup(result.stdout.strip())
    assert older.ok and older.schema_version == "0003"
    report = restores.restore_backup(load_settings(db=other_url), older.file, folder=folder)
    assert report.upgraded_from == "0003" and report.schema_version == schema.HEAD
    restored = open_crm(load_settings(db=other_url))
    try:
        assert [(c.name, c.tags) for c in customers.list_customers(restored).customers] == [("Acme", ["vip"])]
        _add(restored, "Next")
        assert _names(restored) == ["Acme", "Next"]
    finally:
        restored.close()
    # Into the older database itself: it is upgraded (after its safety backup), then replaced.
    report = restores.restore_backup(load_settings(db=db_url), older.file, folder=folder)
    assert report.upgraded_from == "0003" and report.safety_backup
    assert verification.verify_backup(report.safety_backup).schema_version == "0003"
    assert schema.read_status(crm.database).state == "current" and _names(crm) == ["Acme"]


@pytest.mark.never_opened
def test_an_older_dump_is_upgraded_as_crm_db_upgrade_would(db_url, folder, other_url):
    """Tickets' service spans, new in 0007, measured on the settings' business hours."""
    from crm_tui.logic.service.working_time import WorkingTime
    from crm_tui.storage.database import Database
    from tests.unit.test_ticket_spans import _kept, _measured, _old_database

    _old_database(db_url).close()
    crm = backups.open_for_backup(load_settings(db=db_url, user="alice"))
    try:
        made = backups.create_backup(crm, folder=folder)
    finally:
        crm.close()
    assert made.schema_version == "0006"
    settings = load_settings(db=other_url, user="alice")
    settings.business_hours, settings.business_days, settings.timezone = "09:00-17:00", "mon-fri", "UTC"
    assert restores.restore_backup(settings, made.file, folder=folder).upgraded_from == "0006"
    database = Database(other_url)
    clock = WorkingTime.from_settings("09:00-17:00", "mon-fri", "UTC")
    assert _kept(database) == _measured(database, clock) != _measured(database, WorkingTime())
    database.close()


def test_sqlite_backups_restore_into_postgresql_and_back(crm, db_url, folder, tmp_path):
    _add(crm, "Placeholder")
    sqlite_db = tmp_path / "team.sqlite3"
    local = open_crm(load_settings(db=str(sqlite_db)))
    try:
        demo.load_demo(local)
        customers.archive_customer(local, "C-4")
        from_sqlite = backups.create_backup(local, folder=folder).file
    finally:
        local.close()
    expected = all_rows(str(sqlite_db))

    report = restores.restore_backup(load_settings(db=db_url), from_sqlite, folder=folder)
    assert report.safety_backup and report.upgraded_from is None
    assert all_rows(db_url) == expected
    _add(crm, "New On The Server")  # fresh ids on PostgreSQL too

    from_postgres = backups.create_backup(crm, folder=folder).file
    expected = all_rows(db_url)
    back = tmp_path / "back.sqlite3"
    report = restores.restore_backup(load_settings(db=str(back)), from_postgres, folder=folder)
    assert report.database == str(back) and stat.S_IMODE(back.stat().st_mode) == 0o600
    assert all_rows(str(back)) == expected
    assert files.check_sqlite(back) is None


def _dumped_rows(path: Path, scratch: Path) -> dict[str, list[dict]]:
    """The rows inside a dump backup, by table, as column-to-value records."""
    raw = scratch / f"{path.name}.raw"
    files.unpack(path, raw, files.Manifest.read(files.manifest_path(path)).raw_size)
    with raw.open(encoding="utf-8") as dump:
        columns = json.loads(dump.readline())["tables"]
        rows: dict[str, list[dict]] = {name: [] for name in columns}
        for line in dump:
            item = json.loads(line)
            if isinstance(item, list):
                rows[item[0]].append(dict(zip(columns[item[0]], item[1:], strict=True)))
    raw.unlink()
    return rows


def test_backup_while_another_session_writes_is_consistent(crm, db_url, folder, tmp_path, other_url):
    """Each transaction of the writer adds a customer, its tag link and its audit entry,
    tables the dump reads at different moments: one snapshot sees all three or none."""
    _add(crm, *(f"Firm {n}" for n in range(300)))
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, db_url, "5"], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert writer.stdout.readline() == "writing\n"  # however long a busy machine takes to start it
    made = []
    for _ in range(4):
        made.append(backups.create_backup(crm, folder=folder).file)
        time.sleep(0.2)  # the writer adds customers between the backups
    assert writer.wait(60) == 0
    written = int(writer.stdout.read())
    assert written > 20
    seen = set()
    for path in made:
        assert verification.verify_backup(path).ok
        rows = _dumped_rows(Path(path), tmp_path)
        created = [r for r in rows["audit_entries"] if r["entity"] == "customer" and r["action"] == "create"]
        assert len(rows["customers"]) == len(created)
        assert len(rows["customer_tags"]) == len(rows["customers"]) - 300
        assert 300 <= len(rows["customers"]) <= 300 + written
        seen.add(len(rows["customers"]))
    assert len(seen) > 1  # the writer did write between the backups
    restores.restore_backup(load_settings(db=other_url), made[-1], folder=folder)
    assert table_counts(other_url)["customers"] == len(rows["customers"])
