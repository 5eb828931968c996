"""`python -m bench`: measure crm against its performance budgets and print one table.

    python -m bench [--customers N] [--deals N] [--open-deals N] [--tickets N] [--json PATH] [--quick]
                    [--skip PART] [--database-url postgresql://USER@HOST/DB]

Databases are generated once per size and kept under bench/data/; the rows of the
table are also written as JSON (bench/results/latest.json by default). Search, the TUI,
CSV import and backup are measured by their own scripts (bench/search_bench.py, ...),
each run here in a process of its own, which hands its figures back as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType

from bench import (
    backup_bench,
    benchmarks,
    import_bench,
    records_import_bench,
    search_bench,
    server,
    tui_bench,
)
from bench.generate import cached_database
from bench.report import Result, table, write_json

ROOT = Path(__file__).resolve().parent.parent  # where `python -m bench.NAME` finds the scripts
RESULTS = ROOT / "bench" / "results" / "latest.json"
SMALL_CUSTOMERS = 1_000  # the database the import benchmark adds to, and the export's baseline
# The parts of a run, in the order they run; --skip leaves any of them out.
PARTS = (
    "start-up", "list", "search", "tui", "sales", "tickets", "add", "csv", "records", "export", "backup",
)  # fmt: skip
# The parts that also run on PostgreSQL with --database-url, after all of SQLite's.
SERVER_PARTS = ("list", "search", "tui", "sales", "tickets", "csv", "records")
Measure = Callable[[], list[Result]]


@dataclass(frozen=True)
class Plan:
    """How big and how often: the default run, or a quick smoke run."""

    customers: int = 100_000
    deals: int = 200_000  # in the same database as the customers
    open_deals: int | None = None  # how many of them are open; None: about 40 %, by age
    tickets: int = 300_000  # in a database of their own with the same customers and deals
    cli_runs: int = 15
    list_runs: int = 10
    report_runs: int = 7
    import_rows: int = 5_000
    import_runs: int = 3
    search_queries: int = 200
    tui_launches: int = 5
    tui_words: int = len(tui_bench.WORDS)
    tui_pages: int = 10
    tui_moves: int = 6
    tui_opens: int = 10
    csv_rows: int = 100_000
    record_rows: int = 100_000  # deals, and tickets, imported from CSV


QUICK = Plan(
    customers=2_000,
    deals=5_000,
    tickets=20_000,
    cli_runs=5,
    list_runs=5,
    report_runs=3,
    import_rows=300,
    import_runs=1,
    search_queries=50,
    tui_launches=2,
    tui_words=2,
    tui_pages=3,
    tui_moves=3,
    tui_opens=3,
    csv_rows=2_000,
    record_rows=2_000,
)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, help="customers in the list benchmark's database (100000)")
    parser.add_argument(
        "--deals", type=int, help="deals in that database, for the sales report (200000; 0: skip it)"
    )
    parser.add_argument(
        "--open-deals",
        type=int,
        help="how many of the deals are open, for the board (default: about 40%%, young deals mostly)",
    )
    parser.add_argument(
        "--tickets",
        type=int,
        help="tickets, for `ticket list --breached` and the service report (300000; 0: skip)",
    )
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"default: {RESULTS}")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgresql://USER@HOST/DB, a role that may create databases): "
        f"{', '.join(SERVER_PARTS)} run there too, on the same data copied with `crm db copy`",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=PARTS,
        metavar="PART",
        help=f"leave out a part of the run; repeat for more ({', '.join(PARTS)})",
    )
    return parser.parse_args(argv)


def crm_script() -> str:
    """The crm console script next to this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "crm"
    found = str(beside) if beside.exists() else shutil.which("crm")
    if not found:
        sys.exit("bench: no crm command found; install the project (pip install -e .)")
    return found


def environment(scratch: Path) -> dict[str, str]:
    """This environment without CRM_* settings, acting as admin, with no config file,
    so that nothing on this machine changes what crm does."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CRM_")}
    env["CRM_USER"] = "admin"
    env["CRM_CONFIG"] = str(scratch / "no-config.toml")
    return env


def step(message: str) -> None:
    """Progress on stderr, so that stdout holds only the table."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def apart(
    setup: benchmarks.Setup, script: ModuleType, figures: type, *arguments: object, **options: object
) -> list[Result]:
    """Run a benchmark script (``python -m bench.NAME ARGUMENTS --OPTION VALUE ...``) in a
    process of its own, with the run's environment, and turn the ``figures`` it hands back
    into its rows."""
    handed = setup.scratch / f"{script.__name__}.json"
    command = [setup.python, "-m", script.__name__, *map(str, arguments)]
    for option, value in options.items():
        command += [f"--{option.replace('_', '-')}", str(value)]
    subprocess.run([*command, "--figures", str(handed)], env=setup.env, cwd=ROOT, check=True)
    return script.results(figures(**json.loads(handed.read_text(encoding="utf-8"))))


