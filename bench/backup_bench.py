"""Backup of a large database while another process writes to it, beside a plain file copy.

    python -m bench.backup_bench [--db PATH] [--user admin] [--scratch DIR]

The database is first copied with shutil and the copy flushed to disk (the baseline:
what copying the file costs, made as durable as a backup). crm then backs up that copy
in this process (snapshot, quick_check, zstd, SHA-256, manifest) while another process
updates a customer in it every 50 ms, as the rest of the team would; the backup is then
verified (SHA-256, unpacking, full integrity check), untimed. The database defaults to
the largest one in bench/data (4.4 GB at 1M customers). Budgets (ARCHITECTURE.md
section 4): a 1 GB database in under 15 s, under 150 MB peak RSS. MB are 2**20 bytes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.generate import DATA_DIR
from bench.report import Result, hand_over, peak_memory, peak_rss_mb

MB = 1_048_576
BUDGET_SECONDS_PER_GB = 15.0
BUDGET_MB_PER_S = 1024 / BUDGET_SECONDS_PER_GB  # a 1 GB database in 15 s, as a rate for any size
WRITE_EVERY_S = 0.05
# The rest of the team: one customer updated per commit, as crm would, until interrupted;
# then prints how many commits it made.
WRITER = f"""
import random, signal, sqlite3, sys, time
# Stopped by SIGINT even when started from a shell that ignores it (nohup, a job in the
# background), which the child would otherwise inherit.
signal.signal(signal.SIGINT, signal.default_int_handler)
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("PRAGMA synchronous = NORMAL")
top = db.execute("SELECT max(id) FROM customers").fetchone()[0]
done = 0
try:
    while True:
        db.execute(
            "UPDATE customers SET version = version + 1, updated_at = datetime('now') WHERE id = ?",
            (random.randint(1, top),),
        )
        done += 1
        time.sleep({WRITE_EVERY_S})
except KeyboardInterrupt:
    print(done)
"""


@dataclass(frozen=True)
class BackupFigures:
    """Seconds and megabytes of one backup and of a plain copy of the same file."""

    database: str  # the file's name
    size: float  # MB
    copy_seconds: float  # copied and flushed to disk
    backup_seconds: float
    backup_size: float  # MB
    verify_seconds: float
    verified: bool
    writes: int  # commits by the other process during the backup
    rss_before: float  # MB, crm open, before the backup
    rss_peak: float  # MB, after the backup


def _largest() -> Path:
    found = sorted(DATA_DIR.glob("*.sqlite3"), key=lambda path: path.stat().st_size)
    if not found:
        raise SystemExit("no database in bench/data: run python -m bench.generate first")
    return found[-1]


def measure(database: Path, scratch: Path, user: str = "admin") -> BackupFigures:
    """Copy ``database`` into ``scratch``, then back the copy up with crm while another
    process writes to it, and verify the backup; all of it is deleted afterwards."""
    from crm_tui.config import load_settings
    from crm_tui.logic.admin import backups, verification
    from crm_tui.logic.core.context import open_crm

    with tempfile.TemporaryDirectory(dir=scratch) as name:
        copy = Path(name) / database.name
        start = time.perf_counter()
        shutil.copyfile(database, copy)
        with copy.open("rb+") as written:
            os.fsync(written.fileno())
        copy_seconds = time.perf_counter() - start

        crm = open_crm(load_settings(db=copy, user=user), check_schema=False, create=False)
        rss_before = peak_rss_mb()
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(copy)], stdout=subprocess.PIPE, text=True
        )
        start = time.perf_counter()
        made = backups.create_backup(crm, folder=Path(name) / "backups")
        backup_seconds = time.perf_counter() - start
        rss_peak = peak_rss_mb()
        writer.send_signal(signal.SIGINT)
        writes = int(writer.communicate()[0])
        crm.close()
        start = time.perf_counter()
        report = verification.verify_backup(made.file)
        verify_seconds = time.perf_counter() - start
    return BackupFigures(
        database=database.name,
        size=database.stat().st_size / MB,
        copy_seconds=copy_seconds,
        backup_seconds=backup_seconds,
        backup_size=made.size / MB,
        verify_seconds=verify_seconds,
        verified=report.ok,
        writes=writes,
        rss_before=rss_before,
        rss_peak=rss_peak,
    )


def results(figures: BackupFigures) -> list[Result]:
    """The backup's rate beside the copy's, and its memory beside crm's before it."""
    size = f"{figures.size:,.0f} MB database"
    verified = "verified" if figures.verified else "verification FAILED"
    return [
        Result(
            f"backup, {size}",
            figures.size / figures.backup_seconds,
            "MB/s",
            figures.size / figures.copy_seconds,
            "plain file copy",
            budget=BUDGET_MB_PER_S,
            note=(
                "crm_tui.logic.admin.backups.create_backup in-process (snapshot, quick_check, zstd, "
                f"SHA-256, manifest) of a copy of {figures.database}: {figures.backup_seconds:.2f} s "
                f"(the budget: "
                f"1 GB in {BUDGET_SECONDS_PER_GB:.0f} s), while another process updated a customer in "
                f"it every {WRITE_EVERY_S * 1000:.0f} ms ({figures.writes} commits); "
                f"{figures.backup_size:,.0f} MB ({figures.backup_size / figures.size:.0%} of the database); "
                f"{verified} in "
                f"{figures.verify_seconds:.2f} s (SHA-256, unpacking, full integrity_check); baseline: "
                f"shutil.copyfile and fsync of the database, {figures.copy_seconds:.2f} s"
            ),
        ),
        peak_memory(
            f"backup peak RSS, {size}",
            figures.rss_peak,
            figures.rss_before,
            "crm open, before it",
            "the peak resident set of the process after the backup",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.backup_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="default: the largest database in bench/data")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--scratch", type=Path, default=DATA_DIR.parent, help="where the copies go (bench/)")
    parser.add_argument("--figures", type=Path, help="write the figures as JSON here instead of a table")
    args = parser.parse_args(argv)
    figures = measure(args.db or _largest(), args.scratch, args.user)
    hand_over(figures, results(figures), args.figures)


if __name__ == "__main__":
    main()
