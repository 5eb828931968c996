"""The benchmarks, one function each; every one returns rows for the report.

crm is always run as the real ``crm`` console script in a subprocess, so a number
includes interpreter start, imports and output, as a user would wait for it. Each
number has a baseline measured in the same run: ``python -c pass`` for start-up, or
the same work done with the standard ``sqlite3`` module.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import statistics
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import COLUMNS, create_empty, new_customers, remove_database, stamp
from bench.report import Result
from bench.timing import median_ms, paired_medians, wall
from crm_tui.logic.normalise import name_key

START_BUDGET_MS = 150  # `crm --help`, `crm --version`: ARCHITECTURE.md section 4
READ_BUDGET_MS = 500  # a CLI read command on a 1M-customer database
FORBIDDEN_AT_START = ("textual", "sqlalchemy")
# Packages worth naming when `crm --help` loads them: the big ones.
HEAVY = ("textual", "sqlalchemy", "sqlmodel", "alembic", "pydantic", "rich", "typer", "click")
# crm's customer list reads one row more than a page, to know whether another page follows.
FIRST_PAGE_SQL = "SELECT * FROM customers WHERE archived_at IS NULL ORDER BY name_key, id LIMIT 51"
PAGE_SIZE = 50


@dataclass(frozen=True)
class Setup:
    """What every benchmark needs: the programs, their environment, a scratch folder."""

    crm: str  # the crm console script
    python: str
    env: dict[str, str]
    scratch: Path
    cli_runs: int
    list_runs: int

    @property
    def python_pass(self) -> list[str]:
        return [self.python, "-c", "pass"]


def start_time(setup: Setup, flag: str) -> Result:
    """Wall time of `crm FLAG` (median of ``cli_runs``) against `python -c pass`."""
    value, baseline = paired_medians(
        [setup.crm, flag], setup.python_pass, setup.cli_runs, setup.env
    )
    return Result(
        f"crm {flag} wall time",
        value,
        "ms",
        baseline,
        "python -c pass",
        budget=START_BUDGET_MS,
        note=f"median of {setup.cli_runs} runs",
    )


# Runs crm's entry point as the console script does, then names the big packages loaded.
IMPORT_PROBE = """
import sys
sys.argv = ["crm", {flag!r}]
from crm_tui.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nloaded: " + " ".join(n for n in {heavy!r} if n in sys.modules) + "\\n")
"""


def start_imports(setup: Setup, flag: str) -> Result:
    """How many of textual and sqlalchemy `crm FLAG` imports; the budget is none."""
    probe = IMPORT_PROBE.format(flag=flag, heavy=HEAVY)
    done = subprocess.run(
        [setup.python, "-c", probe],
        env=setup.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    loaded = done.stderr.rsplit("loaded:", 1)[1].split()
    forbidden = [name for name in FORBIDDEN_AT_START if name in loaded]
    return Result(
        f"crm {flag} loads textual/sqlalchemy",
        len(forbidden),
        "modules",
        budget=0,
        note=f"big packages loaded: {', '.join(loaded) or 'none'}",
    )


def first_page(database: Path) -> list[Any]:
    """The first page of active customers by name, read with plain sqlite3."""
    with closing(sqlite3.connect(database)) as db:
        return db.execute(FIRST_PAGE_SQL).fetchall()


def customer_list(setup: Setup, database: Path, customers: int) -> list[Result]:
    """Wall time of `crm customer list --format json` on the generated database.

    Baselines: `python -c pass` (start-up), and the same first page read in this
    process with sqlite3, connection included (the data work alone).
    """
    command = [setup.crm, "--db", str(database), "customer", "list", "--format", "json"]
    _check_list_output(command, setup.env)
    value, baseline = paired_medians(command, setup.python_pass, setup.list_runs, setup.env)
    raw = median_ms(lambda: first_page(database), runs=max(20, setup.list_runs * 3))
    return [
        Result(
            f"customer list wall time, {customers:,} customers",
            value,
            "ms",
            baseline,
            "python -c pass",
            budget=READ_BUDGET_MS,
            note=f"--format json, median of {setup.list_runs} runs; the budget is for 1M customers",
        ),
        Result(
            f"customer list vs raw query, {customers:,} customers",
            value,
            "ms",
            raw,
            "sqlite3 first page",
            note="baseline: connect, select and fetch the same 51 rows with sqlite3, in-process",
        ),
    ]


def _check_list_output(command: list[str], env: dict[str, str]) -> None:
    """Run the list once and make sure it printed a full page of JSON records."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    records = json.loads(done.stdout)
    if len(records) != PAGE_SIZE or "name" not in records[0]:
        raise RuntimeError(f"{' '.join(command)} printed {len(records)} records, not a page")


