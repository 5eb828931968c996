"""The benchmark database: as many open deals as asked for, and one customer with a long
timeline, with every other row as without them."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from bench.generate import LONG_TIMELINE_ENTRIES, LONG_TIMELINE_NAME, generate


def rows(path, sql):
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Two databases of the same customers: 40 deals, 25 of them open; and no deals."""
    folder = tmp_path_factory.mktemp("bench")
    with_deals = generate(folder / "deals.sqlite3", 30, deals=40, open_deals=25)
    without = generate(folder / "plain.sqlite3", 30)
    return with_deals, without


def test_exactly_the_open_deals_asked_for_are_open_and_the_rest_closed(made):
    with_deals, _ = made
    counts = dict(rows(with_deals, "SELECT status, count(*) FROM deals GROUP BY status"))
    assert counts["open"] == 25
    assert counts.get("won", 0) + counts.get("lost", 0) == 15
    kinds = rows(
        with_deals, "SELECT DISTINCT d.status = s.kind FROM deals d JOIN stages s ON s.id = d.stage_id"
    )
    assert kinds == [(1,)]  # a deal's status is its stage's kind


def test_the_oldest_customer_has_the_long_timeline_in_time_order(made):
    with_deals, _ = made
    assert rows(
        with_deals, "SELECT id, name, kind, archived_at FROM customers WHERE name = 'Timeline Benchmark GmbH'"
    ) == [(1, LONG_TIMELINE_NAME, "company", None)]
    entries = rows(with_deals, "SELECT id, occurred_at FROM activities WHERE customer_id = 1 ORDER BY id")
    assert len(entries) == LONG_TIMELINE_ENTRIES
    assert [moment for _, moment in entries] == sorted(moment for _, moment in entries)


def test_every_other_customer_and_entry_is_as_without_deals(made):
    with_deals, without = made
    for sql in (
        "SELECT * FROM customers WHERE id > 1",
        "SELECT * FROM contacts",
        "SELECT customer_id, kind, subject, body, occurred_at FROM activities WHERE customer_id > 1",
    ):
        assert rows(with_deals, sql) == rows(without, sql)


@pytest.mark.parametrize("open_deals", [-1, 41])
def test_open_deals_outside_zero_to_the_deals_are_refused(tmp_path, open_deals):
    with pytest.raises(ValueError, match="open deals must be between 0 and the number of deals"):
        generate(tmp_path / "refused.sqlite3", 5, deals=40, open_deals=open_deals)
    assert not (tmp_path / "refused.sqlite3").exists()
