"""On PostgreSQL too, every list, search, board page and stage change is served by an
index: no sequential scan of a table that grows with the business, and no sort of all
the rows a filter found.

The same list functions as ``test_query_plans`` run for real; each SELECT they send is
then explained with the planner told to avoid sequential scans and sorts
(``enable_seqscan`` and ``enable_sort`` off). On the small tables of a test the planner
would rightly scan; told to avoid it, it still scans or sorts only where no index can
serve, which is what would happen at a million rows. The sorts no index serves are the
same as on SQLite (``KNOWN_SORTS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from crm_tui.config import load_settings
from crm_tui.logic.admin import demo
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.customers import search
from crm_tui.logic.sales import board, deals
from tests.conftest import TEMPLATE_USER, _postgres_database
from tests.unit.test_board_paging import lead
from tests.unit.test_query_plans import BIG_TABLES, KNOWN_SORTS, LISTS

pytestmark = pytest.mark.postgres_only
INDEXED = BIG_TABLES | {"search_index"}


@pytest.fixture(scope="module")
def crm_with_data():
    """One database holding the demo for the whole module (the plans only read it):
    loading the demo for each of its tests took most of the module's time."""
    databases = _postgres_database()
    url = next(databases)
    crm = open_crm(load_settings(db=url, user=TEMPLATE_USER))
    try:
        demo.load_demo(crm)
        yield crm
    finally:
        crm.close()
        next(databases, None)  # drops the database


def _is_select(statement: str, executemany: bool) -> bool:
    return statement.lstrip().upper().startswith("SELECT") and not executemany


def plans(crm, call, sends=_is_select) -> list[tuple[str, dict[str, Any]]]:
    """Run ``call``; each statement it sent that ``sends(statement, executemany)``
    picks (every SELECT by default), with PostgreSQL's plan for it (as JSON) when
    sequential scans and sorts are the planner's last resort."""
    sent: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if sends(statement, executemany):
            sent.append((statement, parameters))

    engine = crm.database.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        return [
            (
                statement,
                conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()[0]["Plan"],
            )
            for statement, parameters in sent
        ]


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _tables_under(node: dict[str, Any]) -> set[str]:
    return {n["Relation Name"] for n in _nodes(node) if "Relation Name" in n}


def seq_scans(sent) -> list[str]:
    """The sequential scans of big tables among the plans ``sent``."""
    return [
        f"Seq Scan on {node['Relation Name']}: {statement[:200]}"
        for statement, plan in sent
        for node in _nodes(plan)
        if node["Node Type"] == "Seq Scan" and node["Relation Name"] in INDEXED
    ]


def sorts(sent) -> list[str]:
    """The sorts, among the plans ``sent``, of rows read from big tables."""
    return [
        f"Sort of {sorted(_tables_under(node))}: {statement[:200]}"
        for statement, plan in sent
        for node in _nodes(plan)
        if node["Node Type"] == "Sort" and _tables_under(node) & INDEXED
    ]


@pytest.mark.parametrize("name", list(LISTS))
def test_no_sequential_scan(crm_with_data, name):
    assert seq_scans(plans(crm_with_data, lambda: LISTS[name](crm_with_data))) == []


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_SORTS[n], strict=True))
        if n in KNOWN_SORTS
        else n
        for n in LISTS
    ],
)
def test_no_sort_of_the_rows_found(crm_with_data, name):
    assert sorts(plans(crm_with_data, lambda: LISTS[name](crm_with_data))) == []


@pytest.mark.parametrize("text", ["acme", "ac", "anna schmidt", "+49 30 1234", "soren", "quote"])
def test_search_reads_the_index(crm_with_data, text):
    assert seq_scans(plans(crm_with_data, lambda: search.search(crm_with_data, text))) == []


@pytest.mark.parametrize("owner", [None, "sara"])
def test_a_board_page_enters_an_index_at_the_card_and_sorts_nothing(crm_with_data, owner):
    first = lead(board.board(crm_with_data, cards=2)).cards
    sent = plans(
        crm_with_data,
        lambda: board.stage_cards(crm_with_data, "Lead", owner=owner, after=first[-1], cards=10),
    )
    assert seq_scans(sent) == [] and sorts(sent) == []


def test_a_stage_change_marks_advanced_entries_through_the_deals_own_index(demo_crm):
    """As on SQLite (test_stage_change_plan.py): the UPDATE of a move reads the moved
    deal's entries by its own index, never every deal's first entries."""
    lead_deal = deals.list_deals(demo_crm, stage="Lead").deals[0]
    sent = plans(
        demo_crm,
        lambda: deals.move_deal(demo_crm, lead_deal.ref, "Proposal"),
        lambda statement, _: statement.lstrip().upper().startswith("UPDATE DEAL_STAGE_CHANGES"),
    )
    assert len(sent) == 1  # mark_advanced's
    (statement, plan) = sent[0]
    # The stages it reads too are a small table of their own.
    indexes = {node.get("Index Name") for node in _nodes(plan)} - {None, "ix_stages_pipeline_position"}
    assert indexes == {"ix_stage_changes_deal"}, (statement, plan)
    assert seq_scans(sent) == []