def start_up(setup: benchmarks.Setup) -> list[Result]:
    """`crm --help`, `crm --version` and shell completion: wall time and big imports."""
    results: list[Result] = []
    for flag in ("--help", "--version"):
        results += [benchmarks.start_time(setup, flag), benchmarks.start_imports(setup, flag)]
    return results + benchmarks.completion(setup)


@dataclass(frozen=True)
class Databases:
    customers: Path  # the plan's customers and deals
    small: Path  # SMALL_CUSTOMERS customers
    tickets: Path | None  # the same customers and deals with the plan's tickets


def ticket_rows(setup: benchmarks.Setup, database: Path | None, tickets: int) -> list[Result]:
    """The breached list and the service report; a run without tickets skips them."""
    if database is None:
        raise RuntimeError("the ticket benchmarks need the database with tickets")
    return [
        benchmarks.breached_list(setup, database, tickets),
        benchmarks.service_report(setup, database, tickets),
    ]


def parts(plan: Plan, setup: benchmarks.Setup, db: Databases) -> dict[str, tuple[str, Measure]]:
    """Each part of the run by name: what it says on stderr as it starts, and what it runs."""
    fullest = db.tickets or db.customers  # search and the desk cover tickets too
    size = db.customers.stat().st_size / backup_bench.MB
    return {
        "start-up": ("crm --help, --version, completion", lambda: start_up(setup)),
        "list": ("crm customer list", lambda: benchmarks.customer_list(setup, db.customers, plan.customers)),
        "search": (
            f"full-text search, {plan.search_queries} queries",
            lambda: apart(
                setup, search_bench, search_bench.SearchFigures, fullest, queries=plan.search_queries
            ),
        ),
        "tui": (
            f"TUI: first paint ({plan.tui_launches} launches), keystrokes, page turns, customer opens, "
            "board, stage changes",
            lambda: apart(
                setup,
                tui_bench,
                tui_bench.TuiFigures,
                fullest,
                runs=plan.tui_launches,
                words=plan.tui_words,
                pages=plan.tui_pages,
                moves=plan.tui_moves,
                opens=plan.tui_opens,
                scratch=setup.scratch,
            ),
        ),
        "sales": (
            f"crm report sales ({plan.report_runs} runs)",
            lambda: benchmarks.sales_report(setup, db.customers, plan.deals),
        ),
        "tickets": (
            f"crm ticket list --breached and crm report service ({plan.report_runs} runs each)",
            lambda: ticket_rows(setup, db.tickets, plan.tickets),
        ),
        "add": (
            f"crm customer add --from ({plan.import_rows:,} rows x {plan.import_runs})",
            lambda: [benchmarks.customer_import(setup, db.small, plan.import_rows, plan.import_runs)],
        ),
        "csv": (
            f"CSV import of {plan.csv_rows:,} contacts",
            lambda: apart(
                setup, import_bench, import_bench.ImportFigures, rows=plan.csv_rows, scratch=setup.scratch
            ),
        ),
        "records": (
            f"CSV import of {plan.record_rows:,} deals and of {plan.record_rows:,} tickets",
            lambda: [
                *apart(
                    setup,
                    records_import_bench,
                    records_import_bench.RecordImportFigures,
                    kind="deals",
                    rows=plan.record_rows,
                    scratch=setup.scratch,
                ),
                *apart(
                    setup,
                    records_import_bench,
                    records_import_bench.RecordImportFigures,
                    kind="tickets",
                    rows=plan.record_rows,
                    scratch=setup.scratch,
                ),
            ],
        ),
        "export": (
            "crm export customers",
            lambda: [
                benchmarks.customer_export(setup, db.customers, plan.customers, db.small, SMALL_CUSTOMERS)
            ],
        ),
        "backup": (
            f"backup of {db.customers.name}, {size:,.0f} MB, while another process writes to it",
            lambda: apart(
                setup, backup_bench, backup_bench.BackupFigures, db=db.customers, scratch=setup.scratch
            ),
        ),
    }


