"""The sales figures agree with a second, independent computation over generated deals.

The deals, their stage histories and the orders are generated here with known values
and written straight into the tables; each figure is then computed again in plain
Python from the generated rows, by the definitions in ``logic/sales_report.py``.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from crm_tui.logic.core import users
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.reports import sales as sales_report
from crm_tui.logic.sales import pipelines
from crm_tui.storage import sales_facts
from crm_tui.storage.models import (
    Customer,
    Deal,
    DealStageChange,
    Order,
    OrderLine,
    Pipeline,
    Product,
    Stage,
    User,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
OWNERS = ["alice", "bob", "carol"]


@dataclass
class GenDeal:
    id: int
    pipeline: str
    owner: str
    currency: str
    amount: int
    created: datetime
    expected: date | None
    archived: bool
    moves: list[tuple[str, datetime]] = field(default_factory=list)  # (stage, when), in order

    @property
    def stage(self) -> str:
        return self.moves[-1][0]


@dataclass
class GenOrder:
    id: int
    owner: str
    currency: str
    status: str
    confirmed: datetime | None
    lines: list[tuple[str | None, int]]  # (sku, net)


@dataclass
class World:
    deals: list[GenDeal]
    orders: list[GenOrder]
    stages: dict[str, dict[str, tuple[int, int, str]]]  # pipeline -> stage -> (position, probability, kind)


def _generate(rng: random.Random, stages: dict[str, dict[str, tuple[int, int, str]]]) -> World:
    deals = []
    for deal_id in range(1, 3001):
        pipeline = "Sales" if rng.random() < 0.85 else "Renewals"
        table = stages[pipeline]
        open_stages = sorted((s for s, v in table.items() if v[2] == "open"), key=lambda s: table[s][0])
        won = next(s for s, v in table.items() if v[2] == "won")
        lost = next(s for s, v in table.items() if v[2] == "lost")
        created = START + timedelta(minutes=rng.randint(0, 300 * 24 * 60))
        deal = GenDeal(
            id=deal_id, pipeline=pipeline, owner=rng.choice(OWNERS), currency=rng.choice(["EUR"] * 4 + ["USD"]),
            amount=rng.randint(0, 5_000_000), created=created, archived=rng.random() < 0.05,
            expected=(created + timedelta(days=rng.randint(-10, 120))).date() if rng.random() < 0.8 else None,
        )  # fmt: skip
        when = created
        index = rng.randint(0, 1)
        deal.moves.append((open_stages[index], when))
        for _ in range(rng.randint(0, 5)):
            when += timedelta(hours=rng.randint(1, 24 * 20))
            step = rng.choice([1, 1, 1, 2, -1])
            index = min(max(index + step, 0), len(open_stages) - 1)
            if open_stages[index] != deal.stage:
                deal.moves.append((open_stages[index], when))
        outcome = rng.random()
        if outcome < 0.7:
            when += timedelta(hours=rng.randint(1, 24 * 30))
            deal.moves.append((won if outcome < 0.4 else lost, when))
        deals.append(deal)
    orders = []
    for order_id in range(1, 601):
        status = rng.choice(["draft", "confirmed", "fulfilled", "paid", "cancelled"])
        confirmed = None
        if status != "draft" and not (status == "cancelled" and rng.random() < 0.5):
            confirmed = START + timedelta(minutes=rng.randint(0, 330 * 24 * 60))
        lines = [
            (rng.choice(["A-1", "B-2", None]), rng.randint(0, 200_000)) for _ in range(rng.randint(1, 3))
        ]
        orders.append(
            GenOrder(
                order_id,
                rng.choice(OWNERS),
                rng.choice(["EUR", "EUR", "USD"]),
                status,
                confirmed,
                lines,
            )
        )
    return World(deals, orders, stages)


def _store(crm, world: World) -> None:
    with crm.database.unit_of_work() as session:
        user_ids = dict(session.execute(select(User.username, User.id)).all())
        session.execute(
            insert(Customer.__table__),
            [{"id": 1, "version": 1, "name": "Acme", "name_key": "acme", "kind": "company", "lifecycle": "customer",
              "custom": {}, "created_at": START, "updated_at": START}],
        )  # fmt: skip
        pipeline_ids = dict(session.execute(select(Pipeline.name, Pipeline.id)).all())
        stage_ids = {
            (pipeline, name): stage_id
            for pipeline, name, stage_id in session.execute(
                select(Pipeline.name, Stage.name, Stage.id).join(Stage, Stage.pipeline_id == Pipeline.id)
            )
        }
        deal_rows, change_rows = [], []
        for deal in world.deals:
            kind = world.stages[deal.pipeline][deal.stage][2]
            closed = deal.moves[-1][1] if kind != "open" else None
            deal_rows.append(
                {"id": deal.id, "version": 1, "customer_id": 1, "title": f"Deal {deal.id}",
                 "amount_minor": deal.amount, "currency": deal.currency,
                 "pipeline_id": pipeline_ids[deal.pipeline], "stage_id": stage_ids[(deal.pipeline, deal.stage)],
                 "status": kind, "owner_id": user_ids[deal.owner], "expected_close": deal.expected,
                 "closed_at": closed, "lost_reason": "gone" if kind == "lost" else None,
                 "created_at": deal.created, "updated_at": deal.moves[-1][1],
                 "archived_at": deal.moves[-1][1] if deal.archived else None}
            )  # fmt: skip
            previous = None
            for stage, when in deal.moves:
                change_rows.append(
                    {"deal_id": deal.id, "from_stage_id": previous, "to_stage_id": stage_ids[(deal.pipeline, stage)],
                     "at": when, "actor_id": user_ids[deal.owner]}
                )  # fmt: skip
                previous = stage_ids[(deal.pipeline, stage)]
        session.execute(insert(Deal.__table__), deal_rows)
        session.execute(insert(DealStageChange.__table__), change_rows)
        # Core inserts bypass the logic that keeps the conversion flags (first_entry,
        # advanced) as deals move: set them from the history, as migration 0003 does.
        # expected() below does not read them.
        sales_facts.recompute(session)
        product_ids = {}
        for n, sku in enumerate(["A-1", "B-2"], start=1):
            session.execute(
                insert(Product.__table__),
                [{"id": n, "version": 1, "sku": sku, "name": sku, "unit_price_minor": 100, "currency": "EUR",
                  "tax_rate_bp": 0, "active": True, "created_at": START, "updated_at": START}],
            )  # fmt: skip
            product_ids[sku] = n
        line_rows = []
        for order in world.orders:
            net = sum(amount for _, amount in order.lines)
            session.execute(
                insert(Order.__table__),
                [{"id": order.id, "version": 1, "customer_id": 1, "owner_id": user_ids[order.owner],
                  "status": order.status, "currency": order.currency, "net_minor": net, "tax_minor": 0,
                  "total_minor": net, "created_at": START, "updated_at": START, "confirmed_at": order.confirmed}],
            )  # fmt: skip
            for position, (sku, amount) in enumerate(order.lines, start=1):
                line_rows.append(
                    {"order_id": order.id, "position": position, "product_id": product_ids.get(sku),
                     "description": sku or "free", "quantity_milli": 1000, "unit_price_minor": amount,
                     "discount_bp": 0, "tax_rate_bp": 0, "net_minor": amount, "tax_minor": 0}
                )  # fmt: skip
        session.execute(insert(OrderLine.__table__), line_rows)


@pytest.fixture(scope="module")
def rng_seed() -> int:
    return 20261124


@pytest.fixture
def world(crm, rng_seed):
    for name in OWNERS[1:]:
        users.add_user(crm, UserCreate(username=name, role="sales"))
    pipelines.add_pipeline(crm, "Renewals")
    pipelines.change_stage(crm, "Renewals", "Qualified", probability=40)
    stages = {
        pipeline.name: {s.name: (s.position, s.probability, s.kind) for s in pipeline.stages}
        for pipeline in pipelines.list_pipelines(crm)
    }
    generated = _generate(random.Random(rng_seed), stages)
    _store(crm, generated)
    return generated


# The second computation.


def _half_up(total: int, count: int) -> int:
    return (2 * total + count) // (2 * count)


def _weighted(amount: int, probability: int) -> int:
    return (2 * amount * probability + 100) // 200


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _in(when, low, high) -> bool:
    return when is not None and (low is None or when >= low) and (high is None or when < high)


def expected(world: World, start=None, end=None, owner=None, pipeline=None) -> dict:
    low = datetime(start.year, start.month, start.day, tzinfo=UTC) if start else None
    high = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1) if end else None
    chosen = pipeline or "Sales"
    deals = [
        d for d in world.deals
        if not d.archived and (owner is None or d.owner == owner) and (pipeline is None or d.pipeline == pipeline)
    ]  # fmt: skip

    def kind(d):
        return world.stages[d.pipeline][d.stage][2]

    def closed_at(d):
        return d.moves[-1][1]

    by_stage = defaultdict(lambda: [0, 0, 0])
    for d in deals:
        if d.pipeline == chosen and kind(d) == "open":
            position, probability, _ = world.stages[chosen][d.stage]
            figure = by_stage[(position, d.stage, probability, d.currency)]
            figure[0] += 1
            figure[1] += d.amount
            figure[2] += _weighted(d.amount, probability)
    forecast = defaultdict(lambda: [0, 0, 0])
    for d in deals:
        if (
            kind(d) == "open"
            and d.expected
            and (start is None or d.expected >= start)
            and (end is None or d.expected <= end)
        ):
            figure = forecast[(d.expected.strftime("%Y-%m"), d.currency)]
            figure[0] += 1
            figure[1] += d.amount
            figure[2] += _weighted(d.amount, world.stages[d.pipeline][d.stage][1])
    closed = [d for d in deals if kind(d) != "open" and _in(closed_at(d), low, high)]
    rates = [(None, sum(kind(d) == "won" for d in closed), sum(kind(d) == "lost" for d in closed))]
    for name in sorted({d.owner for d in closed}):
        mine = [d for d in closed if d.owner == name]
        rates.append((name, sum(kind(d) == "won" for d in mine), sum(kind(d) == "lost" for d in mine)))
    won = [d for d in closed if kind(d) == "won"]
    won_by_currency = defaultdict(list)
    for d in won:
        won_by_currency[d.currency].append(d.amount)
    cycle = (
        round(sum((closed_at(d) - d.created).total_seconds() for d in won) / len(won) / 86_400, 1)
        if won
        else None
    )
    table = world.stages[chosen]
    conversion = []
    for stage in sorted((s for s, v in table.items() if v[2] == "open"), key=lambda s: table[s][0]):
        entered = advanced = 0
        for d in deals:
            if d.pipeline != chosen:
                continue
            firsts = [when for name, when in d.moves if name == stage]
            if not firsts or not _in(firsts[0], low, high):
                continue
            entered += 1
            if any(
                when > firsts[0] and table[name][0] > table[stage][0] and table[name][2] != "lost"
                for name, when in d.moves
            ):
                advanced += 1
        conversion.append((stage, entered, advanced, _pct(advanced, entered)))
    orders = [
        o for o in world.orders
        if o.status in ("confirmed", "fulfilled", "paid") and _in(o.confirmed, low, high)
        and (owner is None or o.owner == owner)
    ]  # fmt: skip
    by_month, by_owner, by_product = (
        defaultdict(lambda: [0, 0]),
        defaultdict(lambda: [0, 0]),
        defaultdict(lambda: [set(), 0]),
    )
    for o in orders:
        net = sum(amount for _, amount in o.lines)
        for table_, key in ((by_month, o.confirmed.strftime("%Y-%m")), (by_owner, o.owner)):
            table_[(key, o.currency)][0] += 1
            table_[(key, o.currency)][1] += net
        for sku, amount in o.lines:
            by_product[(sku or "(no product)", o.currency)][0].add(o.id)
            by_product[(sku or "(no product)", o.currency)][1] += amount
    return {
        "by_stage": sorted((stage, prob, cur, *fig) for (pos, stage, prob, cur), fig in by_stage.items()),
        "forecast": sorted((month, cur, *fig) for (month, cur), fig in forecast.items()),
        "rates": [(name, w, lost, _pct(w, w + lost)) for name, w, lost in rates],
        "won": sorted((cur, len(a), sum(a), _half_up(sum(a), len(a))) for cur, a in won_by_currency.items()),
        "cycle": cycle,
        "conversion": conversion,
        "by_month": sorted((k, c, n, net) for (k, c), (n, net) in by_month.items()),
        "by_owner": sorted((k, c, n, net) for (k, c), (n, net) in by_owner.items()),
        "by_product": sorted((k, c, len(ids), net) for (k, c), (ids, net) in by_product.items()),
    }


def computed(report) -> dict:
    return {
        "by_stage": sorted(
            (f.stage, f.probability, f.currency, f.deals, f.amount_minor, f.weighted_minor)
            for f in report.pipeline_by_stage
        ),
        "forecast": [
            (f.month, f.currency, f.deals, f.amount_minor, f.weighted_minor) for f in report.forecast
        ],
        "rates": [(r.owner, r.won, r.lost, r.win_rate) for r in report.win_rates],
        "won": [(w.currency, w.won, w.amount_minor, w.average_minor) for w in report.won_deals],
        "cycle": report.average_cycle_days,
        "conversion": [(c.stage, c.entered, c.advanced, c.conversion) for c in report.stage_conversion],
        "by_month": [(r.key, r.currency, r.orders, r.net_minor) for r in report.revenue_by_month],
        "by_owner": [(r.key, r.currency, r.orders, r.net_minor) for r in report.revenue_by_owner],
        "by_product": [(r.key, r.currency, r.orders, r.net_minor) for r in report.revenue_by_product],
    }


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"start": date(2026, 3, 1), "end": date(2026, 6, 30)},
        {"owner": "bob"},
        {"start": date(2026, 5, 1), "owner": "carol"},
        {"pipeline": "Renewals"},
        {"end": date(2026, 4, 15), "pipeline": "Sales", "owner": "alice"},
    ],
)
def test_every_figure_agrees_with_the_second_computation(crm, world, filters):
    report = sales_report.sales_report(crm, **filters)
    mine, theirs = computed(report), expected(world, **filters)
    for figure in theirs:
        assert mine[figure] == theirs[figure], figure
    assert (
        theirs["by_stage"] and theirs["rates"][0][1] and theirs["conversion"][0][1]
    )  # the data is not empty


def test_an_inverted_period_is_refused(crm):
    with pytest.raises(Invalid, match="ends"):
        sales_report.sales_report(crm, start=date(2026, 5, 1), end=date(2026, 4, 1))


@pytest.mark.parametrize("filters", [{}, {"owner": "bob"}, {"pipeline": "Renewals"}])
def test_the_desks_pipeline_by_stage_is_the_reports(crm, world, filters):
    report = sales_report.sales_report(crm, **filters)
    assert sales_report.pipeline_by_stage(crm, **filters) == report.pipeline_by_stage
