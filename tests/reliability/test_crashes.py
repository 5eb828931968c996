"""crm killed outright (SIGKILL) at random moments of its longest writes: a CSV import,
a `--from` batch, a backup and a restore. A real `crm` process each time; after each
kill the database must be whole (SQLite's integrity check, the search index equal to a
rebuild, the audit trail matching the rows), and hold whole batches or none of one.

Each test first runs its command to the end, to learn how long it takes, and then
kills it after a random share of that time. The seed is printed with any failure;
``CRM_RELIABILITY_SEED`` replays it.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from crm_tui.logic.exchange.batch import BATCH_SIZE as LINES_BATCH
from crm_tui.logic.exchange.runner import BATCH_SIZE as IMPORT_BATCH
from crm_tui.storage import backup as backup_files
from tests.conftest import table_counts
from tests.reliability import checks

SEED = int(os.environ.get("CRM_RELIABILITY_SEED") or random.randrange(2**32))


@dataclass
class Run:
    """One `crm` process: killed, or finished with its exit code."""

    killed: bool
    returncode: int
    stderr: str
    seconds: float


def crm_process(url: str, args: list[str], kill_after: float | None = None) -> Run:
    """Run `crm --db URL ARGS` as its own process; SIGKILL it after ``kill_after`` seconds."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "crm_tui", "--db", url, *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _, err = process.communicate(timeout=kill_after if kill_after is not None else 600)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate()
    return Run(
        killed=process.returncode == -signal.SIGKILL,
        returncode=process.returncode,
        stderr=err.decode(errors="replace"),
        seconds=time.monotonic() - started,
    )


def finished_ok(run: Run) -> None:
    assert run.returncode == 0, run.stderr


