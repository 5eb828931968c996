"""Sales performance figures, for the CLI's `report sales` and the TUI's reports.

Definitions (a period is whole days in UTC, both ends included; archived deals count
nowhere; every money figure is per currency, since sums across currencies mean nothing):

- pipeline by stage: open deals now, per stage of the pipeline: count, amount, and the
  probability-weighted amount (each deal's amount x stage probability, rounded half up).
- forecast: open deals expected to close in the period, per month of expected close:
  count, amount, weighted amount.
- win rate: of the deals closed in the period, won / (won + lost); overall and per owner.
- average won deal: amount of deals won in the period / their count (rounded half up).
- average sales cycle: mean days from creation to closing of deals won in the period.
- stage conversion: of the deals that first entered an open stage in the period, the
  share that afterwards entered a later stage that is not a lost one.
- order revenue: orders confirmed in the period and not cancelled (confirmed, fulfilled
  or paid), net amounts per month, per product (free-text lines as "(no product)") and
  per order owner.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, func, select

from crm_tui.logic import pipelines, users
from crm_tui.logic.context import Crm, Work
from crm_tui.logic.errors import Invalid
from crm_tui.storage.models import Deal, DealStageChange, Order, OrderLine, Product, Stage, User

NO_PRODUCT = "(no product)"


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class StageFigure(Row):
    stage: str
    position: int
    probability: int
    currency: str
    deals: int
    amount_minor: int
    weighted_minor: int


class ForecastFigure(Row):
    month: str
    currency: str
    deals: int
    amount_minor: int
    weighted_minor: int


class WinRate(Row):
    owner: str | None  # None: the whole team
    won: int
    lost: int
    win_rate: float | None  # percent, one decimal; None when nothing closed


class WonFigure(Row):
    currency: str
    won: int
    amount_minor: int
    average_minor: int


class ConversionFigure(Row):
    stage: str
    entered: int
    advanced: int
    conversion: float | None  # percent, one decimal


class RevenueFigure(Row):
    key: str  # a month (YYYY-MM), a product SKU or an owner
    currency: str
    orders: int
    net_minor: int


class SalesReport(Row):
    period_from: date | None
    period_to: date | None
    owner: str | None
    pipeline: str
    pipeline_by_stage: list[StageFigure]
    forecast: list[ForecastFigure]
    win_rates: list[WinRate]
    won_deals: list[WonFigure]
    average_cycle_days: float | None
    stage_conversion: list[ConversionFigure]
    revenue_by_month: list[RevenueFigure]
    revenue_by_product: list[RevenueFigure]
    revenue_by_owner: list[RevenueFigure]


def period_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """The period as UTC instants: from the start of ``start`` to the end of ``end``."""
    if start and end and end < start:
        raise Invalid(f"the period ends ({end}) before it starts ({start})")
    low = datetime.combine(start, time(), UTC) if start else None
    high = datetime.combine(end + timedelta(days=1), time(), UTC) if end else None
    return low, high


def _within(column, low: datetime | None, high: datetime | None) -> list:
    conditions = []
    if low is not None:
        conditions.append(column >= low)
    if high is not None:
        conditions.append(column < high)
    return conditions


def _half_up(total: int, count: int) -> int:
    return (2 * total + count) // (2 * count)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _weighted_sum():
    """Sum of each deal's weighted amount, rounded half up per deal as DealRead does."""
    return func.sum((2 * Deal.amount_minor * Stage.probability + 100) // 200)


def sales_report(
    crm: Crm,
    *,
    start: date | None = None,
    end: date | None = None,
    owner: str | None = None,
    pipeline: str | None = None,
) -> SalesReport:
    """Every sales figure for the period, the owner and the pipeline given."""
    low, high = period_bounds(start, end)
    with crm.work() as work:
        chosen = pipelines.find_pipeline(work, pipeline)
        owner_id = users.find(work, owner).id if owner else None
        deals = [Deal.archived_at.is_(None)]
        if owner_id is not None:
            deals.append(Deal.owner_id == owner_id)
        if pipeline is not None:
            deals.append(Deal.pipeline_id == chosen.id)
        return SalesReport(
            period_from=start,
            period_to=end,
            owner=owner,
            pipeline=chosen.name,
            pipeline_by_stage=_by_stage(work, chosen.id, deals),
            forecast=_forecast(work, deals, start, end),
            win_rates=_win_rates(work, deals, low, high),
            won_deals=_won(work, deals, low, high),
            average_cycle_days=_cycle(work, deals, low, high),
            stage_conversion=_conversion(work, chosen.id, deals, low, high),
            **_revenue(work, owner_id, low, high),
        )


def _by_stage(work: Work, pipeline_id: int, deals: list) -> list[StageFigure]:
    rows = work.session.execute(
        select(
            Stage.name,
            Stage.position,
            Stage.probability,
            Deal.currency,
            func.count(),
            func.sum(Deal.amount_minor),
            _weighted_sum(),
        )
        .join(Deal, Deal.stage_id == Stage.id)
        .where(Stage.pipeline_id == pipeline_id, Deal.status == "open", *deals)
        .group_by(Stage.id, Stage.name, Stage.position, Stage.probability, Deal.currency)
        .order_by(Stage.position, Deal.currency)
    ).all()
    return [
        StageFigure(
            stage=name,
            position=position,
            probability=probability,
            currency=currency,
            deals=count,
            amount_minor=int(amount),
            weighted_minor=int(weighted),
        )
        for name, position, probability, currency, count, amount, weighted in rows
    ]


def _forecast(work: Work, deals: list, start: date | None, end: date | None) -> list[ForecastFigure]:
    conditions = [Deal.status == "open", Deal.expected_close.is_not(None), *deals]
    if start:
        conditions.append(Deal.expected_close >= start)
    if end:
        conditions.append(Deal.expected_close <= end)
    rows = work.session.execute(
        select(Deal.expected_close, Deal.currency, Deal.amount_minor, Stage.probability)
        .join(Stage, Stage.id == Deal.stage_id)
        .where(*conditions)
    )
    # Grouped here: month arithmetic differs between SQLite and PostgreSQL, and a
    # forecast covers the open deals only, a small share of all.
    months: dict[tuple[str, str], list[int]] = {}
    for expected, currency, amount, probability in rows:
        figure = months.setdefault((expected.strftime("%Y-%m"), currency), [0, 0, 0])
        figure[0] += 1
        figure[1] += amount
        figure[2] += (2 * amount * probability + 100) // 200
    return [
        ForecastFigure(
            month=month,
            currency=currency,
            deals=count,
            amount_minor=amount,
            weighted_minor=weighted,
        )
        for (month, currency), (count, amount, weighted) in sorted(months.items())
    ]


def _win_rates(work: Work, deals: list, low: datetime | None, high: datetime | None) -> list[WinRate]:
    rows = work.session.execute(
        select(User.username, Deal.status, func.count())
        .outerjoin(User, User.id == Deal.owner_id)
        .where(Deal.status.in_(("won", "lost")), *_within(Deal.closed_at, low, high), *deals)
        .group_by(User.username, Deal.status)
    ).all()
    per_owner: dict[str | None, dict[str, int]] = {}
    for username, status, count in rows:
        per_owner.setdefault(username, {"won": 0, "lost": 0})[status] = count
    won = sum(figures["won"] for figures in per_owner.values())
    lost = sum(figures["lost"] for figures in per_owner.values())
    team = WinRate(owner=None, won=won, lost=lost, win_rate=_percent(won, won + lost))
    return [team] + [
        WinRate(
            owner=name,
            won=f["won"],
            lost=f["lost"],
            win_rate=_percent(f["won"], f["won"] + f["lost"]),
        )
        for name, f in sorted(per_owner.items(), key=lambda item: item[0] or "")
    ]


def _won(work: Work, deals: list, low: datetime | None, high: datetime | None) -> list[WonFigure]:
    rows = work.session.execute(
        select(Deal.currency, func.count(), func.sum(Deal.amount_minor))
        .where(Deal.status == "won", *_within(Deal.closed_at, low, high), *deals)
        .group_by(Deal.currency)
        .order_by(Deal.currency)
    ).all()
    return [
        WonFigure(
            currency=currency,
            won=count,
            amount_minor=int(total),
            average_minor=_half_up(int(total), count),
        )
        for currency, count, total in rows
    ]


def _cycle(work: Work, deals: list, low: datetime | None, high: datetime | None) -> float | None:
    rows = work.session.execute(
        select(Deal.created_at, Deal.closed_at).where(
            Deal.status == "won", *_within(Deal.closed_at, low, high), *deals
        )
    ).all()
    if not rows:
        return None
    seconds = sum((closed - created).total_seconds() for created, closed in rows)
    return round(seconds / len(rows) / 86_400, 1)


def _conversion(
    work: Work, pipeline_id: int, deals: list, low: datetime | None, high: datetime | None
) -> list[ConversionFigure]:
    open_stages = [stage for stage in pipelines.stages_of(work, pipeline_id) if stage.kind == "open"]
    # Removed stages too: the history still names them.
    stages = work.session.execute(select(Stage).where(Stage.pipeline_id == pipeline_id)).scalars().all()
    position = {stage.id: stage.position for stage in stages}
    later_ok = {stage.id for stage in stages if stage.kind != "lost"}
    entered: dict[int, set[int]] = {stage.id: set() for stage in open_stages}
    advanced: dict[int, set[int]] = {stage.id: set() for stage in open_stages}
    rows = work.session.execute(
        select(DealStageChange.deal_id, DealStageChange.to_stage_id, DealStageChange.at)
        .join(Deal, Deal.id == DealStageChange.deal_id)
        .where(Deal.pipeline_id == pipeline_id, *deals)
        .order_by(DealStageChange.deal_id, DealStageChange.at, DealStageChange.id)
    )
    # One pass over each deal's history in time order: remember where it first entered
    # each open stage (if that was in the period), then credit every such stage below a
    # later, not-lost stage the deal reaches afterwards.
    current, first_entries = None, {}
    for deal_id, stage_id, at in rows:
        if deal_id != current:
            current, first_entries = deal_id, {}
        if stage_id in entered and stage_id not in first_entries:
            first_entries[stage_id] = at
            if (low is None or at >= low) and (high is None or at < high):
                entered[stage_id].add(deal_id)
        if stage_id in later_ok:
            for earlier in first_entries:
                if position[earlier] < position.get(stage_id, 0) and deal_id in entered[earlier]:
                    advanced[earlier].add(deal_id)
    return [
        ConversionFigure(
            stage=stage.name,
            entered=len(entered[stage.id]),
            advanced=len(advanced[stage.id]),
            conversion=_percent(len(advanced[stage.id]), len(entered[stage.id])),
        )
        for stage in open_stages
    ]


def _revenue(
    work: Work, owner_id: int | None, low: datetime | None, high: datetime | None
) -> dict[str, list[RevenueFigure]]:
    conditions = [
        Order.status.in_(("confirmed", "fulfilled", "paid")),
        *_within(Order.confirmed_at, low, high),
    ]
    if owner_id is not None:
        conditions.append(Order.owner_id == owner_id)
    by_month: dict[tuple[str, str], list[int]] = {}
    by_owner: dict[tuple[str, str], list[int]] = {}
    rows = work.session.execute(
        select(Order.confirmed_at, Order.currency, Order.net_minor, User.username)
        .outerjoin(User, User.id == Order.owner_id)
        .where(*conditions)
    )
    for confirmed, currency, net, username in rows:
        for table, key in (
            (by_month, confirmed.strftime("%Y-%m")),
            (by_owner, username or "(nobody)"),
        ):
            figure = table.setdefault((key, currency), [0, 0])
            figure[0] += 1
            figure[1] += net
    product_rows = work.session.execute(
        select(
            Product.sku,
            Order.currency,
            func.count(func.distinct(Order.id)),
            func.sum(OrderLine.net_minor),
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .outerjoin(Product, and_(Product.id == OrderLine.product_id))
        .where(*conditions)
        .group_by(Product.sku, Order.currency)
    ).all()

    def figures(table: dict[tuple[str, str], list[int]]) -> list[RevenueFigure]:
        return [
            RevenueFigure(key=key, currency=currency, orders=count, net_minor=net)
            for (key, currency), (count, net) in sorted(table.items())
        ]

    return {
        "revenue_by_month": figures(by_month),
        "revenue_by_owner": figures(by_owner),
        "revenue_by_product": figures(
            {(sku or NO_PRODUCT, currency): [count, int(net)] for sku, currency, count, net in product_rows}
        ),
    }


def pipeline_by_stage(
    crm: Crm, *, owner: str | None = None, pipeline: str | None = None
) -> list[StageFigure]:
    """Only the open pipeline by stage (for the desk): one grouped query."""
    with crm.work() as work:
        chosen = pipelines.find_pipeline(work, pipeline)
        deals = [Deal.archived_at.is_(None)]
        if owner:
            deals.append(Deal.owner_id == users.find(work, owner).id)
        return _by_stage(work, chosen.id, deals)
