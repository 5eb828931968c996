# ruff: noqa: E501 (printed report lines read best whole)
"""Backup of a large database: crm's verified, compressed backup beside a plain file copy.

    python -m bench.backup_bench [--db PATH] [--user admin]

Both run in the same process on the same file, the copy first (so both read a warm page
cache). The database defaults to the largest one in bench/data (1.8 GB, 1M customers).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from bench.generate import DATA_DIR

BUDGET_SECONDS = 15.0
BUDGET_RSS_MB = 150.0


def _largest() -> Path:
    found = sorted(DATA_DIR.glob("*.sqlite3"), key=lambda path: path.stat().st_size)
    if not found:
        raise SystemExit("no database in bench/data: run python -m bench.generate first")
    return found[-1]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--user", default="admin")
    args = parser.parse_args()
    db = args.db or _largest()
    size_mb = db.stat().st_size / 1_048_576

    from crm_tui.config import load_settings
    from crm_tui.logic import backups
    from crm_tui.logic.context import open_crm

    with tempfile.TemporaryDirectory(dir=DATA_DIR.parent) as scratch:
        start = time.perf_counter()
        shutil.copyfile(db, Path(scratch) / "plain-copy.sqlite3")
        copy_s = time.perf_counter() - start
        (Path(scratch) / "plain-copy.sqlite3").unlink()

        crm = open_crm(load_settings(db=str(db), user=args.user), check_schema=False, create=False)
        rss_before = _rss_mb()
        start = time.perf_counter()
        made = backups.create_backup(crm, folder=Path(scratch) / "backups")
        backup_s = time.perf_counter() - start
        rss = _rss_mb()
        start = time.perf_counter()
        report = backups.verify_backup(made.file)
        verify_s = time.perf_counter() - start
        crm.close()

    print(f"database        {db.name}: {size_mb:,.0f} MB")
    print(f"plain copy      {copy_s:6.2f} s  {size_mb / copy_s:7.0f} MB/s  (shutil.copyfile, no check)")
    print(
        f"crm backup      {backup_s:6.2f} s  {size_mb / backup_s:7.0f} MB/s  "
        f"(snapshot + quick_check + zstd + SHA-256 + manifest)  ratio {backup_s / copy_s:.1f}x copy"
    )
    print(
        f"backup size     {made.size / 1_048_576:,.0f} MB ({made.size / db.stat().st_size:.0%} of the database)"
    )
    print(f"verify          {verify_s:6.2f} s  ok={report.ok}  (SHA-256 + unpack + full integrity_check)")
    print(f"peak RSS        {rss:,.0f} MB (before the backup {rss_before:,.0f} MB)")
    print(
        f"budget          backup under {BUDGET_SECONDS:.0f} s: {'PASS' if backup_s < BUDGET_SECONDS else 'FAIL'}; "
        f"RSS under {BUDGET_RSS_MB:.0f} MB: {'PASS' if rss < BUDGET_RSS_MB else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