class Scratch:
    """The test's database, and how to put it back as it was between kills.

    SQLite: the file's bytes, written back before each kill, so that each kill starts
    from the same small database. PostgreSQL keeps what each run stored; the runs write
    records with names of their own, and each is checked by its names.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:") else None
        self.saved: bytes | None = None

    def save(self) -> None:
        if self.path is not None:
            self.saved = self.path.read_bytes()

    def reset(self) -> None:
        if self.path is not None and self.saved is not None:
            backup_files.remove_sqlite_files(self.path)
            self.path.write_bytes(self.saved)

    def check(self, figures, after: str) -> list[str]:
        """Every whole-database check; the figures count them."""
        with checks.connected(self.url) as conn:
            problems = checks.everything(conn)
        if self.path is not None:
            figures["integrity checks (SQLite, after a kill or a run)"] += 1
        figures["search index and audit trail checks"] += 1
        return [f"{after}: {problem}" for problem in problems]


@pytest.fixture
def scratch(db_url, tmp_path, monkeypatch) -> Scratch:
    monkeypatch.chdir(tmp_path)
    return Scratch(db_url)


@pytest.fixture
def rng() -> random.Random:
    return random.Random(SEED)


def startup_seconds(url: str) -> float:
    """How long `crm` takes to start and open the database, before any real work."""
    run = crm_process(url, ["db", "status"])
    finished_ok(run)
    return run.seconds


class KillClock:
    """When to kill the next run: a random moment of its work, after `crm` has started
    and before a whole run would end. The machine's load changes while a test runs, so
    a run that ends before its moment becomes the measure of a whole run."""

    def __init__(self, rng: random.Random, url: str, full: float) -> None:
        self.rng, self.started, self.full = rng, startup_seconds(url), full

    def moments(self, kills: int):
        """As many moments as it takes to kill ``kills`` runs, within reason."""
        for _ in range(kills * 6):
            yield self.started + max(self.full - self.started, 0.05) * self.rng.random()

    def finished(self, run: Run) -> None:
        self.full = run.seconds
        self.started = min(self.started, 0.8 * run.seconds)


# Bulk writes: imports and --from


@dataclass(frozen=True)
class Bulk:
    """A bulk write of records named ``{prefix} ...``, and where they land."""

    what: str
    table: str
    column: str
    batch: int
    # (file, prefix, rows, a customer's reference) -> the records' names, in the file's order
    write: Callable[[Path, str, int, str], list[str]]
    args: Callable[[Path], list[str]]


def _customers_csv(path: Path, prefix: str, rows: int, _customer: str) -> list[str]:
    names = [f"{prefix} firm {n}" for n in range(rows)]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["Company Name", "E-mail Address", "City", "Tags"])
        for n, name in enumerate(names):
            writer.writerow([name, f"firm{n}@{prefix.lower()}.example", "Berlin", "imported"])
    return names


def _deals_csv(path: Path, prefix: str, rows: int, _customer: str) -> list[str]:
    titles = [f"{prefix} deal {n}" for n in range(rows)]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["Deal Name", "Company Name", "Amount", "Close Date", "Deal Stage"])
        for n, title in enumerate(titles):
            writer.writerow([title, f"Seed {n % 10} GmbH", f"{n}.50", "2026-12-01", "Lead"])
    return titles


def _customer_lines(path: Path, prefix: str, rows: int, _customer: str) -> list[str]:
    names = [f"{prefix} line {n}" for n in range(rows)]
    path.write_text(
        "".join(
            json.dumps({"name": name, "email": f"line{n}@{prefix.lower()}.example", "tags": ["lines"]}) + "\n"
            for n, name in enumerate(names)
        ),
        encoding="utf-8",
    )
    return names


def _note_lines(path: Path, prefix: str, rows: int, customer: str) -> list[str]:
    bodies = [f"{prefix} note {n}" for n in range(rows)]
    path.write_text(
        "".join(json.dumps({"customer": customer, "body": body}) + "\n" for body in bodies),
        encoding="utf-8",
    )
    return bodies


BULK = {
    "customer import": Bulk(
        "a CSV import of customers", "customers", "name", IMPORT_BATCH, _customers_csv,
        lambda path: ["import", "customers", str(path)],
    ),
    "deal import": Bulk(
        "a CSV import of deals", "deals", "title", IMPORT_BATCH, _deals_csv,
        lambda path: ["import", "deals", str(path)],
    ),
    "customers from lines": Bulk(
        "customer add --from", "customers", "name", LINES_BATCH, _customer_lines,
        lambda path: ["customer", "add", "--from", str(path), "-f", "ids"],
    ),
    "notes from lines": Bulk(
        "note add --from", "activities", "body", LINES_BATCH, _note_lines,
        lambda path: ["note", "add", "--from", str(path), "-f", "ids"],
    ),
}  # fmt: skip


def _sizes(scale, kind: str) -> tuple[int, int]:
    """(rows a run writes, kills) for a kind of bulk write."""
    return {
        "customer import": (scale.customer_import_rows, scale.customer_import_kills),
        "deal import": (scale.deal_import_rows, scale.deal_import_kills),
        "customers from lines": (scale.from_batch_lines, scale.from_batch_kills),
        "notes from lines": (scale.note_batch_lines, scale.note_batch_kills),
    }[kind]


def seed_customers(url: str, folder: Path) -> str:
    """Ten customers the deals and notes are written to; returns the first one's reference."""
    path = folder / "seed.csv"
    path.write_text("Company Name\n" + "".join(f"Seed {n} GmbH\n" for n in range(10)), encoding="utf-8")
    finished_ok(crm_process(url, ["import", "customers", str(path)]))
    with checks.connected(url) as conn:
        return "C-{}".format(checks.count(conn, "SELECT id FROM customers WHERE name = 'Seed 0 GmbH'"))


def stored_batches(
    url: str, bulk: Bulk, prefix: str, names: list[str], finished: bool
) -> tuple[int, list[str]]:
    """How many records one run stored, and the problems with them: not whole batches,
    or not the file's first rows."""
    with checks.connected(url) as conn:
        stored = checks.values(
            conn,
            f"SELECT {bulk.column} FROM {bulk.table} WHERE {bulk.column} LIKE :names",
            names=f"{prefix} %",
        )
    problems = []
    if finished and len(stored) != len(names):
        problems.append(f"the run finished, yet {len(stored)} of {len(names)} records are stored")
    if not finished and len(stored) % bulk.batch and len(stored) != len(names):
        problems.append(f"{len(stored)} records stored: not whole batches of {bulk.batch}")
    if sorted(stored) != sorted(names[: len(stored)]):
        problems.append(f"the {len(stored)} records stored are not the first {len(stored)} of the file")
    return len(stored), problems


