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
  share that afterwards entered a later stage that is not a lost one (later: of a higher
  position when the deal moved there).
- order revenue: orders confirmed in the period and not cancelled (confirmed, fulfilled
  or paid), net amounts per month, per product (free-text lines as "(no product)") and
  per order owner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlmodel import col

from crm_tui.logic.core import users
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.sales import pipelines
from crm_tui.storage.models import Deal, DealStageChange, Order, OrderLine, Product, Stage, User
from crm_tui.storage.sql import month_of, no_index, seconds_between

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


def _active() -> list:
    """Deals that are not archived. Nearly all are, so the deals are read straight
    through rather than looked up one by one through an index (storage/sql.py)."""
    return [no_index(col(Deal.archived_at)).is_(None)]


def _status(*bounds: object):
    """``Deal.status`` for a condition: through its indexes when a period bound narrows
    the deals (those indexes lead with the status, then the date), else read from the
    table straight through."""
    return col(Deal.status) if any(bound is not None for bound in bounds) else no_index(col(Deal.status))


def _weighted_sum(probabilities: dict[int, int]):
    """Sum of each deal's weighted amount, rounded half up per deal as DealRead does.

    Each deal's rounding needs its stage's probability; the few stages' probabilities
    (``probabilities``: stage id to percent) are written into the query rather than
    joined to every deal, so the deals can be read from an index alone.
    """
    probability = case(probabilities, value=col(Deal.stage_id), else_=0) if probabilities else 0
    return func.sum((2 * col(Deal.amount_minor) * probability + 100) // 200)


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
        deals = _active()
        if owner_id is not None:
            deals.append(col(Deal.owner_id) == owner_id)
        if pipeline is not None:
            deals.append(col(Deal.pipeline_id) == chosen.id)
        # One pass over the open deals and one over those closed in the period serve
        # several figures each: grouped finely in SQL, added up here.
        open_deals = _open_deals(work, deals, start, end)
        closed_deals = _closed_deals(work, deals, low, high)
        return SalesReport(
            period_from=start,
            period_to=end,
            owner=owner,
            pipeline=chosen.name,
            pipeline_by_stage=_stage_figures(work, chosen.id, open_deals),
            forecast=_forecast(open_deals),
            win_rates=_win_rates(closed_deals),
            won_deals=_won(closed_deals),
            average_cycle_days=_cycle(closed_deals),
            stage_conversion=_conversion(work, chosen.id, deals, owner_id, low, high),
            **_revenue(work, owner_id, low, high),
        )


def _by_stage(work: Work, pipeline_id: int, deals: list) -> list[StageFigure]:
    """Open deals of a pipeline by stage and currency, from the open deals' index alone."""
    stages = _stages_of(work, pipeline_id)
    if not stages:
        return []
    rows = work.session.execute(
        select(
            col(Deal.stage_id),
            col(Deal.currency),
            func.count(),
            func.sum(col(Deal.amount_minor)),
            _weighted_sum({stage.id: stage.probability for stage in stages.values()}),
        )
        .where(col(Deal.status) == "open", col(Deal.pipeline_id) == pipeline_id, *deals)
        .group_by(col(Deal.stage_id), col(Deal.currency))
    )
    totals = {
        (stage_id, currency): (count, int(amount), int(weighted))
        for stage_id, currency, count, amount, weighted in rows
    }
    return _figures(stages, totals)


def _open_deals(work: Work, deals: list, start: date | None, end: date | None) -> list[tuple]:
    """Open deals per (stage id, currency, month of expected close or None when it is not
    in the period): count, amount, weighted amount."""
    expected: list[ColumnElement[bool]] = [col(Deal.expected_close).is_not(None)]
    if start:
        expected.append(col(Deal.expected_close) >= start)
    if end:
        expected.append(col(Deal.expected_close) <= end)
    month = case((and_(*expected), month_of(col(Deal.expected_close))))
    stages = work.session.execute(select(col(Stage.id), col(Stage.probability)))
    probabilities = {stage_id: percent for stage_id, percent in stages}
    return [
        (stage_id, currency, month, count, int(amount), int(weighted))
        for stage_id, currency, month, count, amount, weighted in work.session.execute(
            select(
                col(Deal.stage_id),
                col(Deal.currency),
                month,
                func.count(),
                func.sum(col(Deal.amount_minor)),
                _weighted_sum(probabilities),
            )
            # The open deals' own index holds every column read here.
            .where(col(Deal.status) == "open", *deals)
            .group_by(col(Deal.stage_id), col(Deal.currency), month)
        )
    ]


def _stage_figures(work: Work, pipeline_id: int, open_deals: list[tuple]) -> list[StageFigure]:
    stages = _stages_of(work, pipeline_id)
    totals: dict[tuple[int, str], list[int]] = {}
    for stage_id, currency, _, count, amount, weighted in open_deals:
        if stage_id in stages:
            figure = totals.setdefault((stage_id, currency), [0, 0, 0])
            figure[0] += count
            figure[1] += amount
            figure[2] += weighted
    return _figures(stages, totals)


def _stages_of(work: Work, pipeline_id: int) -> dict[int, Stage]:
    query = select(Stage).where(col(Stage.pipeline_id) == pipeline_id)
    return {stage.id: stage for stage in work.session.execute(query).scalars()}


def _figures(stages: dict[int, Stage], totals: Mapping[tuple[int, str], Sequence[int]]) -> list[StageFigure]:
    """A figure per (stage, currency) of ``totals`` (deals, amount, weighted), in stage
    order, then by currency."""
    return sorted(
        (
            StageFigure(
                stage=stages[stage_id].name,
                position=stages[stage_id].position,
                probability=stages[stage_id].probability,
                currency=currency,
                deals=count,
                amount_minor=amount,
                weighted_minor=weighted,
            )
            for (stage_id, currency), (count, amount, weighted) in totals.items()
        ),
        key=lambda figure: (figure.position, figure.currency),
    )


def _forecast(open_deals: list[tuple]) -> list[ForecastFigure]:
    months: dict[tuple[str, str], list[int]] = {}
    for _, currency, month, count, amount, weighted in open_deals:
        if month is not None:
            figure = months.setdefault((month, currency), [0, 0, 0])
            figure[0] += count
            figure[1] += amount
            figure[2] += weighted
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


def _closed_deals(work: Work, deals: list, low: datetime | None, high: datetime | None) -> list[tuple]:
    """Deals closed in the period per (owner's username, status, currency): count, amount,
    and the seconds from creation to closing summed over the won ones."""
    won = col(Deal.status) == "won"
    return [
        (username, status, currency, count, int(amount), seconds)
        for username, status, currency, count, amount, seconds in work.session.execute(
            select(
                col(User.username),
                col(Deal.status),
                col(Deal.currency),
                func.count(),
                func.sum(col(Deal.amount_minor)),
                func.sum(case((won, seconds_between(col(Deal.created_at), col(Deal.closed_at))))),
            )
            .outerjoin(User, col(User.id) == col(Deal.owner_id))
            .where(_status(low, high).in_(("won", "lost")), *_within(col(Deal.closed_at), low, high), *deals)
            .group_by(col(User.username), col(Deal.status), col(Deal.currency))
        )
    ]


def _win_rates(closed_deals: list[tuple]) -> list[WinRate]:
    per_owner: dict[str | None, dict[str, int]] = {}
    for username, status, _, count, _, _ in closed_deals:
        per_owner.setdefault(username, {"won": 0, "lost": 0})[status] += count
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


def _won(closed_deals: list[tuple]) -> list[WonFigure]:
    currencies: dict[str, list[int]] = {}
    for _, status, currency, count, amount, _ in closed_deals:
        if status == "won":
            figure = currencies.setdefault(currency, [0, 0])
            figure[0] += count
            figure[1] += amount
    return [
        WonFigure(currency=currency, won=count, amount_minor=total, average_minor=_half_up(total, count))
        for currency, (count, total) in sorted(currencies.items())
    ]


def _cycle(closed_deals: list[tuple]) -> float | None:
    won = [(count, seconds) for _, status, _, count, _, seconds in closed_deals if status == "won"]
    count = sum(count for count, _ in won)
    if not count:
        return None
    seconds = sum(float(seconds) for _, seconds in won)
    return round(seconds / count / 86_400, 1)


def _conversion(
    work: Work,
    pipeline_id: int,
    deals: list,
    owner_id: int | None,
    low: datetime | None,
    high: datetime | None,
) -> list[ConversionFigure]:
    # From the facts kept with each stage change (storage/sales_facts.py): a deal's first
    # entry into a stage, and whether it afterwards entered a higher, not-lost stage.
    open_stages = [stage for stage in pipelines.stages_of(work, pipeline_id) if stage.kind == "open"]
    stage_ids = [stage.id for stage in open_stages]
    change = DealStageChange

    def counts(*conditions) -> dict[int, tuple[int, int]]:
        rows = work.session.execute(
            select(col(change.to_stage_id), func.count(), func.count(case((col(change.advanced), 1))))
            .where(*conditions, *_within(col(change.at), low, high))
            .group_by(col(change.to_stage_id))
        ).all()
        return {stage_id: (entered, advanced) for stage_id, entered, advanced in rows}

    if owner_id is None:
        # Every first entry, read from one index alone, less those of the few archived
        # deals, found through the deals' history index (the stages' ids all belong to
        # the pipeline, and a deal never leaves its pipeline).
        found = counts(col(change.first_entry), col(change.to_stage_id).in_(stage_ids))
        archived = select(col(Deal.id)).where(col(Deal.archived_at).is_not(None))
        less = counts(
            no_index(col(change.first_entry)),
            no_index(col(change.to_stage_id)).in_(stage_ids),
            col(change.deal_id).in_(archived),
        )
        for stage_id, (entered, advanced) in less.items():
            total = found[stage_id]
            found[stage_id] = (total[0] - entered, total[1] - advanced)
    else:
        found = counts(
            col(change.first_entry),
            col(change.to_stage_id).in_(stage_ids),
            col(change.deal_id).in_(select(col(Deal.id)).where(*deals)),
        )
    figures = []
    for stage in open_stages:
        entered, advanced = found.get(stage.id, (0, 0))
        figures.append(
            ConversionFigure(
                stage=stage.name,
                entered=entered,
                advanced=advanced,
                conversion=_percent(advanced, entered),
            )
        )
    return figures


def _revenue(
    work: Work, owner_id: int | None, low: datetime | None, high: datetime | None
) -> dict[str, list[RevenueFigure]]:
    conditions = [
        col(Order.status).in_(("confirmed", "fulfilled", "paid")),
        *_within(col(Order.confirmed_at), low, high),
    ]
    if owner_id is not None:
        conditions.append(col(Order.owner_id) == owner_id)
    month = month_of(col(Order.confirmed_at))
    by_month = work.session.execute(
        select(month, col(Order.currency), func.count(), func.sum(col(Order.net_minor)))
        .where(*conditions)
        .group_by(month, col(Order.currency))
    ).all()
    by_owner = work.session.execute(
        select(col(User.username), col(Order.currency), func.count(), func.sum(col(Order.net_minor)))
        .outerjoin(User, col(User.id) == col(Order.owner_id))
        .where(*conditions)
        .group_by(col(User.username), col(Order.currency))
    ).all()
    product_rows = work.session.execute(
        select(
            col(Product.sku),
            col(Order.currency),
            func.count(func.distinct(col(Order.id))),
            func.sum(col(OrderLine.net_minor)),
        )
        .join(OrderLine, col(OrderLine.order_id) == col(Order.id))
        .outerjoin(Product, and_(col(Product.id) == col(OrderLine.product_id)))
        .where(*conditions)
        .group_by(col(Product.sku), col(Order.currency))
    ).all()

    def figures(rows, nobody: str) -> list[RevenueFigure]:
        # Sorted here, by the key as shown: the database may collate text differently.
        return [
            RevenueFigure(key=key, currency=currency, orders=count, net_minor=net)
            for key, currency, count, net in sorted(
                (key or nobody, currency, count, int(net)) for key, currency, count, net in rows
            )
        ]

    return {
        "revenue_by_month": figures(by_month, ""),
        "revenue_by_owner": figures(by_owner, "(nobody)"),
        "revenue_by_product": figures(product_rows, NO_PRODUCT),
    }


def pipeline_by_stage(
    crm: Crm, *, owner: str | None = None, pipeline: str | None = None
) -> list[StageFigure]:
    """Only the open pipeline by stage (for the desk): one grouped query."""
    with crm.work() as work:
        chosen = pipelines.find_pipeline(work, pipeline)
        deals: list[ColumnElement[bool]] = [col(Deal.archived_at).is_(None)]
        if owner:
            deals.append(col(Deal.owner_id) == users.find(work, owner).id)
        return _by_stage(work, chosen.id, deals)
