"""CSV import of deals or tickets: crm's import (mapping, checks, duplicates, stage
history or workflow, timeline, audit) beside the database's floor, in the same run.

    python -m bench.records_import_bench --kind deals [--rows 100000] [--customers 1000]

The floor ("raw into crm"): exactly the rows crm's import stored (the records, their
stage history or timeline entries, their audit entries), read back and inserted again
with executemany into a copy of the database as it was before the import, batch by
batch as the import commits them, with the search index filled as the import fills
it: what the database alone costs to store the same thing, which no import can beat,
since SQLite takes one writer at a time. Also the peak RSS of the import.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bench.import_bench import _crm_with_companies
from bench.report import Result, hand_over, peak_memory, peak_rss_mb

BENCH_DIR = Path(__file__).parent  # crm's modules are imported where they are used: see import_bench

BUDGET_ROWS_PER_S = 10_000
BATCH = 2_000  # rows a transaction, as crm's import commits them (runner.BATCH_SIZE)
STAGES = ["Lead", "Qualified", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
STATUSES = ["new", "open", "pending", "resolved", "closed", "closed", "resolved"]
# The tables each kind's import writes, and how their rows name the record.
WRITTEN = {
    "deals": [("deals", "id"), ("deal_stage_changes", "deal_id"), ("activities", "deal_id")],
    "tickets": [("tickets", "id"), ("activities", "ticket_id")],
}
INDEXED = {"deals", "tickets", "activities"}


def _write_deals(path: Path, rows: int, companies: list[str]) -> None:
    rng = random.Random(1)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["Deal Name", "Company", "Stage", "Amount", "Currency", "Close Date", "Owner", "Create Date",
             "Lost Reason", "Source"]
        )  # fmt: skip
        for n in range(rows):
            stage = rng.choice(STAGES)
            day = rng.randint(1, 28)
            writer.writerow(
                [f"Deal {n}", companies[n % len(companies)], stage, f"{rng.randint(100, 99_999)}.50", "EUR",
                 f"2025-03-{day:02d}", "admin", f"2025-01-{day:02d}",
                 "Price" if stage == "Closed Lost" else "", rng.choice(["Web", "Referral", ""])]
            )  # fmt: skip


def _write_tickets(path: Path, rows: int, companies: list[str]) -> None:
    rng = random.Random(2)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["Subject", "Company", "Status", "Priority", "Type", "Channel", "Created", "Closed", "Resolution"]
        )
        for n in range(rows):
            status = rng.choice(STATUSES)
            day = rng.randint(1, 28)
            done = status in ("resolved", "closed")
            writer.writerow(
                [f"Ticket {n}", companies[n % len(companies)], status,
                 rng.choice(["low", "normal", "high", "urgent"]), rng.choice(["question", "incident"]),
                 "email",
                 f"2025-03-{day:02d} 10:{n % 60:02d}", f"2025-04-{day:02d} 12:00" if done else "",
                 "Fixed" if done else ""]
            )  # fmt: skip


@dataclass(frozen=True)
class RecordImportFigures:
    """Seconds and megabytes of one CSV import of deals or tickets, and of its floor."""

    kind: str
    rows: int
    customers: int
    created: int
    refused: int
    stored: int  # rows crm stored in all tables, the search index left out
    crm_seconds: float
    crm_cpu_seconds: float
    floor_seconds: float  # on PostgreSQL: its COPY of the file into a bare table
    rss_before: float
    rss_peak: float
    engine: str = "SQLite"


def _written(db: Path, kind: str, entity: str) -> list[tuple[str, list[str], list[tuple], str]]:
    """Every row the import stored, by table: (table, columns, rows, the column naming the record)."""
    conn = sqlite3.connect(db)
    tables = []
    for table, key in [*WRITTEN[kind], ("audit_entries", "entity_id")]:
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        where = f"WHERE entity = '{entity}'" if table == "audit_entries" else f"WHERE {key} IS NOT NULL"
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} {where} ORDER BY id").fetchall()
        tables.append((table, columns, rows, key))
    conn.close()
    return tables


def _floor(db: Path, written: list[tuple[str, list[str], list[tuple], str]], records: int) -> float:
    """Insert ``written`` into ``db`` (the database before the import) batch by batch,
    as the import commits, with the search index filled at each batch's end as the
    import fills it; crm's connection settings, an import's checkpoints included."""
    from crm_tui.storage import search
    from crm_tui.storage.database import BULK_PRAGMAS

    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"):
        conn.execute(pragma)
    for pragma in BULK_PRAGMAS:  # an import's checkpoints and page cache
        conn.execute(pragma)
    start = time.perf_counter()
    for first in range(1, records + 1, BATCH):
        last = first + BATCH - 1
        conn.execute("BEGIN IMMEDIATE")
        for table, columns, rows, key in written:
            index = columns.index(key)
            chosen = [row for row in rows if first <= row[index] <= last]
            if not chosen:
                continue
            newest = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
            if table in INDEXED:
                conn.execute(f"INSERT INTO {search.PAUSED} (source) VALUES ('{table}')")
            marks = ", ".join("?" for _ in columns)
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", chosen)
            if table in INDEXED:
                conn.execute(f"DELETE FROM {search.PAUSED}")
                conn.execute(search.index_rows_after(table, newest))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def measure(
    kind: str,
    rows: int = 100_000,
    customers: int = 1_000,
    scratch: Path | None = None,
    database_url: str | None = None,
) -> RecordImportFigures:
    """Import ``rows`` deals or tickets of ``customers`` companies from a CSV file with
    crm in a new database in ``scratch`` (default: a folder in bench/), then the floor.
    With ``database_url``, into a new database on that PostgreSQL server, beside its
    COPY of the file into a bare table."""
    with tempfile.TemporaryDirectory(dir=scratch or BENCH_DIR) as name:
        folder = Path(name)
        companies = [f"Company {n} GmbH" for n in range(customers)]
        source = folder / f"{kind}.csv"
        (_write_deals if kind == "deals" else _write_tickets)(source, rows, companies)
        if database_url:
            from bench import server

            with server.scratch_database(database_url, "crm_bench_records_scratch") as url:
                _crm_with_companies(url, companies)
                floor_seconds = server.copy_csv_seconds(url, source)
                before = _rows_on_server(url)
                figures = _imported(url, kind, source, folder)
                stored = _rows_on_server(url) - before
            return RecordImportFigures(
                kind=kind, rows=rows, customers=customers, stored=stored, floor_seconds=floor_seconds,
                engine=server.ENGINE, **figures,
            )  # fmt: skip
        _crm_with_companies(folder / "crm.sqlite3", companies)
        shutil.copy(folder / "crm.sqlite3", folder / "floor.sqlite3")
        figures = _imported(str(folder / "crm.sqlite3"), kind, source, folder)
        written = _written(folder / "crm.sqlite3", kind, kind[:-1])
        floor_seconds = _floor(folder / "floor.sqlite3", written, figures["created"])
    stored = sum(len(table_rows) for _, _, table_rows, _ in written)
    return RecordImportFigures(
        kind=kind, rows=rows, customers=customers, stored=stored, floor_seconds=floor_seconds, **figures
    )


def _imported(database: str, kind: str, source: Path, folder: Path) -> dict:
    """crm's import of ``source`` into ``database``, timed: its figures."""
    from crm_tui.config import load_settings
    from crm_tui.logic.core.context import open_crm
    from crm_tui.logic.exchange import imports
    from crm_tui.logic.exchange.csv_files import open_source

    crm = open_crm(load_settings(db=database, user="admin"))
    rss_before = peak_rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    summary = imports.import_csv(
        crm,
        kind,
        open_source(str(source)),
        str(source),
        imports.ImportOptions(rejects_path=folder / "rej.csv"),
    )
    crm_seconds, crm_cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    rss_peak = peak_rss_mb()
    crm.close()
    return {
        "created": summary.created, "refused": summary.refused, "crm_seconds": crm_seconds,
        "crm_cpu_seconds": crm_cpu_seconds, "rss_before": rss_before, "rss_peak": rss_peak,
    }  # fmt: skip


