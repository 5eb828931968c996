"""The benchmarks, one function each; every one returns rows for the report.

crm is always run as the real ``crm`` console script in a subprocess, so a number
includes interpreter start, imports and output, as a user would wait for it. Each
number has a baseline measured in the same run: ``python -c pass`` for start-up, or
the same work done with the standard ``sqlite3`` module.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import statistics
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import COLUMNS, create_empty, new_customers, remove_database, stamp
from bench.report import Result, peak_memory
from bench.timing import median_ms, paired_medians, wall
from crm_tui.logic.values.normalise import name_key

START_BUDGET_MS = 150  # `crm --help`, `crm --version`: ARCHITECTURE.md section 4
READ_BUDGET_MS = 500  # a CLI read command on a 1M-customer database
REPORT_BUDGET_MS = 1000  # `crm report sales --format json` on a database with 200,000 deals
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
    report_runs: int = 7

    @property
    def python_pass(self) -> list[str]:
        return [self.python, "-c", "pass"]


def start_time(setup: Setup, flag: str) -> Result:
    """Wall time of `crm FLAG` (median of ``cli_runs``) against `python -c pass`."""
    value, baseline = paired_medians([setup.crm, flag], setup.python_pass, setup.cli_runs, setup.env)
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


# Bash asking crm to complete `crm customer l`: the group's module loads to name its commands.
COMPLETION_ENV = {"_CRM_COMPLETE": "complete_bash", "COMP_WORDS": "crm customer l", "COMP_CWORD": "2"}


def completion(setup: Setup) -> list[Result]:
    """Shell completion, timed and probed as `crm --help` is, with bash's request in the
    environment; it must offer `list`."""
    completing = replace(setup, env=setup.env | COMPLETION_ENV)
    offered = subprocess.run([setup.crm], env=completing.env, capture_output=True, text=True, check=True)
    if "list" not in offered.stdout.split():
        raise RuntimeError(f"completing `crm customer l` offered {offered.stdout.split()}, not list")
    timed = start_time(completing, "customer")
    probed = start_imports(completing, "customer")
    return [
        replace(
            timed, metric="crm completion wall time", note=f"`crm customer l<TAB>` in bash, {timed.note}"
        ),
        replace(probed, metric="crm completion loads textual/sqlalchemy"),
    ]


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


def customer_import(setup: Setup, small_database: Path, rows: int, runs: int, seed: int = 1) -> Result:
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


# The sales report: every figure of crm_tui.logic.reports.sales with no period, owner or
# pipeline given, as plain SQL. Archived deals count nowhere; stages and stage conversion
# are those of the default pipeline, the other figures cover every pipeline.
WEIGHTED = "(2 * d.amount_minor * s.probability + 100) / 200"  # per deal, rounded half up
REVENUE_STATUSES = "o.status IN ('confirmed', 'fulfilled', 'paid')"
SALES_SQL = {
    "pipeline_by_stage": f"""
        SELECT s.name, s.position, s.probability, d.currency, count(*), sum(d.amount_minor),
               sum({WEIGHTED})
        FROM stages s JOIN deals d ON d.stage_id = s.id
        WHERE s.pipeline_id = :pipeline AND d.status = 'open' AND d.archived_at IS NULL
        GROUP BY s.id, d.currency ORDER BY s.position, d.currency""",
    "forecast": f"""
        SELECT substr(d.expected_close, 1, 7), d.currency, count(*), sum(d.amount_minor),
               sum({WEIGHTED})
        FROM deals d JOIN stages s ON s.id = d.stage_id
        WHERE d.status = 'open' AND d.expected_close IS NOT NULL AND d.archived_at IS NULL
        GROUP BY 1, 2 ORDER BY 1, 2""",
    "win_rates": """
        SELECT u.username, d.status, count(*)
        FROM deals d LEFT JOIN users u ON u.id = d.owner_id
        WHERE d.status IN ('won', 'lost') AND d.archived_at IS NULL
        GROUP BY u.username, d.status""",
    "won_deals": """
        SELECT currency, count(*), sum(amount_minor) FROM deals
        WHERE status = 'won' AND archived_at IS NULL GROUP BY currency ORDER BY currency""",
    "average_cycle_days": """
        SELECT avg(julianday(closed_at) - julianday(created_at)) FROM deals
        WHERE status = 'won' AND archived_at IS NULL""",
    # stage_conversion: made for the pipeline's stages by conversion_sql()
    "revenue_by_month": f"""
        SELECT substr(o.confirmed_at, 1, 7), o.currency, count(*), sum(o.net_minor)
        FROM orders o WHERE {REVENUE_STATUSES} GROUP BY 1, 2 ORDER BY 1, 2""",
    "revenue_by_owner": f"""
        SELECT coalesce(u.username, '(nobody)'), o.currency, count(*), sum(o.net_minor)
        FROM orders o LEFT JOIN users u ON u.id = o.owner_id
        WHERE {REVENUE_STATUSES} GROUP BY 1, 2 ORDER BY 1, 2""",
    "revenue_by_product": f"""
        SELECT coalesce(p.sku, '(no product)'), o.currency, count(DISTINCT o.id),
               sum(l.net_minor)
        FROM orders o JOIN order_lines l ON l.order_id = o.id
        LEFT JOIN products p ON p.id = l.product_id
        WHERE {REVENUE_STATUSES} GROUP BY 1, 2 ORDER BY 1, 2""",
}
REPORT_KEYS = (
    "period_from", "period_to", "owner", "pipeline", "pipeline_by_stage", "forecast",
    "win_rates", "won_deals", "average_cycle_days", "stage_conversion", "revenue_by_month",
    "revenue_by_product", "revenue_by_owner",
)  # fmt: skip


def conversion_sql(stages: list[tuple[Any, ...]]) -> str:
    """One pass over the stage history grouped by deal: per open stage, when the deal
    first entered it and when it last entered a not-lost stage further on; it advanced
    if the latter is later. ``stages`` are (id, name, position, kind, live) rows.

    ``+d.archived_at`` keeps SQLite from using an index on it, so that deals are read in
    id order and grouped without sorting (twice as fast as the plan it picks itself).
    """
    opens = [(stage_id, position) for stage_id, _, position, kind, live in stages
             if kind == "open" and live]  # fmt: skip
    per_deal = ", ".join(
        f"min(CASE WHEN c.to_stage_id = {stage_id} THEN c.at END) AS first_{stage_id}, "
        f"max(CASE WHEN s.kind != 'lost' AND s.position > {position} THEN c.at END)"
        f" AS later_{stage_id}"
        for stage_id, position in opens
    )
    totals = ", ".join(
        f"count(first_{stage_id}), coalesce(sum(later_{stage_id} > first_{stage_id}), 0)"
        for stage_id, _ in opens
    )
    return f"""
        SELECT {totals} FROM (
            SELECT {per_deal}
            FROM deals d
            JOIN deal_stage_changes c ON c.deal_id = d.id
            JOIN stages s ON s.id = c.to_stage_id
            WHERE d.pipeline_id = :pipeline AND +d.archived_at IS NULL
            GROUP BY d.id)"""


def sales_figures(database: Path, times: dict[str, float] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of every figure's query, read with plain sqlite3, connecting included;
    ``times`` gets each query's milliseconds if given."""
    with closing(sqlite3.connect(database)) as db:
        pipeline = db.execute("SELECT id FROM pipelines WHERE is_default").fetchone()[0]
        stages = db.execute(
            "SELECT id, name, position, kind, removed_at IS NULL FROM stages"
            " WHERE pipeline_id = ? ORDER BY position",
            (pipeline,),
        ).fetchall()
        queries = SALES_SQL | {"stage_conversion": conversion_sql(stages)}
        rows = {}
        for name, sql in queries.items():
            started = time.perf_counter()
            rows[name] = db.execute(sql, {"pipeline": pipeline}).fetchall()
            if times is not None:
                times[name] = (time.perf_counter() - started) * 1000
    # One row of (entered, advanced) pairs, back to a row per open stage.
    names = [name for _, name, _, kind, live in stages if kind == "open" and live]
    flat = rows["stage_conversion"][0]
    rows["stage_conversion"] = [
        (name, flat[2 * index], flat[2 * index + 1]) for index, name in enumerate(names)
    ]
    return rows


