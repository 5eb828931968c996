"""Importing deals as `crm deal add` adds them, a batch at a time: pipelines and stages
by name (through ``--pipeline`` and ``--stage``), owners by login, name or email,
amounts as spreadsheets write them. A deal in a won or lost stage is then closed as
`crm deal win` and `crm deal lose` close it, and given the file's dates.

Every row is checked first, in Python, with what the batch names looked up once; the
rows that pass go in with one statement a table (deals, stage history, timeline,
audit), storing what `crm deal add` and `crm deal win` would have stored: the same
fields, the same stage history with its conversion facts, the same timeline entry and
the same audit entries, in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_tui.logic.core import users
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import CrmError, Invalid, NotFound, quoted
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange import bulk
from crm_tui.logic.exchange.cells import amount_and_currency, parse_moment, parse_sheet_date, time_zone
from crm_tui.logic.exchange.companies import ContactsNamed, Customers, RowCustomer, customer_finder
from crm_tui.logic.exchange.headers import fold_header
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.logic.exchange.people import People, people_named
from crm_tui.logic.exchange.runner import SKIPPED, Outcomes, Row, Skipped, Tally, checked
from crm_tui.logic.sales import pipelines
from crm_tui.logic.sales.schemas import DealCreate
from crm_tui.logic.values import money
from crm_tui.logic.values.custom_fields import merged_custom
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import Activity, Deal, DealStageChange, Pipeline, Stage
from crm_tui.storage.types import utcnow

_NO_COMPANY_HINT = "; pass --default-customer NAME to keep such deals"


@dataclass
class _Deal:
    """A row checked and ready to store: the deal, and how it closed if it did."""

    row: Row
    customer: RowCustomer
    values: dict[str, Any]  # the deal's columns but its ids of customer, contact and owner
    contact: str | None  # as the row names it, found at the customer once it is known
    owner: str | None  # the username; None: the importing user
    pipeline: Pipeline
    start: Stage  # the open stage it is created in
    close: Stage | None  # the won or lost stage it closes in
    opened: datetime | None  # the file's dates, checked
    closed: datetime | None


def import_deals(
    work: Work, batch: list[Row], outcomes: Outcomes, tally: Tally, options: ImportOptions
) -> None:
    """Add a batch's deals; one already in crm, or on an earlier row, is skipped."""
    templates = _default_customer(work, batch, options)
    customers = customer_finder(work, batch, options.create_customers, templates, _NO_COMPANY_HINT)
    people = people_named(work, batch, "owner", "sales", options.create_users)
    stages = _Stages(work, options)
    zone, now = time_zone(work), utcnow()
    known = _titles_of(work, {pair for row in batch if (pair := _customer_and_title(customers, row))})

    def check(row: Row) -> _Deal:
        owner = customers.planned(row.values.get("customer"))
        _skip_known_deal(owner, row.values.get("title"), known)
        deal = _planned_deal(work, row, owner, stages, zone, now, options)
        deal.owner = people.planned(row.values.get("owner"))
        return deal

    planned: list[_Deal] = checked(batch, check, outcomes, tally)
    contacts = ContactsNamed(work, ((deal.customer.id, deal.contact or "") for deal in planned))
    planned = _without_repeated_deals(_with_contacts(planned, contacts, outcomes), outcomes, tally)
    kept = _owned(work, planned, customers, people, outcomes)
    _store(work, kept, now)
    tally.created += len(kept)
    people.count_new(tally)


def _owned(
    work: Work, planned: list[_Deal], customers: Customers, people: People, outcomes: Outcomes
) -> list[_Deal]:
    """The checked deals with their customer and owner: the companies and users the
    import adds for them are added now, once, for the rows that go in."""
    added = customers.make_all(deal.customer for deal in planned)
    owners = people.ids((deal.owner for deal in planned if deal.owner), _active_owner)
    kept = []
    for deal in planned:
        made = added.get(deal.customer.id, deal.customer)
        owner = owners.get(deal.owner) if deal.owner else work.actor.id
        problem = made if isinstance(made, CrmError) else owner if isinstance(owner, CrmError) else None
        if problem is not None:
            outcomes[deal.row.line] = str(problem)
            continue
        assert isinstance(made, RowCustomer) and isinstance(owner, int)
        deal.customer = made
        deal.values.update(customer_id=made.id, owner_id=owner)
        kept.append(deal)
    return kept