def _rows_on_server(url: str) -> int:
    """Rows in crm's table models on the server (the derived tables left out)."""
    from bench import server
    from crm_tui.storage.dump import tables

    with closing(server.connect(url)) as db:
        return sum(db.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0] for table in tables())


def results(figures: RecordImportFigures) -> list[Result]:
    """The import's rate beside the floor's (the budget on it), and its peak memory."""
    rows, kind = figures.rows, figures.kind
    size = f"{rows:,} {kind}"
    crm = (
        f"crm_tui.logic.exchange.imports.import_csv in-process of a new file of {size} for "
        f"{figures.customers:,} companies: {figures.crm_seconds:.2f} s, created {figures.created:,}, "
        f"refused {figures.refused:,}, {figures.stored:,} rows stored in all; its CPU time alone "
        f"{figures.crm_cpu_seconds:.2f} s"
    )
    floor_rate = rows / figures.floor_seconds
    postgres = figures.engine != "SQLite"
    floor = (
        f"baseline: psycopg's COPY of the file into a bare table of text columns, one transaction: "
        f"{figures.floor_seconds:.2f} s"
        if postgres
        else f"baseline: the same {figures.stored:,} rows crm stored, inserted again with executemany in "
        f"batches of {BATCH:,} records with the search index filled as crm fills it, nothing checked: "
        f"{figures.floor_seconds:.2f} s"
    )
    if floor_rate < BUDGET_ROWS_PER_S:
        floor += (
            f"; on this machine the database alone stores fewer than {BUDGET_ROWS_PER_S:,} {kind} a second"
        )
    suffix = f", {figures.engine}" if postgres else ""
    return [
        Result(
            f"CSV import, {size}{suffix}",
            rows / figures.crm_seconds,
            "rows/s",
            floor_rate,
            "PostgreSQL COPY" if postgres else "raw into crm",
            budget=BUDGET_ROWS_PER_S,
            note=f"{crm}; {floor}",
        ),
        peak_memory(
            f"CSV import peak RSS, {size}{suffix}",
            figures.rss_peak,
            figures.rss_before,
            "before the import",
            "the peak resident set of the process right after the import",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.records_import_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--kind", choices=sorted(WRITTEN), required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--scratch", type=Path, help="where the files go (a new folder in bench/)")
    parser.add_argument("--database-url", help="import into a new database on this PostgreSQL server")
    parser.add_argument("--figures", type=Path, help="write the figures as JSON here instead of a table")
    args = parser.parse_args(argv)
    figures = measure(args.kind, args.rows, args.customers, args.scratch, args.database_url)
    hand_over(figures, results(figures), args.figures)


if __name__ == "__main__":
    main()