def sales_report(setup: Setup, database: Path, deals: int) -> list[Result]:
    """Wall time of `crm report sales --format json` (no period: all time) on the database.

    Baselines: the same figures as GROUP BY queries run in this process with sqlite3,
    connection included (the data work alone), and `python -c pass` (start-up). The
    report printed once is checked against those queries' rows.
    """
    command = [setup.crm, "--db", str(database), "report", "sales", "--format", "json"]
    printed = _report_output(command, setup.env)
    differences = report_differences(printed, sales_figures(database))
    value, start_up = paired_medians(command, setup.python_pass, setup.report_runs, setup.env)
    raw = median_ms(lambda: sales_figures(database), runs=max(5, setup.report_runs))
    times: dict[str, float] = {}
    sales_figures(database, times)
    agreement = (
        "crm's figures agree with the queries'"
        if not differences
        else f"crm's figures DIFFER from the queries' in {', '.join(differences)}"
    )
    breakdown = ", ".join(f"{name} {ms:,.0f}" for name, ms in times.items())
    return [
        Result(
            f"report sales wall time, {deals:,} deals",
            value,
            "ms",
            raw,
            "sqlite3 GROUP BYs",
            budget=REPORT_BUDGET_MS,
            note=(
                f"`crm report sales --format json`, all time, median of {setup.report_runs} "
                f"runs; baseline: every figure of the report as one aggregate query with "
                f"sqlite3, in-process (bench/benchmarks.py SALES_SQL, conversion_sql); "
                f"{agreement}; the queries' ms, one run: {breakdown}"
            ),
        ),
        Result(
            f"report sales vs start-up, {deals:,} deals",
            value,
            "ms",
            start_up,
            "python -c pass",
            note="the same time against starting Python",
        ),
    ]


