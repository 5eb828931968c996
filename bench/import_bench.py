"""CSV import of contacts: crm's import (mapping, cleaning, duplicates, audit) beside the
same rows loaded raw, in the same run.

    python -m bench.import_bench [--rows 100000] [--customers 1000]

Baselines: `sqlite3 .import` (the sqlite3 command-line shell, when installed) and
Python's csv with sqlite3 executemany into a bare table, nothing checked; "raw into
crm": executemany into crm's own contacts table, with its indexes, search index and
audit entries, nothing checked: the database's floor, which no import can beat, since
SQLite takes one writer at a time; and "cleaning alone": crm's reading and checking of
the rows with no database, the floor of the rest. Also the peak RSS of the whole run:
the import streams, so it stays flat with the file's size (try --rows 1000000).
Budgets (ARCHITECTURE.md section 4): at least 50,000 rows/s, under 150 MB.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bench.report import Result, hand_over, peak_memory, peak_rss_mb
from bench.timing import wall

# crm's modules are imported where they are used: the import's cleaning process loads
# this module again, and must start as soon as it does under `crm import`.
BENCH_DIR = Path(__file__).parent

BUDGET_ROWS_PER_S = 50_000
BARE_TABLE = "CREATE TABLE contacts (first, last, company, title, email, mobile)"
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


@dataclass(frozen=True)
class ImportFigures:
    """Seconds and megabytes of one CSV import and of its baselines."""

    rows: int
    customers: int
    created: int
    refused: int
    crm_seconds: float
    crm_cpu_seconds: float  # this process's CPU time during the import
    executemany_seconds: float | None  # None on PostgreSQL
    dot_import_seconds: float | None  # None: no sqlite3 shell installed, or on PostgreSQL
    floor_seconds: float | None  # raw into crm's contacts table; None on PostgreSQL
    cleaning_seconds: float  # crm's reading and checking of the rows alone, no database
    rss_before: float  # MB, all set up, before the import
    rss_peak: float  # MB, after it
    copy_seconds: float | None = None  # PostgreSQL's COPY into a bare table
    engine: str = "SQLite"


def _raw_baseline(path: Path, scratch: Path) -> float:
    """Raw sqlite3: the same rows, read by csv and inserted by executemany, nothing checked."""
    conn = sqlite3.connect(scratch / "raw.sqlite3")
    conn.execute(BARE_TABLE)
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as source, conn:
        reader = csv.reader(source)
        next(reader)
        conn.executemany("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)", reader)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _dot_import(path: Path, scratch: Path) -> float | None:
    """The sqlite3 shell's `.import` of the same file into a bare table, in one
    transaction, its start included; None when the shell is not installed."""
    shell = shutil.which("sqlite3")
    if shell is None:
        return None
    target = scratch / "dot-import.sqlite3"
    env = dict(os.environ)
    wall([shell, "-bail", str(target), BARE_TABLE], env)
    return wall([shell, "-bail", str(target), f'.import --csv --skip 1 "{path}" contacts'], env)


# Each new contact's audit entry, as crm writes it, made inside the database in one
# statement: the cheapest way to write the same entries. json_patch leaves out the
# fields without a value, as crm does.
AUDIT_ENTRIES = """
INSERT INTO audit_entries (at, actor_id, entity, entity_id, action, changes)
SELECT '2024-01-01 00:00:00.000000', 1, 'contact', id, 'create', json_patch(
    json_object('customer', json_array(NULL, 'C-' || customer_id), 'name', json_array(NULL, name)),
    json_object(
        'title', CASE WHEN title IS NOT NULL THEN json_array(NULL, title) END,
        'email', CASE WHEN email IS NOT NULL THEN json_array(NULL, email) END,
        'phone', CASE WHEN phone IS NOT NULL THEN json_array(NULL, phone) END,
        'mobile', CASE WHEN mobile IS NOT NULL THEN json_array(NULL, mobile) END))