@pytest.mark.parametrize("kind", list(BULK))
def test_a_killed_bulk_write_keeps_whole_batches_and_a_sound_database(
    kind, scratch, scale, rng, figures, tmp_path
):
    bulk = BULK[kind]
    rows, kills = _sizes(scale, kind)
    customer = seed_customers(scratch.url, tmp_path)
    scratch.save()
    problems: list[str] = []

    def one_run(number: int, kill_after: float | None) -> Run:
        prefix = f"K{number}"
        path = tmp_path / f"{prefix}.input"
        names = bulk.write(path, prefix, rows, customer)
        scratch.reset()
        run = crm_process(scratch.url, bulk.args(path), kill_after)
        where = f"{bulk.what}, run {number}" + (f" killed after {run.seconds:.2f}s" if run.killed else "")
        if not run.killed:
            assert run.returncode == 0, f"{where}: {run.stderr}"
        stored, wrong = stored_batches(scratch.url, bulk, prefix, names, not run.killed)
        problems.extend(f"{where}: {problem}" for problem in wrong)
        problems.extend(scratch.check(figures, where))
        if run.killed and 0 < stored < len(names):
            figures["kills that cut a bulk write between batches"] += 1
        return run

    full = one_run(0, None).seconds
    killed = 0
    clock = KillClock(rng, scratch.url, full)
    for number, delay in enumerate(clock.moments(kills), start=1):
        run = one_run(number, delay)
        if not run.killed:
            clock.finished(run)
        else:
            killed += 1
            if killed == kills:
                break
    figures[f"kills: {bulk.what}"] += killed
    assert killed == kills, f"only {killed} of {kills} runs were killed before they finished (seed {SEED})"
    assert not problems, f"seed {SEED}:\n" + "\n".join(problems)


# Backups and restores


def leftovers(*folders: Path) -> list[str]:
    """Temporary files and scratch folders of backup, verify and restore runs."""
    return sorted(
        str(path)
        for folder in folders
        for prefix in (backup_files.TEMP_PREFIX, backup_files.SCRATCH_PREFIX)
        for path in folder.glob(prefix + "*")
    )


def newest_backup(folder: Path) -> Path:
    return max(backup_files.data_files(folder), key=lambda path: path.stat().st_mtime_ns)


def unverified(folder: Path, verified: set[Path]) -> list[str]:
    """Problems with the backups in ``folder`` not verified before: every backup listed
    with its manifest must pass a full verification."""
    from crm_tui.logic.admin.verification import verify_backup

    problems = []
    for path in backup_files.data_files(folder):
        if path in verified:
            continue
        if not backup_files.manifest_path(path).exists():
            problems.append(f"{path.name} is there without its manifest")
            continue
        report = verify_backup(path)
        if not report.ok:
            problems.append(f"{path.name} fails verification: {report.problem}")
        verified.add(path)
    return problems


def fill(url: str, folder: Path, prefix: str, rows: int) -> None:
    """``rows`` customers named ``{prefix} firm N``, imported."""
    path = folder / f"{prefix}.csv"
    _customers_csv(path, prefix, rows, "")
    finished_ok(crm_process(url, ["import", "customers", str(path)]))