def _active_owner(work: Work, username: str) -> Any:
    return users.find_active(work, username, "owner")


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


def _planned_deal(
    work: Work, row: Row, customer: RowCustomer, stages: _Stages, zone: Any, now: datetime,
    options: ImportOptions,
) -> _Deal:  # fmt: skip
    """A row's deal, checked as `crm deal add` checks one, with its stage and dates."""
    values = row.values
    title = clean_text(values.get("title"), "title", required=True)
    pipeline = stages.pipeline(values.get("pipeline"))
    stage = stages.stage(pipeline, values.get("stage"))
    amount, code = amount_and_currency(values.get("amount"))
    currency = values.get("currency") or code
    if code and currency and code != currency.strip().upper():
        raise Invalid(f"the amount is in {code}, the currency column says {currency}")
    expected = parse_sheet_date(values.get("expected_close"), "close date", options.date_order)
    data = validated(
        DealCreate,
        {"customer": ref("customer", max(customer.id, 1)), "title": title, "amount": amount,
         "currency": currency, "pipeline": pipeline.name, "custom": values.get("custom"),
         "expected_close": expected, "source": values.get("source")},
    )  # fmt: skip
    code = money.currency(data.currency or work.crm.settings.default_currency)
    start = stage if stage is not None and stage.kind == "open" else stages.first_open(pipeline)
    close = stage if stage is not None and stage.kind != "open" else None
    lost_reason = _lost_reason(values, close, options) if close is not None else None
    opened = parse_moment(values.get("created"), "created date", zone, options.date_order)
    closed = None
    if close is not None:
        closed = parse_moment(values.get("closed"), "closed date", zone, options.date_order)
        if closed is None and expected is not None:
            closed = parse_moment(expected.isoformat(), "close date", zone)
    _check_dates(opened, closed, now)
    return _Deal(
        row=row, customer=customer, contact=values.get("contact"), owner=None, pipeline=pipeline,
        start=start, close=close,
        opened=opened, closed=closed,
        values={"title": clean_text(data.title, "title", required=True),
                "amount_minor": money.to_minor(data.amount if data.amount is not None else 0, code),
                "currency": code, "pipeline_id": pipeline.id, "expected_close": data.expected_close,
                "lost_reason": lost_reason, "source": clean_text(data.source, "source", limit=120),
                "custom": merged_custom({}, data.custom or {})},
    )  # fmt: skip


def _check_dates(opened: datetime | None, closed: datetime | None, now: datetime) -> None:
    """A deal's dates are past, and it closed after it was created."""
    for moment, what in ((opened, "created date"), (closed, "closed date")):
        if moment is not None and moment > now:
            raise Invalid(f"the {what} {moment:%Y-%m-%d} is in the future")
    if opened is not None and closed is not None and closed < opened:
        raise Invalid(f"the deal closed ({closed:%Y-%m-%d}) before it was created ({opened:%Y-%m-%d})")


def _customer_and_title(customers: Customers, row: Row) -> tuple[int, str] | None:
    """The customer a row names and its deal's title, if both are there to be checked."""
    try:
        return customers.planned(row.values.get("customer")).id, clean_text(
            row.values.get("title"), "title"
        ) or ""
    except CrmError:
        return None


def _skip_known_deal(customer: RowCustomer, title: str | None, known: dict[tuple[int, str], int]) -> None:
    """A deal crm has, with the same title (any case) for the same customer, is a
    duplicate: skipped, whatever else the row says."""
    title = clean_text(title, "title", required=True)
    existing = known.get((customer.id, title.lower()))
    if existing is not None:
        raise Skipped(f"{ref('deal', existing)} {quoted(title)} of {ref('customer', customer.id)} exists")


def _without_repeated_deals(planned: list[_Deal], outcomes: Outcomes, tally: Tally) -> list[_Deal]:
    """A deal an earlier row of the batch adds (the same title, any case, for the same
    customer) is a duplicate too."""
    seen: dict[tuple[int, str], int] = {}
    kept = []
    for deal in planned:
        key = (deal.customer.id, deal.values["title"].lower())
        if key in seen:
            tally.skipped += 1
            outcomes[deal.row.line] = (
                f"{SKIPPED}line {seen[key]} has the same deal for {ref('customer', deal.customer.id)}"
            )
            continue
        seen[key] = deal.row.line
        kept.append(deal)
    return kept