def _report_output(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run the report once and make sure it printed a JSON object with every section."""
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        message = done.stderr.strip()[-800:]
        raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}: {message}")
    report = json.loads(done.stdout)
    missing = [key for key in REPORT_KEYS if key not in report]
    if not isinstance(report, dict) or missing:
        raise RuntimeError(f"{' '.join(command)} printed no sales report: {missing} missing")
    if not report["pipeline_by_stage"] or not report["won_deals"]:
        raise RuntimeError(f"{' '.join(command)} printed an empty sales report")
    return report


def _half_up(total: int, count: int) -> int:
    return (2 * total + count) // (2 * count)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def report_differences(report: dict[str, Any], rows: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """The sections where crm's report and the SQL rows disagree (empty if none do)."""
    expected: dict[str, Any] = {
        "pipeline_by_stage": [
            dict(zip(("stage", "position", "probability", "currency", "deals", "amount_minor",
                      "weighted_minor"), row, strict=True))
            for row in rows["pipeline_by_stage"]
        ],
        "forecast": [
            dict(zip(("month", "currency", "deals", "amount_minor", "weighted_minor"), row,
                     strict=True))
            for row in rows["forecast"]
        ],
        "won_deals": [
            {"currency": currency, "won": count, "amount_minor": total,
             "average_minor": _half_up(total, count)}
            for currency, count, total in rows["won_deals"]
        ],
        "stage_conversion": [
            {"stage": stage, "entered": entered, "advanced": advanced,
             "conversion": _percent(advanced, entered)}
            for stage, entered, advanced in rows["stage_conversion"]
        ],
    }  # fmt: skip
    per_owner: dict[str | None, dict[str, int]] = {}
    for username, status, count in rows["win_rates"]:
        per_owner.setdefault(username, {"won": 0, "lost": 0})[status] = count
    won = sum(figures["won"] for figures in per_owner.values())
    lost = sum(figures["lost"] for figures in per_owner.values())
    expected["win_rates"] = [
        {"owner": owner, "won": f["won"], "lost": f["lost"],
         "win_rate": _percent(f["won"], f["won"] + f["lost"])}
        for owner, f in [(None, {"won": won, "lost": lost}),
                         *sorted(per_owner.items(), key=lambda item: item[0] or "")]
    ]  # fmt: skip
    for section in ("revenue_by_month", "revenue_by_owner", "revenue_by_product"):
        expected[section] = [
            dict(zip(("key", "currency", "orders", "net_minor"), row, strict=True)) for row in rows[section]
        ]
    differences = [name for name, figures in expected.items() if report[name] != figures]
    cycle = rows["average_cycle_days"][0][0]
    shown = report["average_cycle_days"]
    if (cycle is None) != (shown is None) or (cycle is not None and abs(shown - cycle) > 0.051):
        differences.append("average_cycle_days")
    return differences


# The service desk: `crm ticket list --breached` and `crm report service`, on the tickets.
TICKET_BUDGET_MS = 1000  # issue 4: each under 1 s on a database with 300,000 tickets
WAITING = "('new', 'open', 'pending')"
# _breached_now in crm_tui/logic/tickets.py: past a due time it still has to meet, while
# the clock runs (new, open) at :now, and for a pending ticket when it paused.
BREACHED = """(
    (status IN ('new', 'open')
     AND (resolution_due < :now OR (first_response_at IS NULL AND first_response_due < :now)))
    OR (status = 'pending'
        AND (resolution_due < pending_since
             OR (first_response_at IS NULL AND first_response_due < pending_since))))"""
NEXT_DUE = (
    "CASE WHEN first_response_at IS NULL AND first_response_due < resolution_due"
    " THEN first_response_due ELSE resolution_due END"
)
BREACHED_SQL = f"""
    SELECT * FROM tickets
    WHERE archived_at IS NULL AND status IN {WAITING} AND {BREACHED}
    ORDER BY {NEXT_DUE}, id LIMIT 51"""
COUNTED = "archived_at IS NULL AND merged_into_id IS NULL"  # the report's tickets
AGE_LABELS = ("under 1 day", "1-3 days", "3-7 days", "7-30 days", "30 days or more")
AGE = """CASE WHEN age < 1 THEN 'under 1 day' WHEN age < 3 THEN '1-3 days'
              WHEN age < 7 THEN '3-7 days' WHEN age < 30 THEN '7-30 days'
              ELSE '30 days or more' END"""

# Every figure of crm_tui.logic.reports.service with no period or agent, as plain SQL over
# the spans each ticket keeps (response_seconds, resolution_seconds, met_sla), read the
# way the report reads them: GROUP BYs, then each median and 90th percentile as the value
# at its rank in the span's order (RANKED, once per figure and per agent).
SERVICE_SQL = {
    "volume": f"""
        SELECT assignee_id, type, priority, channel, status, count(*), count(response_seconds)
        FROM tickets WHERE {COUNTED} GROUP BY 1, 2, 3, 4, 5""",
    "resolved": f"""
        SELECT assignee_id, count(*), count(resolution_seconds), sum(met_sla), count(satisfaction),
               sum(satisfaction)
        FROM tickets WHERE {COUNTED} AND resolved_at IS NOT NULL GROUP BY assignee_id""",
    "backlog": f"""
        SELECT assignee_id, {AGE}, count(*)
        FROM (SELECT assignee_id, julianday(:now) - julianday(created_at) AS age FROM tickets
              WHERE {COUNTED} AND status IN {WAITING})
        GROUP BY 1, 2""",
}
RANKED = f"""
    SELECT {{span}} FROM tickets WHERE {COUNTED} AND {{span}} IS NOT NULL AND {{agent}}
    ORDER BY {{span}} {{order}} LIMIT :limit OFFSET :offset"""

# The figures measured from the tickets' times at each reading, as the report did before
# tickets kept their spans (a calendar SLA clock, crm's default). Timed for the note, and
# compared with the report: the kept spans must say what the times say.
MINUTES = "(julianday({end}) - julianday({start})) * 1440"
COMPLIED = (
    "(first_response_at IS NOT NULL AND first_response_at <= first_response_due"
    " AND resolved_at <= resolution_due)"
)
RESOLUTION_MINUTES = (
    f"max({MINUTES.format(end='resolved_at', start='created_at')} - paused_seconds / 60.0, 0)"
)


def _ranked(minutes: str, where: str) -> str:
    """The values at the ranks the median and the nearest-rank 90th percentile need."""
    return f"""
        SELECT r, n, m FROM (
            SELECT {minutes} AS m, row_number() OVER (ORDER BY {minutes}) AS r, count(*) OVER () AS n
            FROM tickets WHERE {COUNTED} AND {where})
        WHERE r IN ((n + 1) / 2, n / 2 + 1, (9 * n + 9) / 10)"""


READ_TIME_SQL = {
    "volume": f"""
        SELECT type, priority, channel, status, count(*) FROM tickets WHERE {COUNTED}
        GROUP BY 1, 2, 3, 4""",
    "resolved": f"""
        SELECT count(*), sum({COMPLIED}), count(satisfaction), avg(satisfaction) FROM tickets
        WHERE {COUNTED} AND resolved_at IS NOT NULL""",
    "backlog": f"""
        SELECT {AGE}, count(*)
        FROM (SELECT julianday(:now) - julianday(created_at) AS age FROM tickets
              WHERE {COUNTED} AND status IN {WAITING})
        GROUP BY 1""",
    "agents": f"""
        SELECT u.username, sum(status IN {WAITING}), count(resolved_at),
               sum(resolved_at IS NOT NULL AND {COMPLIED}), count(CASE WHEN resolved_at IS NOT NULL
               THEN satisfaction END), avg(CASE WHEN resolved_at IS NOT NULL THEN satisfaction END)
        FROM tickets JOIN users u ON u.id = assignee_id
        WHERE {COUNTED}
        GROUP BY u.username ORDER BY u.username""",
    "first_response": _ranked(
        MINUTES.format(end="first_response_at", start="created_at"), "first_response_at IS NOT NULL"
    ),
    "resolution": _ranked(RESOLUTION_MINUTES, "resolved_at IS NOT NULL"),
}


def _now() -> str:
    """The present as crm stores times (naive UTC)."""
    return stamp(datetime.now(UTC).replace(tzinfo=None))


def breached_page(database: Path) -> list[Any]:
    """The first page of breached tickets, soonest due first, read with plain sqlite3."""
    with closing(sqlite3.connect(database)) as db:
        return db.execute(BREACHED_SQL, {"now": _now()}).fetchall()


def breached_list(setup: Setup, database: Path, tickets: int) -> Result:
    """Wall time of `crm ticket list --breached --format json` against the same page in SQL."""
    command = [setup.crm, "--db", str(database), "ticket", "list", "--breached", "--format", "json"]
    done = subprocess.run(command, env=setup.env, capture_output=True, text=True, check=True)
    records = json.loads(done.stdout)
    if not isinstance(records, list) or (records and "breached" not in records[0]):
        raise RuntimeError(f"{' '.join(command)} printed no list of tickets")
    with closing(sqlite3.connect(database)) as db:
        db.row_factory = sqlite3.Row
        expected = [row["id"] for row in db.execute(BREACHED_SQL, {"now": _now()}).fetchall()[:PAGE_SIZE]]
        db.row_factory = None
        total = db.execute(
            f"SELECT count(*), sum({BREACHED}) FROM tickets"
            f" WHERE archived_at IS NULL AND status IN {WAITING}",
            {"now": _now()},
        ).fetchone()
    shown = [record["id"] for record in records]
    agreement = "the same tickets as the query" if shown == expected else "tickets DIFFER from the query's"
    value, _ = paired_medians(command, setup.python_pass, setup.report_runs, setup.env)
    raw = median_ms(lambda: breached_page(database), runs=max(20, setup.report_runs * 3))
    return Result(
        f"ticket list --breached wall time, {tickets:,} tickets",
        value,
        "ms",
        raw,
        "sqlite3 first page",
        budget=TICKET_BUDGET_MS,
        note=(
            f"median of {setup.report_runs} runs; printed {len(records)} tickets, {agreement}; "
            f"{total[1] or 0:,} of {total[0]:,} waiting tickets breached; baseline: connect, select "
            "and fetch the first 51 rows by next due (the condition of _breached_now) with sqlite3"
        ),
    )


def _rank_times(db: sqlite3.Connection, span: str, agent: int | None, count: int) -> dict[str, Any]:
    """Count, median and nearest-rank 90th percentile of a kept span, in minutes, read at
    their ranks as the report reads them."""
    if not count:
        return {"count": 0, "median_minutes": None, "p90_minutes": None}
    agent_is = "assignee_id = :agent" if agent is not None else "1"

    def at(order: str, offset: int, limit: int) -> list[int]:
        sql = RANKED.format(span=span, agent=agent_is, order=order)
        rows = db.execute(sql, {"agent": agent, "limit": limit, "offset": offset})
        return [value for (value,) in rows]

    middle = at("ASC", (count - 1) // 2, 2 - count % 2)
    (high,) = at("DESC", count - math.ceil(0.9 * count), 1)
    return {
        "count": count,
        "median_minutes": round(statistics.median(value / 60 for value in middle), 1),
        "p90_minutes": round(high / 60, 1),
    }


def service_figures(database: Path, times: dict[str, float] | None = None) -> dict[str, Any]:
    """Every figure of the report from SERVICE_SQL and RANKED with sqlite3, connecting
    included, in the report's JSON shape; ``times`` gets each step's ms."""
    started = time.perf_counter()
    with closing(sqlite3.connect(database)) as db:
        rows = {}
        for name, sql in SERVICE_SQL.items():
            rows[name] = db.execute(sql, {"now": _now()}).fetchall()
            started = _lap(times, name, started)
        figures = _service_counts(rows)
        responded = sum(row[-1] for row in rows["volume"])
        timed = sum(row[2] for row in rows["resolved"])
        figures["first_response"] = _rank_times(db, "response_seconds", None, responded)
        figures["resolution"] = _rank_times(db, "resolution_seconds", None, timed)
        started = _lap(times, "team medians", started)
        names = dict(db.execute("SELECT id, username FROM users").fetchall())
        figures["agents"] = _service_agents(db, rows, names)
        _lap(times, "per agent", started)
    return figures


def _lap(times: dict[str, float] | None, name: str, started: float) -> float:
    now = time.perf_counter()
    if times is not None:
        times[name] = (now - started) * 1000
    return now


def _service_counts(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
    """The report's counts, shares and means from the GROUP BY rows."""
    volume: dict[str, dict[str, int]] = {field: {} for field in ("type", "priority", "channel", "status")}
    for _, *keys, count, _ in rows["volume"]:
        for field, value in zip(volume, keys, strict=True):
            volume[field][value] = volume[field].get(value, 0) + count
    resolved, met, rated, scores = (sum(row[i] or 0 for row in rows["resolved"]) for i in (1, 3, 4, 5))
    backlog = dict.fromkeys(AGE_LABELS, 0)
    for _, label, count in rows["backlog"]:
        backlog[label] += count
    return {
        "created": sum(row[-2] for row in rows["volume"]),
        **{f"by_{field}": dict(sorted(counts.items())) for field, counts in volume.items()},
        "resolved": resolved,
        "sla_compliance": _percent(met, resolved),
        "backlog": backlog,
        "satisfaction": round(scores / rated, 2) if rated else None,
        "rated": rated,
    }


def _service_agents(
    db: sqlite3.Connection, rows: dict[str, list[tuple[Any, ...]]], names: dict[int, str]
) -> list[dict[str, Any]]:
    """Per agent: waiting, resolved, resolution times, SLA compliance and satisfaction."""
    resolved = {row[0]: row[1:] for row in rows["resolved"]}
    waiting: dict[int, int] = {}
    for agent, _, count in rows["backlog"]:
        waiting[agent] = waiting.get(agent, 0) + count
    agents = ({row[0] for row in rows["volume"]} | set(resolved) | set(waiting)) - {None}
    figures = []
    for agent in sorted(agents, key=lambda agent: (names.get(agent, ""), agent)):
        done, timed, met, rated, scores = resolved.get(agent, (0, 0, 0, 0, 0))
        figures.append({
            "agent": names.get(agent, f"#{agent}"),
            "waiting": waiting.get(agent, 0),
            "resolved": done,
            "resolution": _rank_times(db, "resolution_seconds", agent, timed),
            "sla_compliance": _percent(met or 0, done),
            "satisfaction": round(scores / rated, 2) if rated else None,
        })  # fmt: skip
    return figures


def service_differences(report: dict[str, Any], figures: dict[str, Any]) -> list[str]:
    """The figures where crm's service report and the baseline's disagree (exactly)."""
    return [name for name, figure in figures.items() if report[name] != figure]


def read_time_figures(
    database: Path, times: dict[str, float] | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of every READ_TIME_SQL query, connecting included; ``times`` gets their ms."""
    now = _now()
    rows = {}
    with closing(sqlite3.connect(database)) as db:
        for name, sql in READ_TIME_SQL.items():
            started = time.perf_counter()
            rows[name] = db.execute(sql, {"now": now}).fetchall()
            if times is not None:
                times[name] = (time.perf_counter() - started) * 1000
    return rows


def _times(ranked: list[tuple[Any, ...]]) -> dict[str, Any]:
    if not ranked:
        return {"count": 0, "median_minutes": None, "p90_minutes": None}
    count = ranked[0][1]
    at = {rank: minutes for rank, _, minutes in ranked}
    median = (at[(count + 1) // 2] + at[count // 2 + 1]) / 2
    return {
        "count": count,
        "median_minutes": round(median, 1),
        "p90_minutes": round(at[(9 * count + 9) // 10], 1),
    }


def read_time_differences(report: dict[str, Any], rows: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """The figures where crm's service report and those measured from the tickets' times
    disagree (times within 0.2 min: spans are kept in whole seconds, and julianday keeps
    milliseconds); the per-agent medians are not measured."""
    volume: dict[str, dict[str, int]] = {field: {} for field in ("type", "priority", "channel", "status")}
    for *keys, count in rows["volume"]:
        for field, value in zip(volume, keys, strict=True):
            volume[field][value] = volume[field].get(value, 0) + count
    resolved, complied, rated, mean = rows["resolved"][0]
    expected: dict[str, Any] = {
        "created": sum(row[-1] for row in rows["volume"]),
        **{f"by_{field}": dict(sorted(counts.items())) for field, counts in volume.items()},
        "resolved": resolved,
        "sla_compliance": _percent(complied or 0, resolved),
        "rated": rated,
        "satisfaction": round(mean, 2) if mean is not None else None,
    }
    differences = [name for name, figure in expected.items() if report[name] != figure]
    backlog = dict(rows["backlog"])
    if any(backlog.get(label, 0) != count for label, count in report["backlog"].items()):
        differences.append("backlog")
    for name in ("first_response", "resolution"):
        figures, shown = _times(rows[name]), report[name]
        close = all(
            (figures[k] is None) == (shown[k] is None)
            and (figures[k] is None or abs(figures[k] - shown[k]) <= 0.2)
            for k in ("median_minutes", "p90_minutes")
        )
        if figures["count"] != shown["count"] or not close:
            differences.append(name)
    agents = [
        (agent["agent"], agent["waiting"], agent["resolved"], agent["sla_compliance"], agent["satisfaction"])
        for agent in report["agents"]
    ]
    queried = [
        (name, waiting, done, _percent(ok or 0, done), round(score, 2) if score is not None else None)
        for name, waiting, done, ok, _, score in rows["agents"]
    ]
    if agents != queried:
        differences.append("agents")
    return differences


def service_report(setup: Setup, database: Path, tickets: int) -> Result:
    """Wall time of `crm report service --format json` (all time) against the same reads
    of the kept spans in plain SQL; the note adds measuring the spans from the times."""
    command = [setup.crm, "--db", str(database), "report", "service", "--format", "json"]
    done = subprocess.run(command, env=setup.env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}: {done.stderr.strip()[-800:]}")
    report = json.loads(done.stdout)
    if not isinstance(report, dict) or "backlog" not in report or not report["created"]:
        raise RuntimeError(f"{' '.join(command)} printed no service report")
    differences = service_differences(report, service_figures(database))
    from_times = read_time_differences(report, read_time_figures(database))
    value, _ = paired_medians(command, setup.python_pass, setup.report_runs, setup.env)
    raw = median_ms(lambda: service_figures(database), runs=max(5, setup.report_runs))
    read_time = median_ms(lambda: read_time_figures(database), runs=3)
    times: dict[str, float] = {}
    service_figures(database, times)
    agreement = (
        "crm's figures agree with the queries'"
        if not differences
        else f"crm's figures DIFFER from the queries' in {', '.join(differences)}"
    )
    checked = (
        "and with those measured from the tickets' times"
        if not from_times
        else f"but DIFFER from those measured from the tickets' times in {', '.join(from_times)}"
    )
    breakdown = ", ".join(f"{name} {ms:,.0f}" for name, ms in times.items())
    return Result(
        f"report service wall time, {tickets:,} tickets",
        value,
        "ms",
        raw,
        "sqlite3 over kept spans",
        budget=TICKET_BUDGET_MS,
        note=(
            f"`crm report service --format json`, all time, median of {setup.report_runs} runs; baseline "
            "(bench/benchmarks.py SERVICE_SQL and RANKED, sqlite3 in-process): GROUP BYs over the spans "
            "tickets keep for volume, outcomes per agent and backlog, then each median and p90 (team and "
            f"per agent) read at its rank; {agreement}, {checked}; the baseline's ms, one run: "
            f"{breakdown}; measuring the spans from the times instead (READ_TIME_SQL, window functions, "
            f"no per-agent medians): {read_time:,.0f} ms"
        ),
    )


# Runs a command and prints its exit code, seconds and peak RSS in KB. A process started
# by a large one is charged that one's memory as well (Linux's ru_maxrss), so commands
# are started from this small one instead of from the benchmark process.
PEAK_RSS_PROBE = """
import os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
print(os.waitstatus_to_exitcode(status), time.perf_counter() - started, usage.ru_maxrss)
"""


def peak_rss(setup: Setup, command: list[str]) -> tuple[float, float]:
    """Seconds ``command`` ran and its peak RSS in MB; its output goes to /dev/null, and
    a failing command is an error."""
    done = subprocess.run(
        [setup.python, "-c", PEAK_RSS_PROBE, *command],
        env=setup.env,
        capture_output=True,
        text=True,
        check=True,
    )
    code, seconds, kilobytes = done.stdout.split()
    if code != "0":
        raise RuntimeError(f"{' '.join(command)} exited with {code}: {done.stderr.strip()[-800:]}")
    return float(seconds), int(kilobytes) / 1024


def customer_export(setup: Setup, database: Path, customers: int, small_database: Path, small: int) -> Result:
    """Peak RSS of `crm export customers --format csv` (to /dev/null) on the database,
    against the same export of a small database: what the command holds whatever the
    size, so that a streaming export stays close to it."""

    def export(source: Path) -> tuple[float, float]:
        return peak_rss(setup, [setup.crm, "--db", str(source), "export", "customers", "--format", "csv"])

    export(small_database)  # untimed: compiles bytecode, warms the page cache
    seconds, rss = export(database)
    _, fixed = export(small_database)
    return peak_memory(
        f"customer export peak RSS, {customers:,} customers",
        rss,
        fixed,
        f"{small:,} customers",
        f"`crm export customers --format csv` to /dev/null: {seconds:.1f} s, {customers / seconds:,.0f} "
        f"rows/s; baseline: the same export of a {small:,}-customer database; the budget is for a "
        "1M-row file",
    )