FROM contacts WHERE id > ?
"""


def _schema_floor(path: Path, db: Path, customers: int) -> float:
    """Raw sqlite3 into crm's own contacts table (its indexes, and the search index
    filled as crm's import fills it: one statement after the rows) and its audit log
    (an entry per contact, as crm writes), the same rows with nothing checked, on a
    connection set as crm's imports set theirs: what the database alone costs. SQLite
    has one writer at a time, so no import can go faster, however its checking is
    shared out."""
    from crm_tui.storage import search
    from crm_tui.storage.database import BULK_PRAGMAS

    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"):
        conn.execute(pragma)
    for pragma in BULK_PRAGMAS:  # the page cache crm's imports have
        conn.execute(pragma)
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        next(reader)
        conn.execute("BEGIN IMMEDIATE")
        newest = conn.execute("SELECT coalesce(max(id), 0) FROM contacts").fetchone()[0]
        conn.execute(f"INSERT INTO {search.PAUSED} (source) VALUES ('contacts')")
        conn.executemany(
            "INSERT INTO contacts (version, customer_id, name, name_key, title, mobile, email, created_at, "
            "updated_at) VALUES (1, ?, ?, lower(?), ?, ?, ?, '2024-01-01 00:00:00.000000', "
            "'2024-01-01 00:00:00.000000')",
            (
                (n % customers + 1, f"{first} {last}", f"{first} {last}", title, mobile, email)
                for n, (first, last, _company, title, email, mobile) in enumerate(reader)
            ),
        )
        conn.execute(AUDIT_ENTRIES, (newest,))
        conn.execute(f"DELETE FROM {search.PAUSED}")
        conn.execute(search.index_rows_after("contacts", newest))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _cleaning_alone(path: Path) -> float:
    """crm's own reading, mapping and checking of the same rows (names, email, phone
    numbers through phonenumbers), with no database: the other part of an import's
    floor. It runs after the import, so that neither warms a cache for the other."""
    from crm_tui.logic.exchange.contact_import import clean_contact
    from crm_tui.logic.exchange.csv_files import read_rows
    from crm_tui.logic.exchange.headers import cell_values, map_columns
    from crm_tui.logic.values import normalise

    normalise._read_phone.cache_clear()
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as source:
        header, rows = read_rows(source, str(path))
        mapping, _ignored = map_columns("contacts", header, {})
        for _line, cells in rows:
            clean_contact(cell_values(cells, mapping), "DE")
    return time.perf_counter() - start


def _crm_with_companies(path: Path | str, companies: list[str]) -> None:
    """A new crm database at ``path`` (a file, or a URL) with one company customer per name."""
    from crm_tui.config import load_settings
    from crm_tui.logic.core.context import open_crm
    from crm_tui.logic.customers import batches as customer_batches
    from crm_tui.logic.customers.schemas import CustomerCreate

    crm = open_crm(load_settings(db=path, user="admin"))
    with crm.work("customers.write") as work:
        customer_batches.create_batch_in(work, [(n, CustomerCreate(name=c)) for n, c in enumerate(companies)])
    crm.close()


def measure(
    rows: int = 100_000, customers: int = 1_000, scratch: Path | None = None, database_url: str | None = None
) -> ImportFigures:
    """Import ``rows`` contacts of ``customers`` companies from a CSV file with crm, in a new
    database in ``scratch`` (default: a folder in bench/), after the baselines; with
    ``database_url``, in a new database on that PostgreSQL server."""
    with tempfile.TemporaryDirectory(dir=scratch or BENCH_DIR) as name:
        folder = Path(name)
        companies = [f"Company {n} GmbH" for n in range(customers)]
        source = folder / "contacts.csv"
        _write_csv(source, rows, companies)
        if database_url:
            from bench import server

            with server.scratch_database(database_url, "crm_bench_import_scratch") as url:
                _crm_with_companies(url, companies)
                copied = server.copy_csv_seconds(url, source)
                figures = _imported(url, source, folder) | {"copy_seconds": copied, "engine": server.ENGINE}
            baselines = {"executemany_seconds": None, "dot_import_seconds": None, "floor_seconds": None}
        else:
            _crm_with_companies(folder / "crm.sqlite3", companies)
            _crm_with_companies(folder / "floor.sqlite3", companies)
            baselines = {
                "executemany_seconds": _raw_baseline(source, folder),
                "dot_import_seconds": _dot_import(source, folder),
                "floor_seconds": _schema_floor(source, folder / "floor.sqlite3", customers),
            }
            figures = _imported(str(folder / "crm.sqlite3"), source, folder)
        cleaning_seconds = _cleaning_alone(source)
    return ImportFigures(
        rows=rows, customers=customers, cleaning_seconds=cleaning_seconds, rss_peak=peak_rss_mb(),
        **baselines, **figures,
    )  # fmt: skip


def _imported(database: str, source: Path, folder: Path) -> dict:
    """crm's import of ``source`` into ``database``, timed: its figures."""
    from crm_tui.config import load_settings
    from crm_tui.logic.core.context import open_crm
    from crm_tui.logic.exchange import imports
    from crm_tui.logic.exchange.csv_files import open_source

    crm = open_crm(load_settings(db=database, user="admin"))
    rss_before = peak_rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    summary = imports.import_csv(
        crm, "contacts", open_source(str(source)), str(source),
        imports.ImportOptions(rejects_path=folder / "rej.csv"),
    )  # fmt: skip
    crm_seconds, crm_cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    crm.close()
    return {
        "created": summary.created, "refused": summary.refused, "crm_seconds": crm_seconds,
        "crm_cpu_seconds": crm_cpu_seconds, "rss_before": rss_before,
    }  # fmt: skip