def _titles_of(work: Work, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """The active deals with one of the (customer, title) ``pairs``, the title in any
    case, by (customer, title in lower case): the first one's id. One seek a pair in
    ``ix_deals_customer_title``, found through ``bulk.case_foldings``."""
    found = bulk.matching_pairs(
        work,
        Deal,
        "title",
        pairs,
        ["customer_id", "title", "id"],
        "WHERE r.archived_at IS NULL ORDER BY r.id DESC",
    )
    return {(customer_id, title.lower()): deal_id for customer_id, title, deal_id in found}


def _with_contacts(planned: list[_Deal], contacts: ContactsNamed, outcomes: Outcomes) -> list[_Deal]:
    """The deals whose contact (if the row names one) is found at their customer."""
    found = []
    for deal in planned:
        try:
            deal.values["contact_id"] = contacts.at(deal.customer, deal.contact)
        except CrmError as exc:
            outcomes[deal.row.line] = str(exc)
        else:
            found.append(deal)
    return found


def _store(work: Work, deals: list[_Deal], now: datetime) -> None:
    """The deals, their stage history, the timeline entries of those closed and their
    audit entries (created, then won or lost, then dated), one statement a table."""
    rows = [_deal_row(deal, now) for deal in deals]
    ids = bulk.insert_records(work, Deal, rows)
    moves, entries, notes = [], [], []
    actor = work.actor.id
    for deal_id, deal, row in zip(ids, deals, rows, strict=True):
        opened_at = row["created_at"]
        moves.append(_move(deal_id, None, deal.start, opened_at, actor, advanced=_advanced(deal)))
        entries.append(bulk.audit_entry(work, now, "deal", deal_id, "create", _created(work, deal)))
        if deal.close is not None:
            moves.append(_move(deal_id, deal.start, deal.close, row["closed_at"], actor, advanced=False))
            notes.append(_closing_note(deal_id, deal, row, actor, now))
            action = "win" if deal.close.kind == "won" else "lose"
            entries.append(bulk.audit_entry(work, now, "deal", deal_id, action, _closing(deal, now)))
        dated = _dated(deal, row, now)
        if dated:
            entries.append(bulk.audit_entry(work, now, "deal", deal_id, "import", dated))
    bulk.insert_plain(work, DealStageChange, moves)
    bulk.insert_plain(work, Activity, notes)
    bulk.insert_audit(work, entries)


def _dated(deal: _Deal, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The "import" audit entry's changes: the file's dates where they are not now."""
    changes = {}
    if row["created_at"] != now:
        changes["created_at"] = [now.isoformat(), row["created_at"].isoformat()]
    if deal.close is not None and row["closed_at"] != now:
        changes["closed_at"] = [now.isoformat(), row["closed_at"].isoformat()]
    return changes


def _deal_row(deal: _Deal, now: datetime) -> dict[str, Any]:
    """The deal's columns as stored: in its closing stage if it closed, at the file's dates."""
    opened, closed = deal.opened, deal.closed
    if opened is None and closed is not None:
        opened = min(now, closed)
    if closed is None and deal.close is not None:
        closed = now
    return {
        "version": 1, **deal.values, "stage_id": (deal.close or deal.start).id,
        "status": deal.close.kind if deal.close is not None else "open", "closed_at": closed,
        "created_at": opened or now, "updated_at": now, "archived_at": None,
    }  # fmt: skip


def _move(
    deal_id: int, source: Stage | None, target: Stage, at: datetime, actor: int, *, advanced: bool
) -> dict[str, Any]:
    """A stage change of a new deal: its first entry into ``target`` (see ``deal_stages.record_move``)."""
    return {"deal_id": deal_id, "from_stage_id": source.id if source else None, "to_stage_id": target.id,
            "at": at, "actor_id": actor, "first_entry": True, "advanced": advanced}  # fmt: skip


def _advanced(deal: _Deal) -> bool:
    """Whether the deal advanced from its first stage: it closed in a stage that is not
    a lost one and comes later (``pipelines.mark_advanced``)."""
    close = deal.close
    return close is not None and close.kind != "lost" and deal.start.position < close.position


def _created(work: Work, deal: _Deal) -> dict[str, Any]:
    """The "create" audit entry's changes, as `crm deal add` writes them (every field
    with a value, old and new); built directly, as ``audit.diff({}, ...)`` would give
    them, since that diff was a fifth of an import's time."""
    values = deal.values
    expected = values["expected_close"]
    fields = {
        "title": values["title"], "customer": ref("customer", deal.customer.id),
        "contact": ref("contact", values["contact_id"]) if values["contact_id"] else None,
        "amount": str(money.as_decimal(values["amount_minor"], values["currency"])),
        "currency": values["currency"], "pipeline": deal.pipeline.name, "stage": deal.start.name,
        "owner": deal.owner or work.actor.username,
        "expected_close": expected.isoformat() if expected is not None else None,
        "source": values["source"], "custom": values["custom"],
    }  # fmt: skip
    return {key: [None, value] for key, value in fields.items() if value is not None and value != {}}


def _closing(deal: _Deal, now: datetime) -> dict[str, Any]:
    """The "win" or "lose" audit entry's changes, as `crm deal win` and `lose` write them."""
    assert deal.close is not None
    reason = deal.values["lost_reason"]
    changes = {
        "stage": [deal.start.name, deal.close.name],
        "status": ["open", deal.close.kind],
        "closed_at": [None, now.isoformat()],
    }
    if reason:
        changes["lost_reason"] = [None, reason]
    return changes


def _closing_note(
    deal_id: int, deal: _Deal, row: dict[str, Any], actor: int, now: datetime
) -> dict[str, Any]:
    """The timeline entry of a won or lost deal, at the moment it closed."""
    assert deal.close is not None
    values = deal.values
    amount = money.format_amount(values["amount_minor"], values["currency"])
    reason = values["lost_reason"]
    text = (
        f"{'Won' if deal.close.kind == 'won' else 'Lost'} {ref('deal', deal_id)} {values['title']} ({amount})"
    )
    return {
        "version": 1, "customer_id": values["customer_id"], "kind": "system", "subject": None,
        "body": text + (f": {reason}" if reason else ""), "author_id": actor, "deal_id": deal_id,
        "ticket_id": None, "occurred_at": row["closed_at"], "created_at": now,
    }  # fmt: skip


class _Stages:
    """The pipelines and stages a batch's rows name, each looked up once."""

    def __init__(self, work: Work, options: ImportOptions) -> None:
        self.work, self.options = work, options
        self.found: dict[tuple[Any, ...], Any] = {}

    def pipeline(self, name: str | None) -> Pipeline:
        return self._once(
            ("pipeline", name), lambda: _pipeline_named(self.work, name, self.options.pipelines)
        )

    def stage(self, pipeline: Pipeline, name: str | None) -> Stage | None:
        return self._once(
            ("stage", pipeline.id, name), lambda: _stage_named(self.work, pipeline, name, self.options.stages)
        )

    def first_open(self, pipeline: Pipeline) -> Stage:
        return self._once(
            ("open", pipeline.id), lambda: pipelines.first_of_kind(self.work, pipeline.id, "open")
        )

    def _once(self, key: tuple[Any, ...], find: Any) -> Any:
        """``find()``, or what it found (or raised) the first time for ``key``."""
        if key not in self.found:
            try:
                self.found[key] = find()
            except CrmError as exc:
                self.found[key] = exc
        found = self.found[key]
        if isinstance(found, CrmError):
            raise found
        return found


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
    """A lost deal's reason: its row's, else --lost-reason's; required."""
    if stage.kind != "lost":
        return None
    reason = clean_text(
        values.get("lost_reason") or options.lost_reason, "lost reason", limit=500, multiline=True
    )
    if not reason:
        raise Invalid("a lost deal needs a reason: give a Lost Reason column or --lost-reason TEXT")
    return reason


def _renamed(name: str, renames: Mapping[str, str]) -> str:
    """``name`` as ``--pipeline`` or ``--stage FROM=TO`` renames it; FROM matches in any
    case, spacing or punctuation (the last one given, when two match)."""
    folded = fold_header(name)
    return next((to for given, to in list(renames.items())[::-1] if fold_header(given) == folded), name)
