"""Full-text search time on a generated database, against the raw FTS5 query.

    python -m bench.search_bench DB [--queries 200] [--seed 1]

DB is a SQLite file, or a PostgreSQL URL (`python -m bench --database-url`): there the
baseline is the bare ``tsquery`` of the word as a prefix against the index's GIN.

DB must be at crm's current schema (copy a generated database and run `crm db upgrade`
on the copy). Queries are words drawn from real customer and contact names, half of
them whole, half cut to their first 3 to 5 letters, as someone typing would send them.
The figure is crm's logic function in-process (``crm_tui.logic.customers.search.search``, a page
of 20); the baseline is the bare FTS5 query for the same word as a prefix, first 20
matches, with Python's sqlite3 on its own connection. Prints median and 95th percentile
of each, their ratio, and the budget from ARCHITECTURE.md (20 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.engines import Plain
from bench.report import Result, hand_over, percentile

BUDGET_MS = 20.0
RAW_SQL = "SELECT rowid FROM search_index WHERE search_index MATCH ? LIMIT 20"
RANKED_SQL = "SELECT rowid FROM search_index WHERE search_index MATCH ? ORDER BY rank LIMIT 20"
PG_RAW_SQL = "SELECT doc_id FROM search_index WHERE document @@ to_tsquery('simple', %s) LIMIT 20"
PG_RANKED_SQL = (
    "SELECT doc_id FROM search_index, to_tsquery('simple', %s) AS q WHERE document @@ q"
    " ORDER BY ts_rank(document, q) DESC LIMIT 20"
)


@dataclass(frozen=True)
class SearchFigures:
    """Milliseconds per query of crm's search and of the bare FTS5 query."""

    customers: int
    queries: int
    crm_median: float
    crm_p95: float
    raw_median: float
    raw_p95: float
    ranked_median: float  # the bare query ordered by bm25, on the first 50 words
    slowest: list[tuple[str, float]]  # crm's five slowest queries
    engine: str = "SQLite"


def sample_queries(database: str, count: int, seed: int) -> list[str]:
    """Words from names in the data, whole or as 3-5 letter prefixes, lower-cased."""
    rng = random.Random(seed)
    conn = Plain(database)
    try:
        top = conn.execute("SELECT max(id) FROM customers").fetchone()[0]
        words: list[str] = []
        while len(words) < count:
            table = rng.choice(("customers", "contacts"))
            row = conn.execute(
                f"SELECT name FROM {table} WHERE id >= ? LIMIT 1", (rng.randint(1, top),)
            ).fetchone()
            if row:
                words += [w for w in re.findall(r"[^\W\d_]{3,}", row[0])]
    finally:
        conn.close()
    chosen = rng.sample(words, count)
    return [w.lower() if i % 2 == 0 else w.lower()[: rng.randint(3, 5)] for i, w in enumerate(chosen)]


def time_ms(function: Callable[[str], object], queries: list[str]) -> list[float]:
    times = []
    for query in queries:
        start = time.perf_counter()
        function(query)
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(database: str, queries: int = 200, seed: int = 1) -> SearchFigures:
    """Each sampled query through crm's search and as the bare FTS5 query, taking turns
    query by query after 20 untimed ones (page cache and statement caches warm)."""
    from crm_tui.config import load_settings
    from crm_tui.logic.core.context import open_crm
    from crm_tui.logic.customers import search

    words = sample_queries(database, queries, seed)
    crm = open_crm(load_settings(db=database))
    raw = Plain(database)
    customers = raw.execute("SELECT count(*) FROM customers").fetchone()[0]
    plain, ranked_sql = (PG_RAW_SQL, PG_RANKED_SQL) if raw.postgres else (RAW_SQL, RANKED_SQL)

    def logic(query: str) -> None:
        search.search(crm, query, limit=20)

    def bare(query: str, sql: str = plain) -> None:
        raw.execute(sql, (raw.prefix(query),)).fetchall()

    time_ms(logic, words[:20])
    time_ms(bare, words[:20])
    crm_ms, raw_ms = [], []
    for word in words:
        crm_ms += time_ms(logic, [word])
        raw_ms += time_ms(bare, [word])
    ranked = time_ms(lambda query: bare(query, ranked_sql), words[:50])
    crm.close()
    raw.close()
    return SearchFigures(
        customers=customers,
        queries=len(words),
        crm_median=statistics.median(crm_ms),
        crm_p95=percentile(crm_ms, 95),
        raw_median=statistics.median(raw_ms),
        raw_p95=percentile(raw_ms, 95),
        ranked_median=statistics.median(ranked),
        slowest=[(word, ms) for ms, word in sorted(zip(crm_ms, words, strict=True), reverse=True)[:5]],
        engine="PostgreSQL" if raw.postgres else "SQLite",
    )


def results(figures: SearchFigures) -> list[Result]:
    """The median and 95th percentile rows, each beside the bare query's."""
    postgres = figures.engine == "PostgreSQL"
    size = f"{figures.customers:,} customers" + (", PostgreSQL" if postgres else "")
    slowest = ", ".join(f"{word!r} {ms:.1f} ms" for word, ms in figures.slowest)
    baseline = "tsquery prefix query" if postgres else "FTS5 prefix query"
    bare = (
        "the bare tsquery of the word as a prefix against the GIN index, first 20 documents, psycopg "
        "in-process; the same ordered by ts_rank"
        if postgres
        else "the bare FTS5 MATCH of the word as a prefix, first 20 rowids, sqlite3 in-process; the same "
        "ordered by bm25"
    )
    return [
        Result(
            f"search median, {size}",
            figures.crm_median,
            "ms",
            figures.raw_median,
            baseline,
            budget=BUDGET_MS,
            note=(
                "crm_tui.logic.customers.search.search (a page of 20, in-process) "
                f"for {figures.queries} words from "
                f"customer and contact names, half whole, half cut to 3-5 letters; baseline: {bare}: "
                f"{figures.ranked_median:.1f} ms; the budget is for 1M customers"
            ),
        ),
        Result(
            f"search 95th percentile, {size}",
            figures.crm_p95,
            "ms",
            figures.raw_p95,
            baseline,
            budget=BUDGET_MS,
            note=f"slowest: {slowest}",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search_bench", description=__doc__.splitlines()[0])
    parser.add_argument("db", help="a SQLite file, or a PostgreSQL URL")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--figures", type=Path, help="write the figures as JSON here instead of a table")
    args = parser.parse_args(argv)
    os.environ.setdefault("CRM_USER", "admin")
    figures = measure(str(args.db), args.queries, args.seed)
    hand_over(figures, results(figures), args.figures)


if __name__ == "__main__":
    main()
