"""The benchmarks on PostgreSQL: the same generated data, moved to a server by crm.

`python -m bench --database-url postgresql://USER@HOST/DB` names a server and a role
that may create databases (as the test suite's does). Each generated SQLite database a
part measures is copied to a database of its own on that server with the real
`crm db copy --to URL` (its time and peak memory are a row of the table), once: the
database is named after the file, which names its sizes, seed, schema and generator,
and is marked as complete only after the copy committed.

The parts then run the same crm commands against the server, and each row names
PostgreSQL. Baselines are the same kinds as on SQLite: `python -c pass`, or the same
data work done with psycopg in this process. Where the SQLite rows check crm's figures
against SQL written for SQLite, these check that crm prints the same on both engines
over the same data.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from bench import benchmarks
from bench.benchmarks import FIRST_PAGE_SQL, READ_BUDGET_MS, REPORT_BUDGET_MS, TICKET_BUDGET_MS, Setup
from bench.report import Result
from bench.timing import median_ms, paired_medians

ENGINE = "PostgreSQL"
READY = "crm bench: copied whole"  # the comment a database gets once its copy committed


def _url(server: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(server).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


def connect(url: str, **options: Any) -> Any:
    import psycopg

    return psycopg.connect(_url(url, _database_of(url)), **options)


def _database_of(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).database or "postgres"


def database_name(sqlite_file: Path) -> str:
    """The server database for a generated file: its name, as PostgreSQL allows. A name
    longer than PostgreSQL's 63 bytes ends in a hash of the whole, so that files that
    differ only at the end (schema, generator) never share a database."""
    name = "crm_" + re.sub(r"[^a-z0-9]+", "_", sqlite_file.stem.lower()).removeprefix("crm_")
    if len(name) <= 63:
        return name
    return f"{name[:50]}_{hashlib.sha256(name.encode()).hexdigest()[:12]}"


def server_copy(setup: Setup, server: str, sqlite_file: Path) -> tuple[str, list[Result]]:
    """The URL of ``sqlite_file``'s data on the server, copied there by `crm db copy` if
    it is not there yet; the copy's row when this run made it."""
    name = database_name(sqlite_file)
    url = _url(server, name)
    with closing(connect(server, autocommit=True)) as admin:
        comment = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if comment and comment[0] == READY:
            return url, []
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    rows = _rows_copied(sqlite_file)
    command = [setup.crm, "--db", str(sqlite_file), "db", "copy", "--to", url, "--quiet"]
    seconds, rss = benchmarks.peak_rss(setup, command)
    vacuumed(url)
    with closing(connect(server, autocommit=True)) as admin:
        admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{READY}'")
    return url, [
        Result(
            f"db copy to {ENGINE}, {rows:,} rows",
            rows / seconds,
            "rows/s",
            note=(
                f"`crm db copy --to URL` of {sqlite_file.name}: {seconds:,.0f} s, peak RSS {rss:,.0f} MB; "
                "every table read back and compared (count and checksum) before it commits"
            ),
        )
    ]


def _rows_copied(sqlite_file: Path) -> int:
    """The rows `crm db copy` copies: those of crm's table models (the derived tables,
    search index and stage totals, the target makes itself)."""
    import sqlite3

    from crm_tui.storage.dump import tables

    with closing(sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)) as db:
        return sum(db.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0] for table in tables())


def vacuumed(url: str) -> None:
    """Statistics and visibility maps as a server has them once autovacuum has been by
    after a load (not timed): a copy just loaded has no visibility map, and an
    index-only scan would visit every row it reads."""
    with closing(connect(url, autocommit=True)) as db:
        db.execute("VACUUM (ANALYZE)")


def _same_output(commands: list[list[str]], env: dict[str, str], compare: Any = None) -> str:
    """Whether the commands (one per engine) printed the same JSON."""
    printed = []
    for command in commands:
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            problem = done.stderr.strip()[-800:]
            raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}: {problem}")
        printed.append(json.loads(done.stdout))
    if compare is not None:
        printed = [compare(item) for item in printed]
    if printed[0] == printed[1]:
        return "the same output as on SQLite"
    if isinstance(printed[0], dict):
        differing = sorted(key for key in printed[0] if printed[0].get(key) != printed[1].get(key))
        return f"output DIFFERS from SQLite's in {', '.join(differing)}"
    return "output DIFFERS from SQLite's"