def test_a_killed_backup_leaves_the_database_and_every_listed_backup_whole(
    scratch, scale, rng, figures, tmp_path
):
    fill(scratch.url, tmp_path, "B", scale.customer_import_rows)
    before = table_counts(scratch.url)
    folder = tmp_path / "backups"
    args = ["backup", "create", "--dir", str(folder), "--quiet"]
    verified: set[Path] = set()
    problems: list[str] = []

    first = crm_process(scratch.url, args)
    finished_ok(first)
    killed = 0
    clock = KillClock(rng, scratch.url, first.seconds)
    for number, delay in enumerate(clock.moments(scale.backup_kills), start=1):
        run = crm_process(scratch.url, args, delay)
        where = f"backup run {number}" + (f" killed after {run.seconds:.2f}s" if run.killed else "")
        if not run.killed:
            assert run.returncode == 0, f"{where}: {run.stderr}"
            clock.finished(run)
        if table_counts(scratch.url) != before:
            problems.append(f"{where}: the database changed")
        problems.extend(scratch.check(figures, where))
        problems.extend(f"{where}: {problem}" for problem in unverified(folder, verified))
        figures["backups verified in full"] = len(verified)
        if run.killed:
            killed += 1
            figures["temporary files left by killed backups"] += len(leftovers(folder))
            if killed == scale.backup_kills:
                break
    figures["kills: crm backup create"] += killed
    assert killed == scale.backup_kills, (
        f"only {killed} of {scale.backup_kills} runs were killed (seed {SEED})"
    )

    # The next run removes what the killed ones left.
    finished_ok(crm_process(scratch.url, args))
    problems.extend(unverified(folder, verified))
    assert not leftovers(folder), "left behind after the next backup run"
    assert not problems, f"seed {SEED}:\n" + "\n".join(problems)


def test_a_killed_restore_leaves_the_old_database_or_the_restored_one(scratch, scale, rng, figures, tmp_path):
    """Two backups, A and B, restored in turn: after each kill the database is A or B
    as a whole, and the next restore removes what the killed ones left."""
    backups, safety = tmp_path / "backups", tmp_path / "safety"
    # Beside a SQLite file its scratch copies; on PostgreSQL they go to the backup folder.
    beside = scratch.path.parent if scratch.path is not None else safety
    fill(scratch.url, tmp_path, "A", scale.customer_import_rows // 2)
    finished_ok(crm_process(scratch.url, ["backup", "create", "--dir", str(backups), "--quiet"]))
    made = {"A": newest_backup(backups)}
    fill(scratch.url, tmp_path, "B", scale.customer_import_rows // 4)
    finished_ok(crm_process(scratch.url, ["backup", "create", "--dir", str(backups), "--quiet"]))
    made["B"] = newest_backup(backups)

    def restore(name: str, kill_after: float | None = None) -> Run:
        return crm_process(
            scratch.url, ["restore", str(made[name]), "--yes", "--dir", str(safety)], kill_after
        )

    # Restored whole, each backup gives these counts; the runs also tell how long one takes.
    counts = {}
    for name in ("A", "B"):
        run = restore(name)
        finished_ok(run)
        counts[name] = table_counts(scratch.url)
    assert counts["A"] != counts["B"]
    current, problems, killed = "B", [], 0
    clock = KillClock(rng, scratch.url, run.seconds)
    for number, delay in enumerate(clock.moments(scale.restore_kills), start=1):
        wanted = "A" if current == "B" else "B"
        run = restore(wanted, delay)
        where = f"restore of {wanted} over {current}, run {number}" + (
            f" killed after {run.seconds:.2f}s" if run.killed else ""
        )
        now = table_counts(scratch.url)
        if not run.killed:
            assert run.returncode == 0, f"{where}: {run.stderr}"
            clock.finished(run)
            problems += [] if now == counts[wanted] else [f"{where}: finished, but the data is not {wanted}"]
        elif now == counts[wanted]:
            figures["restore kills that left the restored database"] += 1
        elif now == counts[current]:
            figures["restore kills that left the old database"] += 1
        else:
            problems.append(f"{where}: the database is neither {current} nor {wanted}: {now}")
        problems.extend(scratch.check(figures, where))
        current = wanted if now == counts[wanted] else current
        if run.killed:
            killed += 1
            figures["temporary files and scratch folders left by killed restores"] += len(
                leftovers(beside, safety)
            )
            if killed == scale.restore_kills:
                break
    figures["kills: crm restore"] += killed
    assert killed == scale.restore_kills, (
        f"only {killed} of {scale.restore_kills} runs were killed (seed {SEED})"
    )
    assert not problems, f"seed {SEED}:\n" + "\n".join(problems)

    finished_ok(restore("A" if current == "B" else "B"))
    assert not leftovers(beside, safety), "left behind after the next restore"