def customer_import(
    setup: Setup, small_database: Path, rows: int, runs: int, seed: int = 1
) -> Result:
    """Customers created per second by `crm customer add --from FILE` (JSON Lines).

    Each run adds ``rows`` new customers to a fresh copy of a small generated database;
    the wall time includes crm's start-up. The baseline inserts the same rows, already
    cleaned, into an empty crm database with one sqlite3 ``executemany``.
    """
    records = new_customers(rows, seed)
    source = setup.scratch / "new-customers.jsonl"
    with source.open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    target = setup.scratch / "import.sqlite3"
    command = [setup.crm, "--db", str(target), "customer", "add", "--from", str(source)]
    # ids: one short line per customer, so that printing costs next to nothing.
    command += ["--format", "ids"]
    crm_times = []
    for _ in range(runs):
        _fresh_copy(small_database, target)
        before = _count_customers(target)
        crm_times.append(wall(command, setup.env))
        added = _count_customers(target) - before
        if added != rows:
            raise RuntimeError(f"crm customer add --from added {added} customers, not {rows}")
    raw_seconds = _raw_insert_time(setup.scratch, records, runs)
    return Result(
        f"customer add --from, {rows:,} rows",
        rows / statistics.median(crm_times),
        "rows/s",
        rows / raw_seconds,
        "sqlite3 executemany",
        note=f"median of {runs} run(s); no budget in ARCHITECTURE.md (CSV import: 50,000 rows/s)",
    )


def _fresh_copy(source: Path, target: Path) -> None:
    remove_database(target)
    shutil.copyfile(source, target)


def _count_customers(database: Path) -> int:
    with closing(sqlite3.connect(database)) as db:
        return db.execute("SELECT count(*) FROM customers").fetchone()[0]


def _raw_insert_time(scratch: Path, records: list[dict[str, str]], runs: int) -> float:
    """Median seconds to insert the records with sqlite3 into an empty crm database."""
    template = scratch / "empty.sqlite3"
    remove_database(template)
    create_empty(template)
    now = stamp(datetime.now(UTC).replace(tzinfo=None))  # naive UTC, as crm stores it
    rows = [customer_row(record, now) for record in records]
    columns = COLUMNS["customers"][1:]  # without id: SQLite numbers the rows
    sql = f"INSERT INTO customers ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    target = scratch / "raw.sqlite3"
    times = []
    for _ in range(runs):
        _fresh_copy(template, target)
        with closing(sqlite3.connect(target, isolation_level=None)) as db:
            db.execute("PRAGMA synchronous = NORMAL")  # as crm sets it
            started = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.executemany(sql, rows)
            db.execute("COMMIT")
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def customer_row(record: dict[str, str], now: str) -> tuple[Any, ...]:
    """The customers row crm would store for a record (no id, no owner, no tags)."""
    company = record.get("company")
    return (
        1, record["name"], name_key(record["name"], company=record["kind"] == "company"),
        record["kind"], company, name_key(company, company=True) if company else None,
        record["lifecycle"], record.get("segment"), None, record["email"], record["phone"],
        record["website"], record["street"], record["city"], record["postcode"],
        record["country"], record.get("industry"), record.get("source"), "{}", now, now,
        None, None,
    )  # fmt: skip
