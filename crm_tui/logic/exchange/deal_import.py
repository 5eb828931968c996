"""Importing deals through ``deals.create_in``, as `crm deal add` adds them: pipelines and
stages by name (through ``--pipeline`` and ``--stage``), owners by login, name or email,
amounts as spreadsheets write them. A deal in a won or lost stage is then closed as
`crm deal win` and `crm deal lose` close it, and given the file's dates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import Invalid, NotFound, quoted
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange.cells import amount_and_currency, parse_moment, parse_sheet_date
from crm_tui.logic.exchange.companies import RowCustomer, contact_at
from crm_tui.logic.exchange.headers import fold_header
from crm_tui.logic.exchange.lookups import BatchLookups, add_row_by_row
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.logic.exchange.runner import Outcomes, Row, Skipped, Tally
from crm_tui.logic.exchange.timeline import date_timeline
from crm_tui.logic.sales import deal_stages, deals, pipelines
from crm_tui.logic.sales.schemas import DealCreate
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import Activity, Deal, DealStageChange, Pipeline, Stage
from crm_tui.storage.types import utcnow


def import_deals(
    work: Work, batch: list[Row], outcomes: Outcomes, tally: Tally, options: ImportOptions
) -> None:
    """Add a batch's deals, each in its own savepoint; one already in crm is skipped."""
    add_row_by_row(
        work, batch, outcomes, tally, options, ("owner", "sales"), _deal, _default_customer,
        "; pass --default-customer NAME to keep such deals",
    )  # fmt: skip


def _default_customer(work: Work, batch: list[Row], options: ImportOptions) -> dict[str, CustomerCreate]:
    """With --default-customer, rows that name no customer are that customer's deals;
    it is added (when a row of it goes in) if crm does not have it."""
    name = (options.default_customer or "").strip()
    if not name:
        return {}
    for row in batch:
        if not (row.values.get("customer") or "").strip():
            row.values["customer"] = name
    return {name: CustomerCreate(name=name)}


def _deal(work: Work, row: Row, customer: RowCustomer, found: BatchLookups, options: ImportOptions) -> None:
    """One deal, added as `crm deal add` adds it, closed as `crm deal win` or `crm deal
    lose` closes it when its stage is won or lost, and given the file's dates."""
    values = row.values
    title = clean_text(values.get("title"), "title", required=True)
    _skip_known_deal(work, customer, title, found.seen)
    pipeline = _pipeline_named(work, values.get("pipeline"), options.pipelines)
    stage = _stage_named(work, pipeline, values.get("stage"), options.stages)
    amount, code = amount_and_currency(values.get("amount"))
    currency = values.get("currency") or code
    if code and currency and code != currency.strip().upper():
        raise Invalid(f"the amount is in {code}, the currency column says {currency}")
    expected = parse_sheet_date(values.get("expected_close"), "close date", options.date_order)
    created = deals.create_in(
        work,
        validated(
            DealCreate,
            {"customer": ref("customer", customer.id), "title": title, "amount": amount, "currency": currency,
             "contact": contact_at(work, customer, values.get("contact")), "pipeline": pipeline.name,
             "stage": stage.name if stage is not None and stage.kind == "open" else None,
             "custom": values.get("custom"),
             "owner": found.username(values.get("owner")), "expected_close": expected,
             "source": values.get("source")},
        ),
    )  # fmt: skip
    deal = work.session.get_one(Deal, created.id)
    if stage is not None and stage.kind != "open":
        deal_stages.close_deal(work, deal, stage.kind, _lost_reason(values, stage, options))
    opened = parse_moment(values.get("created"), "created date", found.zone, options.date_order)
    closed = parse_moment(values.get("closed"), "closed date", found.zone, options.date_order)
    if closed is None and deal.status != "open" and expected is not None:
        closed = parse_moment(expected.isoformat(), "close date", found.zone)
    _date_deal(work, deal, opened, closed if deal.status != "open" else None)
    found.seen[(customer.id, title.lower())] = row.line


def _skip_known_deal(work: Work, customer: RowCustomer, title: str, seen: dict[tuple[Any, ...], int]) -> None:
    """A deal with the same title for the same customer is a duplicate (any case), in
    the database or on an earlier line of the batch that went in."""
    key = (customer.id, title.lower())
    if key in seen:
        raise Skipped(f"line {seen[key]} has the same deal for {ref('customer', customer.id)}")
    existing = work.session.execute(
        select(col(Deal.id))
        .where(col(Deal.customer_id) == customer.id, func.lower(col(Deal.title)) == func.lower(title))
        .where(col(Deal.archived_at).is_(None))
        .limit(1)
    ).scalar_one_or_none()
    if existing is not None:
        raise Skipped(f"{ref('deal', existing)} {quoted(title)} of {ref('customer', customer.id)} exists")