def customer_list(setup: Setup, url: str, sqlite_file: Path, customers: int) -> list[Result]:
    """`crm customer list --format json` against the server: wall time beside starting
    Python, and beside the same page read with psycopg (connection included)."""
    command = [setup.crm, "--db", url, "customer", "list", "--format", "json"]
    same = _same_output([[setup.crm, "--db", str(sqlite_file), *command[3:]], command], setup.env)
    value, baseline = paired_medians(command, setup.python_pass, setup.list_runs, setup.env)

    def first_page() -> None:
        with closing(connect(url)) as db:
            db.execute(FIRST_PAGE_SQL).fetchall()

    raw = median_ms(first_page, runs=max(20, setup.list_runs * 3))
    return [
        Result(
            f"customer list wall time, {customers:,} customers, {ENGINE}",
            value,
            "ms",
            baseline,
            "python -c pass",
            budget=READ_BUDGET_MS,
            note=f"--format json, median of {setup.list_runs} runs; {same}",
        ),
        Result(
            f"customer list vs raw query, {customers:,} customers, {ENGINE}",
            value,
            "ms",
            raw,
            "psycopg first page",
            note="baseline: connect, select and fetch the same 51 rows with psycopg, in-process",
        ),
    ]


def _timed_report(
    setup: Setup, url: str, sqlite_file: Path, args: list[str], compare: Any = None
) -> tuple[float, float, str]:
    command = [setup.crm, "--db", url, *args]
    same = _same_output([[setup.crm, "--db", str(sqlite_file), *args], command], setup.env, compare)
    value, start_up = paired_medians(command, setup.python_pass, setup.report_runs, setup.env)
    return value, start_up, same


def sales_report(setup: Setup, url: str, sqlite_file: Path, deals: int) -> list[Result]:
    value, start_up, same = _timed_report(setup, url, sqlite_file, ["report", "sales", "--format", "json"])
    return [
        Result(
            f"report sales wall time, {deals:,} deals, {ENGINE}",
            value,
            "ms",
            start_up,
            "python -c pass",
            budget=REPORT_BUDGET_MS,
            note=f"`crm report sales --format json`, all time, median of {setup.report_runs} runs; {same}",
        )
    ]


def _ids(records: list[dict[str, Any]]) -> list[int]:
    return [record["id"] for record in records]


def ticket_rows(setup: Setup, url: str, sqlite_file: Path, tickets: int) -> list[Result]:
    """The breached list (the same tickets as on SQLite) and the service report (the
    same figures), each beside starting Python."""
    breached, start_up, same_list = _timed_report(
        setup, url, sqlite_file, ["ticket", "list", "--breached", "--format", "json"], _ids
    )
    service, start_up_too, same_report = _timed_report(
        setup, url, sqlite_file, ["report", "service", "--format", "json"]
    )
    return [
        Result(
            f"ticket list --breached wall time, {tickets:,} tickets, {ENGINE}",
            breached,
            "ms",
            start_up,
            "python -c pass",
            budget=TICKET_BUDGET_MS,
            note=f"median of {setup.report_runs} runs; {same_list.replace('output', 'tickets')}",
        ),
        Result(
            f"report service wall time, {tickets:,} tickets, {ENGINE}",
            service,
            "ms",
            start_up_too,
            "python -c pass",
            budget=TICKET_BUDGET_MS,
            note=f"`crm report service --format json`, all time, median of {setup.report_runs} runs; "
            f"{same_report}",
        ),
    ]


def copy_for_writing(url: str, scratch_name: str) -> str:
    """A new database on the server made from ``url``'s as a template (a file copy, in
    seconds), for a benchmark that writes; drop it with ``drop``."""
    source = _database_of(url)
    with closing(connect(_url(url, "postgres"), autocommit=True)) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch_name}"')
        admin.execute(f'CREATE DATABASE "{scratch_name}" TEMPLATE "{source}"')
    return _url(url, scratch_name)


def drop(url: str) -> None:
    name = _database_of(url)
    with closing(connect(_url(url, "postgres"), autocommit=True)) as admin:
        for _ in range(50):
            try:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
                return
            except Exception:
                time.sleep(0.2)


@contextmanager
def scratch_database(server: str, name: str) -> Iterator[str]:
    """A new, empty database on the server for a benchmark that writes, dropped after."""
    with closing(connect(server, autocommit=True)) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _url(server, name)
    try:
        yield url
    finally:
        drop(url)


def copy_csv_seconds(url: str, path: Path) -> float:
    """PostgreSQL's COPY of a CSV file into a bare table of its header's columns (text,
    no index, nothing checked), in one transaction: the server's raw load of the rows."""
    import csv

    with path.open(encoding="utf-8", newline="") as source:
        header = next(csv.reader(source))
    columns = ", ".join(f"c{n} text" for n in range(len(header)))
    with closing(connect(url)) as db:
        db.execute(f"CREATE TABLE bench_bare_rows ({columns})")
        db.commit()
        started = time.perf_counter()
        with (
            path.open("rb") as source,
            db.cursor().copy("COPY bench_bare_rows FROM STDIN (FORMAT csv, HEADER)") as copy,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        db.commit()
        elapsed = time.perf_counter() - started
        db.execute("DROP TABLE bench_bare_rows")
        db.commit()
    return elapsed
