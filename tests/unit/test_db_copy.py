"""`crm db copy --to TARGET`: the data moved whole between SQLite files and PostgreSQL,
in one transaction on the target, verified table by table before it commits."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from crm_tui.config import load_settings
from crm_tui.logic.core.context import open_crm
from crm_tui.storage import dump
from tests.conftest import POSTGRES, _postgres_database, all_rows, table_counts

STATES = ("pipelines", "users", "customers", "contacts", "deals", "tickets", "audit_entries")


def _copy(cli, to: str, *more: str, user: str | None = None):
    return cli("db", "copy", "--to", to, *more, user=user)


def _report(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _as_url(target: str) -> str:
    return target if "://" in target else f"sqlite:///{target}"


@pytest.fixture
def other_target(tmp_path):
    """Where a copy goes: a new SQLite file, or on PostgreSQL a new empty database."""
    if POSTGRES:
        yield from _postgres_database()
    else:
        yield str(tmp_path / "copy.sqlite3")


def test_a_copy_holds_every_row_and_says_so_table_by_table(cli, demo_crm, db_url, other_target):
    result = _copy(cli, other_target, "--format", "json")
    report = _report(result)
    copied = _as_url(other_target)
    assert all_rows(copied) == all_rows(db_url)
    counts = table_counts(db_url)
    assert {t["table"]: t["rows"] for t in report["tables"]} == {
        t.name: counts[t.name] for t in dump.tables()
    }
    assert all(t["source_checksum"] == t["target_checksum"] for t in report["tables"])
    assert report["rows"] == sum(t["rows"] for t in report["tables"]) > 500
    assert "every table's rows and checksum are equal on both sides" in result.stderr
    # The copy is a crm database like any: its search index and board totals were made.
    assert json.loads(cli("--db", copied, "search", "Acme", "-f", "json").stdout)
    same = [cli("--db", url, "deal", "board", "-f", "json").stdout for url in (db_url, copied)]
    assert same[0] == same[1]


def test_a_new_sqlite_file_is_private(cli, demo_crm, tmp_path):
    target = tmp_path / "private.sqlite3"
    assert _copy(cli, str(target), "-q").exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_new_records_in_the_copy_get_fresh_ids(cli, demo_crm, db_url, other_target):
    _report(_copy(cli, other_target, "-f", "json"))
    highest = max(row["id"] for row in all_rows(db_url)["customers"])
    added = cli("--db", _as_url(other_target), "customer", "add", "After The Copy", "-f", "json")
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["id"] == highest + 1


@pytest.mark.postgres_only
def test_postgresql_to_a_file_and_back_to_postgresql(cli, demo_crm, db_url, tmp_path, other_target):
    """Both directions between the engines: every row, and the same checksums on all three."""
    file = str(tmp_path / "moved.sqlite3")
    there = _report(_copy(cli, file, "-f", "json"))
    back = _report(cli("--db", _as_url(file), "db", "copy", "--to", other_target, "-f", "json"))
    assert all_rows(other_target) == all_rows(_as_url(file)) == all_rows(db_url)
    assert [t["target_checksum"] for t in there["tables"]] == [t["target_checksum"] for t in back["tables"]]


def test_a_target_holding_data_is_refused_and_left_as_it_is(cli, demo_crm, other_target):
    _report(_copy(cli, other_target, "-f", "json"))
    cli("--db", _as_url(other_target), "customer", "add", "Only In The Target")
    before = all_rows(_as_url(other_target))
    result = _copy(cli, other_target)
    assert result.exit_code == 5
    assert result.stderr.count("\n") == 1
    assert "already holds crm data (6 users, 21 customers): give --replace" in result.stderr
    assert all_rows(_as_url(other_target)) == before


def test_replace_takes_a_safety_backup_first(cli, demo_crm, db_url, other_target, tmp_path):
    _report(_copy(cli, other_target, "-f", "json"))
    cli("--db", _as_url(other_target), "customer", "add", "Only In The Target")
    report = _report(_copy(cli, other_target, "--replace", "--dir", str(tmp_path / "kept"), "-f", "json"))
    assert report["replaced"] is True
    assert all_rows(_as_url(other_target)) == all_rows(db_url)
    kept = Path(report["safety_backup"])
    assert kept.parent == tmp_path / "kept" and kept.is_file()
    verified = cli("backup", "verify", str(kept))
    assert verified.exit_code == 0, verified.stderr


def test_only_an_admin_copies(cli, demo_crm, tmp_path):
    target = tmp_path / "by-sales.sqlite3"
    result = _copy(cli, str(target), user="sara")
    assert result.exit_code == 7
    assert "database.manage" in result.stderr or "admin" in result.stderr
    assert not target.exists()


def test_replacing_needs_an_admin_of_the_target_too(cli, demo_crm, other_target):
    _report(_copy(cli, other_target, "-f", "json"))
    target = _as_url(other_target)
    copied = open_crm(load_settings(db=target))
    with copied.database.connection(write=True) as conn:
        conn.exec_driver_sql("UPDATE users SET role = 'sales' WHERE username = 'alice'")
    copied.close()
    before = table_counts(target)
    result = _copy(cli, other_target, "--replace")
    assert result.exit_code == 7, result.stderr
    assert "alice (sales) may not do this" in result.stderr
    assert table_counts(target) == before


@pytest.mark.parametrize(
    ("target", "code", "message"),
    [
        ("mysql://someone@host/crm", 8, "unsupported database 'mysql'"),
        ("{tmp}/no/such/folder/crm.sqlite3", 8, "folder {tmp}/no/such/folder does not exist"),
        ("postgresql://crm@127.0.0.1:1/crm", 8, "Connection refused"),
        ("{db}", 3, "is the database being copied: give another --to"),
    ],
)
def test_a_bad_target_is_one_line_and_creates_nothing(cli, demo_crm, db_url, tmp_path, target, code, message):
    db = db_url if POSTGRES else db_url.removeprefix("sqlite:///")
    target, message = (text.format(tmp=tmp_path, db=db) for text in (target, message))
    before = table_counts(db_url), sorted(tmp_path.rglob("*"))
    result = _copy(cli, target)
    assert result.exit_code == code
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert (table_counts(db_url), sorted(tmp_path.rglob("*"))) == before


def test_a_copy_that_does_not_match_is_rolled_back(cli, demo_crm, other_target, monkeypatch):
    """The check is real: a row lost on the way is found, and nothing stays behind."""
    insert = dump.insert_rows

    def losing_one(connection, table, rows):
        insert(connection, table, rows[:-1] if table.name == "contacts" else rows)

    monkeypatch.setattr(dump, "insert_rows", losing_one)
    result = _copy(cli, other_target)
    assert result.exit_code == 8
    assert (
        "does not match the source in contacts (40 rows read, 39 stored); nothing was written"
        in result.stderr
    )
    if POSTGRES:
        assert table_counts(other_target)["customers"] == 0
    else:
        assert not Path(other_target).exists()


def test_a_failed_replace_leaves_the_target_as_it_was(cli, demo_crm, other_target, monkeypatch, tmp_path):
    _report(_copy(cli, other_target, "-f", "json"))
    cli("--db", _as_url(other_target), "customer", "add", "Only In The Target")
    before = all_rows(_as_url(other_target))

    def failing(connection, table, rows):
        raise dump.DumpDamaged("a row could not be read")

    monkeypatch.setattr(dump, "insert_rows", failing)
    result = _copy(cli, other_target, "--replace", "--dir", str(tmp_path / "kept"))
    assert result.exit_code == 8
    assert all_rows(_as_url(other_target)) == before