def server_parts(
    plan: Plan, setup: benchmarks.Setup, db: Databases, server_url: str
) -> dict[str, tuple[str, Measure]]:
    """The parts that run on PostgreSQL too, on copies of the same databases there."""
    copies: dict[Path, str] = {}
    made: list[Result] = []

    def on_server(database: Path) -> str:
        if database not in copies:
            step(f"{database.name} on PostgreSQL (copied with `crm db copy` on first use)")
            copies[database], rows = server.server_copy(setup, server_url, database)
            made.extend(rows)
        return copies[database]

    def copied_then(measure: Measure) -> Measure:
        def run() -> list[Result]:
            measured = measure()
            done = made[:]
            made.clear()
            return done + measured

        return run

    fullest = db.tickets or db.customers

    def ticket_rows() -> list[Result]:
        if db.tickets is None:
            raise RuntimeError("the ticket benchmarks need the database with tickets")
        return server.ticket_rows(setup, on_server(db.tickets), db.tickets, plan.tickets)

    return {
        name: (f"{message} on PostgreSQL", copied_then(measure))
        for name, (message, measure) in {
            "list": (
                "crm customer list",
                lambda: server.customer_list(setup, on_server(db.customers), db.customers, plan.customers),
            ),
            "search": (
                f"full-text search, {plan.search_queries} queries",
                lambda: apart(
                    setup, search_bench, search_bench.SearchFigures, on_server(fullest),
                    queries=plan.search_queries,
                ),
            ),
            "tui": (
                "TUI",
                lambda: apart(
                    setup, tui_bench, tui_bench.TuiFigures, on_server(fullest), runs=plan.tui_launches,
                    words=plan.tui_words, pages=plan.tui_pages, moves=plan.tui_moves, opens=plan.tui_opens,
                    scratch=setup.scratch,
                ),
            ),
            "sales": (
                f"crm report sales ({plan.report_runs} runs)",
                lambda: server.sales_report(setup, on_server(db.customers), db.customers, plan.deals),
            ),
            "tickets": (
                "crm ticket list --breached and crm report service",
                ticket_rows,
            ),
            "csv": (
                f"CSV import of {plan.csv_rows:,} contacts",
                lambda: apart(
                    setup, import_bench, import_bench.ImportFigures, rows=plan.csv_rows,
                    scratch=setup.scratch, database_url=server_url,
                ),
            ),
            "records": (
                f"CSV import of {plan.record_rows:,} deals and of {plan.record_rows:,} tickets",
                lambda: [
                    row
                    for kind in ("deals", "tickets")
                    for row in apart(
                        setup, records_import_bench, records_import_bench.RecordImportFigures, kind=kind,
                        rows=plan.record_rows, scratch=setup.scratch, database_url=server_url,
                    )
                ],
            ),
        }.items()
    }  # fmt: skip


def run(plan: Plan, scratch: Path, skip: set[str], server_url: str | None = None) -> list[Result]:
    setup = benchmarks.Setup(
        crm=crm_script(),
        python=sys.executable,
        env=environment(scratch),
        scratch=scratch,
        cli_runs=plan.cli_runs,
        list_runs=plan.list_runs,
        report_runs=plan.report_runs,
    )
    opened = "" if plan.open_deals is None else f" ({plan.open_deals:,} open)"
    step(f"database with {plan.customers:,} customers, {plan.deals:,} deals{opened} (made on first use)")
    customers = cached_database(plan.customers, deals=plan.deals, open_deals=plan.open_deals)
    tickets = None
    if plan.tickets and not {"search", "tui", "tickets"} <= skip:
        step(f"database with {plan.tickets:,} tickets as well (generated on first use each day)")
        tickets = cached_database(
            plan.customers, deals=plan.deals, open_deals=plan.open_deals, tickets=plan.tickets
        )
    skip = skip | ({"sales"} if not plan.deals else set()) | ({"tickets"} if tickets is None else set())
    results: list[Result] = []
    databases = Databases(customers, cached_database(SMALL_CUSTOMERS), tickets)
    for name, (message, measure) in parts(plan, setup, databases).items():
        if name not in skip:
            step(message)
            results += measure()
    if server_url:
        for name, (message, measure) in server_parts(plan, setup, databases, server_url).items():
            if name not in skip:
                step(message)
                results += measure()
    return results


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    plan = QUICK if args.quick else Plan()
    sizes = {
        "customers": args.customers,
        "deals": args.deals,
        "open_deals": args.open_deals,
        "tickets": args.tickets,
    }
    chosen = {name: size for name, size in sizes.items() if size is not None}
    if any(size < 0 for size in chosen.values()) or chosen.get("customers", 1) < 1:
        sys.exit("bench: --customers must be at least 1, --deals, --open-deals and --tickets at least 0")
    plan = Plan(**(asdict(plan) | chosen))
    if plan.open_deals is not None and plan.open_deals > plan.deals:
        sys.exit("bench: --open-deals cannot be more than --deals")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as scratch:
        results = run(plan, Path(scratch), set(args.skip), args.database_url)
    print(table(results))
    write_json(
        args.json,
        results,
        asdict(plan)
        | {"quick": args.quick, "skipped": sorted(set(args.skip)), "postgresql": bool(args.database_url)},
    )
    step(f"done in {time.perf_counter() - started:.0f} s; rows written to {args.json}")


if __name__ == "__main__":
    main()
