"""Progress: long work tells how far it has got, a terminal shows it as bars on stderr,
and a pipe, cron or --quiet gets none."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crm_tui.logic.admin import backups, verification
from crm_tui.logic.admin.demo import load_demo
from crm_tui.logic.core.progress import reporting_to
from crm_tui.logic.customers import search
from crm_tui.logic.exchange import exports, imports
from crm_tui.storage import schema
from crm_tui.storage.database import Database

CRM = Path(sys.executable).with_name("crm")  # the installed console script


@dataclass
class Seen:
    label: str
    total: int | None
    unit: str
    done: int = 0


@dataclass
class Recorder:
    """A reporter that keeps what it was told."""

    tasks: list[Seen] = field(default_factory=list)

    @contextmanager
    def task(self, label: str, total: int | None, unit: str) -> Iterator:
        seen = Seen(label, total, unit)
        self.tasks.append(seen)

        def advance(done: int) -> None:
            seen.done += done

        yield advance

    def named(self, label: str) -> Seen:
        return next(task for task in self.tasks if task.label == label)


def test_an_import_tells_its_rows(crm):
    rows = "".join(f"Firm {n},Bonn\n" for n in range(2_500))
    recorder = Recorder()
    with reporting_to(recorder):
        summary = imports.import_csv(crm, "customers", io.StringIO("Name,City\n" + rows), "in.csv")
    assert summary.created == 2_500
    importing = recorder.named("importing customers")
    assert (importing.total, importing.done, importing.unit) == (2_500, 2_500, "rows")
    assert recorder.named("checking the file").done == 2_500


@pytest.mark.sqlite_only
def test_an_export_and_its_loading_tell_their_rows(crm, tmp_path):
    load_demo(crm)
    recorder = Recorder()
    with reporting_to(recorder):
        report = exports.export_all(crm, tmp_path / "e", "csv")
    exporting = recorder.named("exporting")
    assert exporting.total == exporting.done == sum(report.counts.values())
    with reporting_to(recorder):
        counts = exports.load_export(_empty_crm(tmp_path), tmp_path / "e")
    assert recorder.named("loading").done == sum(counts.values()) == sum(report.counts.values())


def _empty_crm(tmp_path):
    from crm_tui.config import load_settings
    from crm_tui.logic.core.context import open_crm

    return open_crm(load_settings(db=f"sqlite:///{tmp_path / 'target.sqlite3'}"))


@pytest.mark.sqlite_only
def test_a_backup_and_its_verification_tell_their_bytes(crm, tmp_path):
    load_demo(crm)
    recorder = Recorder()
    with reporting_to(recorder):
        made = backups.create_backup(crm, folder=tmp_path / "b")
        report = verification.verify_backup(made.file)
    assert report.ok
    compressing = recorder.named("compressing")
    assert compressing.unit == "bytes" and compressing.total == compressing.done > 0
    checksum = recorder.named("checking the checksum")
    assert checksum.total == checksum.done == Path(made.file).stat().st_size
    unpacking = recorder.named("unpacking")
    assert unpacking.total == unpacking.done == Path(made.file).stat().st_size
    assert {"copying the database", "checking the database's integrity"} <= {t.label for t in recorder.tasks}


def test_a_reindex_tells_the_documents_it_indexed(crm):
    load_demo(crm)
    recorder = Recorder()
    with reporting_to(recorder):
        documents, _deals = search.reindex(crm)
    indexing = recorder.named("indexing for search")
    assert indexing.total == indexing.done == documents


@pytest.mark.never_opened
def test_an_upgrade_tells_each_migration(db_url):
    old = Database(db_url)
    schema.upgrade(old, "0001")
    recorder = Recorder()
    with reporting_to(recorder):
        schema.upgrade(old)
    old.close()
    upgrading = recorder.named("upgrading the schema")
    assert upgrading.unit == "migrations"
    assert upgrading.total == upgrading.done == len(schema.known_revisions()) - 1


# What a person at a terminal sees, and what a pipe gets.


def _run(args: list[str], db: Path, *, terminal: bool) -> tuple[int, str]:
    """Run crm with stderr on a pseudo-terminal (or a pipe); its exit code and stderr."""
    env = {**os.environ, "CRM_DB": str(db), "CRM_USER": "admin", "TERM": "xterm", "COLUMNS": "120"}
    env.pop("CRM_DATABASE_URL", None)
    if not terminal:
        done = subprocess.run([str(CRM), *args], env=env, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stderr
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        [str(CRM), *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower
    )
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            child.kill()
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return child.wait(timeout=60), seen.decode("utf-8", "replace")


@pytest.fixture
def big_file(tmp_path) -> Path:
    path = tmp_path / "firms.csv"
    path.write_text("Name,City\n" + "".join(f"Firm {n},Bonn\n" for n in range(3_000)), encoding="utf-8")
    return path


@pytest.mark.sqlite_only
def test_a_terminal_sees_the_import_as_a_bar_and_a_pipe_does_not(tmp_path, big_file):
    code, shown = _run(["import", "customers", str(big_file)], tmp_path / "a.sqlite3", terminal=True)
    assert code == 0
    assert "importing customers" in shown and "/3,000 rows" in shown and "━" in shown
    assert "imported 3000 customers from 3000 rows" in shown
    code, piped = _run(["import", "customers", str(big_file)], tmp_path / "b.sqlite3", terminal=False)
    assert code == 0
    assert piped == "imported 3000 customers from 3000 rows: 0 updated, 0 duplicates skipped, 0 refused\n"


@pytest.mark.sqlite_only
def test_quiet_shows_no_bar_and_nothing_on_success(tmp_path, big_file):
    code, shown = _run(
        ["import", "customers", str(big_file), "--quiet"], tmp_path / "a.sqlite3", terminal=True
    )
    assert (code, shown) == (0, "")
    code, shown = _run(
        ["backup", "create", "--quiet", "--dir", str(tmp_path / "b")], tmp_path / "a.sqlite3", terminal=True
    )
    assert (code, shown) == (0, "")


@pytest.mark.sqlite_only
def test_a_terminal_sees_a_backup_and_an_export_as_bars(tmp_path, big_file):
    db = tmp_path / "a.sqlite3"
    assert _run(["import", "customers", str(big_file), "-q"], db, terminal=False) == (0, "")
    code, shown = _run(["backup", "create", "--dir", str(tmp_path / "b")], db, terminal=True)
    assert code == 0 and "compressing" in shown and "━" in shown
    code, shown = _run(["export", "--out", str(tmp_path / "e")], db, terminal=True)
    assert code == 0 and "exporting" in shown and "exported " in shown


def test_refused_rows_show_the_first_ten_reasons_and_the_count(crm, cli, tmp_path):
    from crm_tui.cli import GROUPS

    GROUPS.setdefault("import", ("crm_tui.cli.exchange:import_app", "Import."))
    bad = "".join(f"Bad\x01{n},Bonn\n" for n in range(25))
    path = tmp_path / "in.csv"
    path.write_text("Name,City\nGood,Bonn\n" + bad, encoding="utf-8")
    result = cli("import", "customers", str(path))
    assert result.exit_code == 9
    lines = result.stderr.splitlines()
    assert [line.split(": ")[2] for line in lines[:10]] == [f"line {n}" for n in range(3, 13)]
    assert (
        lines[10]
        == f"... and 15 more rows refused or skipped, each with its reason in {tmp_path / 'in.rejected.csv'}"
    )
    assert "imported 1 customers from 26 rows" in lines[11] and len(lines) == 12
    assert (tmp_path / "in.rejected.csv").read_text(encoding="utf-8").count("\n") == 26  # header and all 25