def _pipeline_named(work: Work, name: str | None, mapped: Mapping[str, str]) -> Pipeline:
    """The pipeline a row names (any case), through ``--pipeline FROM=TO``; the default
    one when the row names none."""
    try:
        return pipelines.find_pipeline(work, _renamed(name, mapped) if name else None)
    except NotFound:
        known = work.session.execute(select(col(Pipeline.name)).order_by(col(Pipeline.name))).scalars()
        raise Invalid(
            f"no pipeline {quoted(name)}: the pipelines are {', '.join(known)} "
            f"(or map it with --pipeline '{name}=PIPELINE')"
        ) from None


def _stage_named(work: Work, pipeline: Pipeline, name: str | None, mapped: Mapping[str, str]) -> Stage | None:
    """The pipeline's stage a row names (any case, spacing or punctuation), through
    ``--stage FROM=TO``; "Closed Won" and "Closed Lost" are the won and lost stages.
    None when the row names no stage: the deal starts in the first open one."""
    if not name:
        return None
    stages = pipelines.stages_of(work, pipeline.id)
    wanted = fold_header(_renamed(name, mapped))
    for stage in stages:
        if fold_header(stage.name) == wanted:
            break
    else:
        kind = {"closedwon": "won", "won": "won", "closedlost": "lost", "lost": "lost"}.get(wanted)
        if kind is None:
            raise Invalid(
                f"pipeline {pipeline.name} has no stage {quoted(name)}: its stages are "
                f"{', '.join(stage.name for stage in stages)} (or map it with --stage '{name}=STAGE')"
            )
        return pipelines.first_of_kind(work, pipeline.id, kind)
    if stage.kind != "open" and pipelines.first_of_kind(work, pipeline.id, stage.kind).id != stage.id:
        closing = pipelines.first_of_kind(work, pipeline.id, stage.kind).name
        raise Invalid(f"stage {stage.name}: {stage.kind} deals close in {closing}; map it with --stage")
    return stage


def _lost_reason(values: dict[str, Any], stage: Stage, options: ImportOptions) -> str | None:
    if stage.kind != "lost":
        return None
    reason = clean_text(
        values.get("lost_reason") or options.lost_reason, "lost reason", limit=500, multiline=True
    )
    if not reason:
        raise Invalid("a lost deal needs a reason: give a Lost Reason column or --lost-reason TEXT")
    return reason


def _date_deal(work: Work, deal: Deal, opened: datetime | None, closed: datetime | None) -> None:
    """Give a deal the dates of the file: opened when it was created (else when it
    closed), closed when it closed; its stage history and timeline move with them."""
    if opened is None and closed is None:
        return
    now = utcnow()
    for moment, what in ((opened, "created date"), (closed, "closed date")):
        if moment is not None and moment > now:
            raise Invalid(f"the {what} {moment:%Y-%m-%d} is in the future")
    if opened is None:
        assert closed is not None  # one of the two is given
        opened = min(deal.created_at, closed)
    if closed is not None and closed < opened:
        raise Invalid(f"the deal closed ({closed:%Y-%m-%d}) before it was created ({opened:%Y-%m-%d})")
    before = {"created_at": deal.created_at, "closed_at": deal.closed_at}
    history = list(
        work.session.execute(
            select(DealStageChange)
            .where(col(DealStageChange.deal_id) == deal.id)
            .order_by(col(DealStageChange.id))
        ).scalars()
    )
    deal.created_at = history[0].at = opened
    if closed is not None:
        deal.closed_at = history[-1].at = closed
        date_timeline(work, col(Activity.deal_id) == deal.id, closed)
    work.session.flush()
    changes = audit.diff(before, {"created_at": deal.created_at, "closed_at": deal.closed_at})
    if changes:
        work.audit("deal", deal.id, "import", changes)


def _renamed(name: str, renames: Mapping[str, str]) -> str:
    """``name`` as ``--pipeline`` or ``--stage FROM=TO`` renames it; FROM matches in any
    case, spacing or punctuation (the last one given, when two match)."""
    folded = fold_header(name)
    return next((to for given, to in list(renames.items())[::-1] if fold_header(given) == folded), name)
