"""Full-text search time on a generated database, against the raw FTS5 query.

Usage: python -m bench.search_bench DB [--queries 200] [--seed 1]

DB must be at crm's current schema (copy a generated database and run `crm db upgrade`
on the copy). Queries are words drawn from real customer and contact names, half of
them whole, half cut to their first 3 to 5 letters, as someone typing would send them.
The figure is crm's logic function in-process (``crm_tui.logic.search.search``, a page
of 20); the baseline is the bare FTS5 query for the same word as a prefix, first 20
matches, with Python's sqlite3 on its own connection. Prints median and 95th percentile
of each, their ratio, and the budget from ARCHITECTURE.md (20 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import statistics
import sys
import time

BUDGET_MS = 20.0


def sample_queries(path: str, count: int, seed: int) -> list[str]:
    """Words from names in the data, whole or as 3-5 letter prefixes, lower-cased."""
    rng = random.Random(seed)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        top = conn.execute("SELECT max(id) FROM customers").fetchone()[0]
        words: list[str] = []
        while len(words) < count:
            table = rng.choice(("customers", "contacts"))
            row = conn.execute(
                f"SELECT name FROM {table} WHERE id >= ? LIMIT 1", (rng.randint(1, top),)
            ).fetchone()
            if row:
                words += [w for w in re.findall(r"[^\W\d_]{3,}", row[0])]
    chosen = rng.sample(words, count)
    return [w.lower() if i % 2 == 0 else w.lower()[: rng.randint(3, 5)] for i, w in enumerate(chosen)]


def time_ms(function, queries: list[str]) -> list[float]:
    times = []
    for query in queries:
        start = time.perf_counter()
        function(query)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_bench", description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    os.environ.setdefault("CRM_USER", "admin")
    from crm_tui.config import load_settings
    from crm_tui.logic import search
    from crm_tui.logic.context import open_crm

    queries = sample_queries(args.db, args.queries, args.seed)
    crm = open_crm(load_settings(db=args.db))
    raw = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)

    def logic(query: str) -> None:
        search.search(crm, query, limit=20)

    def baseline(query: str) -> None:
        raw.execute(
            "SELECT rowid FROM search_index WHERE search_index MATCH ? LIMIT 20", (f'"{query}"*',)
        ).fetchall()

    def ranked(query: str) -> None:
        raw.execute(
            "SELECT rowid FROM search_index WHERE search_index MATCH ? ORDER BY rank LIMIT 20",
            (f'"{query}"*',),
        ).fetchall()

    for function in (logic, baseline):  # warm the page cache and the statement caches
        time_ms(function, queries[:20])
    results = {name: time_ms(function, queries) for name, function in (("crm", logic), ("raw", baseline))}
    bm25 = time_ms(ranked, queries[:50])
    crm.close()

    def p95(values: list[float]) -> float:
        return sorted(values)[int(len(values) * 0.95) - 1]

    figure, base = statistics.median(results["crm"]), statistics.median(results["raw"])
    print(f"full-text search, {len(queries)} queries (whole words and 3-5 letter prefixes) on {args.db}")
    print(f"{'metric':<44}{'figure':>10}{'baseline':>10}{'ratio':>8}{'budget':>9}  within")
    print(
        f"{'search() median, ms':<44}{figure:>10.2f}{base:>10.2f}{figure / base:>8.1f}{BUDGET_MS:>9.0f}"
        f"  {'yes' if figure < BUDGET_MS else 'no'}"
    )
    crm95, raw95 = p95(results["crm"]), p95(results["raw"])
    print(
        f"{'search() 95th percentile, ms':<44}{crm95:>10.2f}{raw95:>10.2f}{crm95 / raw95:>8.1f}"
        f"{BUDGET_MS:>9.0f}  {'yes' if crm95 < BUDGET_MS else 'no'}"
    )
    print(f"{'(info) raw FTS5 ORDER BY rank (bm25), median ms':<44}{statistics.median(bm25):>10.2f}")
    slowest = sorted(zip(results["crm"], queries, strict=True), reverse=True)[:5]
    print("slowest:", ", ".join(f"{q!r} {t:.1f} ms" for t, q in slowest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
