"""`python -m bench`: measure crm against its performance budgets and print one table.

    python -m bench [--customers N] [--deals N] [--tickets N] [--json PATH] [--quick]

Databases are generated once per size and kept under bench/data/; the rows of the
table are also written as JSON (bench/results/latest.json by default).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import benchmarks
from bench.generate import cached_database
from bench.report import Result, table, write_json

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
SMALL_CUSTOMERS = 1_000  # the database the import benchmark adds to


@dataclass(frozen=True)
class Plan:
    """How big and how often: the default run, or a quick smoke run."""

    customers: int = 100_000
    deals: int = 200_000  # in the same database as the customers
    tickets: int = 300_000  # in a database of their own with the same customers and deals
    cli_runs: int = 15
    list_runs: int = 10
    report_runs: int = 7
    import_rows: int = 5_000
    import_runs: int = 3


QUICK = Plan(
    customers=2_000,
    deals=5_000,
    tickets=20_000,
    cli_runs=5,
    list_runs=5,
    report_runs=3,
    import_rows=300,
    import_runs=1,
)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, help="customers in the list benchmark's database (100000)")
    parser.add_argument(
        "--deals", type=int, help="deals in that database, for the sales report (200000; 0: skip it)"
    )
    parser.add_argument(
        "--tickets",
        type=int,
        help="tickets, for `ticket list --breached` and the service report (300000; 0: skip)",
    )
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"default: {RESULTS}")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
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


def run(plan: Plan, scratch: Path) -> list[Result]:
    setup = benchmarks.Setup(
        crm=crm_script(),
        python=sys.executable,
        env=environment(scratch),
        scratch=scratch,
        cli_runs=plan.cli_runs,
        list_runs=plan.list_runs,
        report_runs=plan.report_runs,
    )
    step(f"database with {plan.customers:,} customers and {plan.deals:,} deals (generated on first use)")
    database = cached_database(plan.customers, deals=plan.deals)
    small = cached_database(SMALL_CUSTOMERS)
    results: list[Result] = []
    for flag in ("--help", "--version"):
        step(f"crm {flag}")
        results += [benchmarks.start_time(setup, flag), benchmarks.start_imports(setup, flag)]
    step("crm customer list")
    results += benchmarks.customer_list(setup, database, plan.customers)
    if plan.deals:
        step(f"crm report sales ({plan.report_runs} runs)")
        results += benchmarks.sales_report(setup, database, plan.deals)
    if plan.tickets:
        step(f"database with {plan.tickets:,} tickets as well (generated on first use each day)")
        with_tickets = cached_database(plan.customers, deals=plan.deals, tickets=plan.tickets)
        step(f"crm ticket list --breached ({plan.report_runs} runs)")
        results.append(benchmarks.breached_list(setup, with_tickets, plan.tickets))
        step(f"crm report service ({plan.report_runs} runs)")
        results.append(benchmarks.service_report(setup, with_tickets, plan.tickets))
    step(f"crm customer add --from ({plan.import_rows:,} rows x {plan.import_runs})")
    results.append(benchmarks.customer_import(setup, small, plan.import_rows, plan.import_runs))
    return results


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    plan = QUICK if args.quick else Plan()
    sizes = {"customers": args.customers, "deals": args.deals, "tickets": args.tickets}
    chosen = {name: size for name, size in sizes.items() if size is not None}
    if any(size < 0 for size in chosen.values()) or chosen.get("customers", 1) < 1:
        sys.exit("bench: --customers must be at least 1, --deals and --tickets at least 0")
    plan = Plan(**(asdict(plan) | chosen))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as scratch:
        results = run(plan, Path(scratch))
    print(table(results))
    write_json(args.json, results, asdict(plan) | {"quick": args.quick})
    step(f"done in {time.perf_counter() - started:.0f} s; rows written to {args.json}")


if __name__ == "__main__":
    main()