def results(figures: ImportFigures) -> list[Result]:
    """The import's rate beside each baseline's (the budget on the first row), and its
    memory beside this process's before it."""
    rows = figures.rows
    rate = rows / figures.crm_seconds
    size = f"{rows:,} contacts"
    bound = ""
    if figures.floor_seconds is not None:
        both = figures.floor_seconds + figures.cleaning_seconds
        slower = max(figures.floor_seconds, figures.cleaning_seconds)
        bound = (
            f"; the database's part and this, one after the other: {rows / both:,.0f} rows/s; "
            f"each on a core of its own at once, nothing else done: {rows / slower:,.0f} rows/s, "
            "the slower of the two"
        )
    baselines = [
        (
            figures.copy_seconds,
            "PostgreSQL COPY",
            "psycopg's COPY of the file into a bare table of text columns, one transaction",
            "",
        ),
        (
            figures.dot_import_seconds,
            "sqlite3 .import",
            "the sqlite3 shell into a bare table, shell start included, one transaction",
            "",
        ),
        (
            figures.executemany_seconds,
            "sqlite3 executemany",
            "csv and executemany into a bare table, one transaction",
            "",
        ),
        (
            figures.floor_seconds,
            "raw into crm",
            "csv and executemany into crm's contacts table (its indexes, the search index filled "
            "as crm's import fills it) and an audit entry per contact made in SQL, nothing "
            "checked, one transaction",
            "",
        ),
        (
            figures.cleaning_seconds,
            "cleaning alone",
            "crm's reading, mapping and checking of the same rows (names, emails, phone numbers), "
            "no database",
            bound,
        ),
    ]
    made = [
        Result(
            f"CSV import vs {name}, {size}",
            rate,
            "rows/s",
            rows / seconds,
            name,
            note=f"baseline: {what}, {seconds:.2f} s{more}",
        )
        for seconds, name, what, more in baselines
        if seconds is not None
    ]
    crm = (
        "crm_tui.logic.exchange.imports.import_csv in-process (mapping, cleaning, duplicates, audit) "
        f"of a new file of {rows:,} contacts for {figures.customers:,} companies: "
        f"{figures.crm_seconds:.2f} s, "
        f"created {figures.created:,}, refused {figures.refused:,}; its CPU time alone "
        f"{figures.crm_cpu_seconds:.2f} s ({rows / figures.crm_cpu_seconds:,.0f} rows/s)"
    )
    made[0] = replace(
        made[0], metric=f"CSV import, {size}", budget=BUDGET_ROWS_PER_S, note=f"{crm}; {made[0].note}"
    )
    rows_made = [
        *made,
        peak_memory(
            f"CSV import peak RSS, {size}",
            figures.rss_peak,
            figures.rss_before,
            "before the import",
            "the peak resident set of the process after the import, baselines included",
        ),
    ]
    if figures.engine == "SQLite":
        return rows_made
    return [replace(row, metric=f"{row.metric}, {figures.engine}") for row in rows_made]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--scratch", type=Path, help="where the files go (a new folder in bench/)")
    parser.add_argument("--database-url", help="import into a new database on this PostgreSQL server")
    parser.add_argument("--figures", type=Path, help="write the figures as JSON here instead of a table")
    args = parser.parse_args(argv)
    figures = measure(args.rows, args.customers, args.scratch, args.database_url)
    hand_over(figures, results(figures), args.figures)


if __name__ == "__main__":
    main()
