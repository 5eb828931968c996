# ruff: noqa: E501 (printed report lines read best whole)
"""CSV import of contacts: crm's import (mapping, cleaning, duplicates, audit) beside raw
sqlite3 executemany of the same rows into a bare table, in the same run.

    python -m bench.import_bench [--rows 100000] [--customers 1000]

Also prints the peak RSS of the whole run: the import streams, so it stays flat with
the file's size (try --rows 1000000).
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.generate import DATA_DIR

BUDGET_ROWS_PER_S = 50_000
BUDGET_RSS_MB = 150.0
FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hugo",
    "Ida",
    "Jonas",
    "Karl",
    "Lena",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
]
LAST = [
    "Schmidt",
    "Meyer",
    "Weber",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Braun",
]


def _write_csv(path: Path, rows: int, companies: list[str]) -> None:
    rng = random.Random(1)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["First Name", "Last Name", "Company Name", "Job Title", "E-mail Address", "Mobile Phone"]
        )
        for n in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            writer.writerow(
                [first, f"{last} {n}", companies[n % len(companies)], "Buyer",
                 f"{first.lower()}.{n}@example.com", f"+49 170 {3_000_000 + n:07d}"]
            )  # fmt: skip


def _raw_baseline(path: Path, scratch: Path) -> float:
    """Raw sqlite3: the same rows, read by csv and inserted by executemany, nothing checked."""
    conn = sqlite3.connect(scratch / "raw.sqlite3")
    conn.execute("CREATE TABLE contacts (first, last, company, title, email, mobile)")
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as source, conn:
        reader = csv.reader(source)
        next(reader)
        conn.executemany("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)", reader)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _schema_floor(path: Path, db: Path, customers: int) -> float:
    """Raw sqlite3 into crm's own contacts table (its indexes and full-text search
    triggers), the same rows with nothing checked and no audit: what the database alone
    costs, below which no import can go."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        next(reader)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO contacts (version, customer_id, name, name_key, title, mobile, email, created_at, "
            "updated_at) VALUES (1, ?, ?, lower(?), ?, ?, ?, '2024-01-01 00:00:00.000000', "
            "'2024-01-01 00:00:00.000000')",
            (
                (n % customers + 1, f"{first} {last}", f"{first} {last}", title, mobile, email)
                for n, (first, last, _company, title, email, mobile) in enumerate(reader)
            ),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=1_000)
    args = parser.parse_args()

    from crm_tui.config import load_settings
    from crm_tui.logic import customer_batches, imports
    from crm_tui.logic.context import open_crm
    from crm_tui.logic.schemas import CustomerCreate

    with tempfile.TemporaryDirectory(dir=DATA_DIR.parent) as name:
        scratch = Path(name)
        crm = open_crm(load_settings(db=str(scratch / "crm.sqlite3"), user="admin"))
        companies = [f"Company {n} GmbH" for n in range(args.customers)]
        with crm.work("customers.write") as work:
            customer_batches.create_batch_in(
                work, [(n, CustomerCreate(name=c)) for n, c in enumerate(companies)]
            )
        source = scratch / "contacts.csv"
        _write_csv(source, args.rows, companies)
        raw_s = _raw_baseline(source, scratch)
        floor_db = scratch / "floor.sqlite3"
        floor_crm = open_crm(load_settings(db=str(floor_db), user="admin"))
        with floor_crm.work("customers.write") as work:
            customer_batches.create_batch_in(
                work, [(n, CustomerCreate(name=c)) for n, c in enumerate(companies)]
            )
        floor_crm.close()
        floor_s = _schema_floor(source, floor_db, args.customers)
        start, cpu = time.perf_counter(), time.process_time()
        with source.open(encoding="utf-8", newline="") as stream:
            summary = imports.import_csv(
                crm, "contacts", stream, str(source), rejects_path=scratch / "rej.csv"
            )
        crm_s, crm_cpu = time.perf_counter() - start, time.process_time() - cpu
        crm.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    crm_rate, raw_rate = args.rows / crm_s, args.rows / raw_s
    print(
        f"rows            {args.rows:,} contacts for {args.customers:,} customers (created {summary.created:,}, "
        f"refused {summary.rejected:,})"
    )
    print(f"raw executemany {raw_s:6.2f} s  {raw_rate:10,.0f} rows/s  (csv + sqlite3, nothing checked)")
    print(
        f"raw into crm    {floor_s:6.2f} s  {args.rows / floor_s:10,.0f} rows/s  (csv + sqlite3 into crm's contacts "
        "table: its indexes and full-text search triggers, nothing checked, no audit)"
    )
    print(
        f"crm import      {crm_s:6.2f} s  {crm_rate:10,.0f} rows/s  (mapping, cleaning, duplicates, audit; "
        f"{crm_rate / raw_rate:.0%} of raw)"
    )
    print(
        f"crm import CPU  {crm_cpu:6.2f} s  {args.rows / crm_cpu:10,.0f} rows/s  (this process's CPU time: "
        "what the import would take alone on the machine)"
    )
    print(f"peak RSS        {rss:,.0f} MB")
    print(
        f"budget          at least {BUDGET_ROWS_PER_S:,} rows/s: {'PASS' if crm_rate >= BUDGET_ROWS_PER_S else 'FAIL'}; "
        f"RSS under {BUDGET_RSS_MB:.0f} MB: {'PASS' if rss < BUDGET_RSS_MB else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
