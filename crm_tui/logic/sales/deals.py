"""Deals: opportunities moving through a pipeline until they are won or lost.

Each change of stage is kept in the deal's history (``deal_stages``). Rules:

- a deal moves only between the open stages of its own pipeline; winning and losing
  are their own steps, and losing needs a reason;
- only an open deal can be won or lost, only a closed one reopened;
- an archived deal changes nothing until it is restored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlmodel import col

from crm_tui.logic.core import audit, users
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.records import check_version, fetch, set_archived
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.vocabulary import DealSort, DealStatus
from crm_tui.logic.sales import pipelines
from crm_tui.logic.sales.deal_stages import (
    close_deal,
    last_open_stage,
    record_move,
    stage_history,
    stage_named,
)
from crm_tui.logic.sales.schemas import (
    DealCreate,
    DealDetail,
    DealPage,
    DealRead,
    DealUpdate,
    OrderRead,
)
from crm_tui.logic.values import money
from crm_tui.logic.values.custom_fields import merged_custom
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import Contact, Customer, Deal, Order, Pipeline, Stage, User
from crm_tui.storage.types import utcnow

SORTS = {
    DealSort.updated.value: col(Deal.updated_at),
    DealSort.created.value: col(Deal.created_at),
    DealSort.amount.value: col(Deal.amount_minor),
}
STATUSES = tuple(DealStatus)


# Reading


def reads(work: Work, deals: Sequence[Deal]) -> list[DealRead]:
    """Read models for many deals with four lookups, not four per deal."""

    def names(model: Any, column: Any, ids: set[int]) -> dict[int, Any]:
        if not ids:
            return {}
        return dict(work.session.execute(select(model.id, column).where(model.id.in_(ids))).all())

    customers = names(Customer, col(Customer.name), {deal.customer_id for deal in deals})
    owners = names(User, col(User.username), {deal.owner_id for deal in deals if deal.owner_id})
    pipeline_names = names(Pipeline, col(Pipeline.name), {deal.pipeline_id for deal in deals})
    stage_ids = {deal.stage_id for deal in deals}
    stages = {
        stage.id: stage
        for stage in work.session.execute(select(Stage).where(col(Stage.id).in_(stage_ids))).scalars()
    }
    return [
        _read(
            deal,
            customers[deal.customer_id],
            stages[deal.stage_id],
            pipeline_names[deal.pipeline_id],
            owners.get(deal.owner_id or 0),
        )
        for deal in deals
    ]


def _read(deal: Deal, customer_name: str, stage: Stage, pipeline: str, owner: str | None) -> DealRead:
    return DealRead(
        id=deal.id,
        ref=ref("deal", deal.id),
        title=deal.title,
        customer=ref("customer", deal.customer_id),
        customer_name=customer_name,
        contact=ref("contact", deal.contact_id) if deal.contact_id else None,
        amount_minor=deal.amount_minor,
        amount=str(money.as_decimal(deal.amount_minor, deal.currency)),
        currency=deal.currency,
        pipeline=pipeline,
        stage=stage.name,
        probability=stage.probability,
        weighted_minor=weighted(deal.amount_minor, stage.probability),
        status=deal.status,
        owner=owner,
        expected_close=deal.expected_close,
        closed_at=deal.closed_at,
        lost_reason=deal.lost_reason,
        source=deal.source,
        custom=dict(deal.custom or {}),
        created_at=deal.created_at,
        updated_at=deal.updated_at,
        archived_at=deal.archived_at,
        version=deal.version,
    )


def weighted(amount_minor: int, probability: int) -> int:
    """The probability-weighted amount, rounded half up to the minor unit."""
    return (2 * amount_minor * probability + 100) // 200


def read_one(work: Work, deal: Deal) -> DealRead:
    return reads(work, [deal])[0]


def get_deal(crm: Crm, reference: str | int) -> DealRead:
    with crm.work() as work:
        return read_one(work, fetch(work, Deal, "deal", reference))


def deal_detail(crm: Crm, reference: str | int) -> DealDetail:
    """A deal with its stage history (oldest first) and its orders."""
    with crm.work() as work:
        deal = fetch(work, Deal, "deal", reference)
        return DealDetail(
            deal=read_one(work, deal),
            history=stage_history(work, deal.id),
            orders=_orders_of(work, deal.id),
        )


def _orders_of(work: Work, deal_id: int) -> list[str]:
    ids = work.session.execute(
        select(col(Order.id)).where(col(Order.deal_id) == deal_id).order_by(col(Order.id))
    ).scalars()
    return [ref("order", order_id) for order_id in ids]


# Creating and editing


def _contact_of(work: Work, customer: Customer, reference: str | int | None) -> int | None:
    if reference is None or not str(reference).strip():
        return None
    contact = fetch(work, Contact, "contact", reference)
    if contact.customer_id != customer.id:
        raise Invalid(f"{ref('contact', contact.id)} is not a contact of {ref('customer', customer.id)}")
    return contact.id


def _active_customer(work: Work, reference: str | int) -> Customer:
    customer = fetch(work, Customer, "customer", reference)
    if customer.archived_at is not None:
        raise Invalid(f"{ref('customer', customer.id)} is archived; restore it to sell to it")
    return customer


def create_in(work: Work, data: DealCreate) -> DealRead:
    """Open a deal inside ``work``: in the first open stage of the (default) pipeline
    unless a stage is named; owned by the actor unless an owner is named."""
    work.require("deals.write")
    customer = _active_customer(work, data.customer)
    code = money.currency(data.currency or work.crm.settings.default_currency)
    pipeline = pipelines.find_pipeline(work, data.pipeline)
    if data.stage:
        stage = pipelines.find_stage(work, pipeline, data.stage)
        if stage.kind != "open":
            raise Invalid(f"a new deal starts in an open stage, not {stage.name}; win or lose it afterwards")
    else:
        stage = pipelines.first_of_kind(work, pipeline.id, "open")
    owner = users.find_active(work, data.owner, "owner") if data.owner else work.actor
    deal = Deal(
        customer_id=customer.id,
        contact_id=_contact_of(work, customer, data.contact),
        title=clean_text(data.title, "title", required=True),
        amount_minor=money.to_minor(data.amount if data.amount is not None else 0, code),
        currency=code,
        pipeline_id=pipeline.id,
        stage_id=stage.id,
        status="open",
        owner_id=owner.id,
        expected_close=data.expected_close,
        source=clean_text(data.source, "source", limit=120),
        custom=merged_custom({}, data.custom or {}),
    )
    work.session.add(deal)
    work.session.flush()
    record_move(work, deal, None, stage)
    work.session.flush()
    created = read_one(work, deal)
    fields = created.model_dump(
        include={
            "title",
            "customer",
            "contact",
            "amount",
            "currency",
            "pipeline",
            "stage",
            "owner",
            "expected_close",
            "source",
            "custom",
        }
    )
    work.audit(
        "deal",
        deal.id,
        "create",
        audit.diff({}, {k: v for k, v in fields.items() if v is not None and v != {}}),
    )
    return created


def add_deal(crm: Crm, data: DealCreate) -> DealRead:
    """Open a deal for a customer."""
    with crm.work("deals.write") as work:
        return create_in(work, data)


def _editable(work: Work, reference: str | int, expected_version: int | None) -> Deal:
    deal = fetch(work, Deal, "deal", reference, for_update=True)
    check_version(work, "deal", deal, expected_version)
    if deal.archived_at is not None:
        raise Invalid(f"{ref('deal', deal.id)} is archived; restore it first")
    return deal


def update_deal(
    crm: Crm, reference: str | int, data: DealUpdate, *, expected_version: int | None = None
) -> DealRead:
    """Change the fields given. A new currency alone re-expresses the same amount in it,
    which fails when the amount has more decimals than the new currency allows."""
    with crm.work("deals.write") as work:
        deal = _editable(work, reference, expected_version)
        given = data.model_dump(exclude_unset=True)
        if not given:
            raise Invalid("nothing to change: give at least one field")
        before = read_one(work, deal)
        if "title" in given:
            deal.title = clean_text(given["title"], "title", required=True)
        if "currency" in given or "amount" in given:
            code = money.currency(given["currency"]) if given.get("currency") else deal.currency
            amount = given.get("amount")
            if amount is None:
                amount = money.as_decimal(deal.amount_minor, deal.currency)
            deal.amount_minor, deal.currency = money.to_minor(amount, code), code
        if "contact" in given:
            deal.contact_id = _contact_of(
                work, work.session.get_one(Customer, deal.customer_id), given["contact"]
            )
        if "owner" in given:
            deal.owner_id = users.find_active(work, given["owner"], "owner").id if given["owner"] else None
        if "expected_close" in given:
            deal.expected_close = given["expected_close"]
        if "source" in given:
            deal.source = clean_text(given["source"], "source", limit=120)
        if "custom" in given:
            deal.custom = merged_custom(deal.custom or {}, given["custom"] or {})
        deal.updated_at = utcnow()
        work.session.flush()
        after = read_one(work, deal)
        work.audit(
            "deal",
            deal.id,
            "update",
            audit.diff(before.model_dump(), after.model_dump(exclude={"updated_at", "version"})),
        )
        return after


# Moving, winning, losing


def move_deal(crm: Crm, reference: str | int, stage: str, *, expected_version: int | None = None) -> DealRead:
    """Move an open deal to another open stage of its pipeline."""
    with crm.work("deals.write") as work:
        deal = _editable(work, reference, expected_version)
        name = ref("deal", deal.id)
        if deal.status != "open":
            raise Invalid(f"{name} is {deal.status}; reopen it to move it")
        target = stage_named(work, deal, stage)
        if target.kind != "open":
            verb = "win" if target.kind == "won" else "lose"
            raise Invalid(f"{target.name} closes the deal: use `crm deal {verb} {name}`")
        source = work.session.get_one(Stage, deal.stage_id)
        if target.id == source.id:
            raise Invalid(f"{name} is already in {target.name}")
        record_move(work, deal, source, target)
        work.session.flush()
        work.audit("deal", deal.id, "move", {"stage": [source.name, target.name]})
        return read_one(work, deal)


def open_steps(status: str) -> frozenset[str]:
    """What can be done to a deal in ``status`` beyond editing and archiving: an open
    deal is moved, won or lost; a closed one reopened, and a won one made an order."""
    if status == "open":
        return frozenset({"move", "win", "lose"})
    return frozenset({"reopen", "order"} if status == "won" else {"reopen"})


def win_deal(
    crm: Crm,
    reference: str | int,
    *,
    create_order: bool = False,
    expected_version: int | None = None,
) -> tuple[DealRead, OrderRead | None]:
    """Win an open deal; with ``create_order`` a draft order for its amount comes with it."""
    from crm_tui.logic.sales import orders

    with crm.work("deals.write") as work:
        deal = _editable(work, reference, expected_version)
        close_deal(work, deal, "won", None)
        order = None
        if create_order:
            work.require("orders.write")
            order = orders.order_from_deal(work, deal)
        return read_one(work, deal), order


def lose_deal(
    crm: Crm, reference: str | int, reason: str, *, expected_version: int | None = None
) -> DealRead:
    """Lose an open deal; the reason is required, for the team to learn from."""
    with crm.work("deals.write") as work:
        deal = _editable(work, reference, expected_version)
        why = clean_text(reason, "lost reason", limit=500, multiline=True)
        if not why:
            raise Invalid(f"say why {ref('deal', deal.id)} was lost: a lost reason is required")
        close_deal(work, deal, "lost", why)
        return read_one(work, deal)


def reopen_deal(
    crm: Crm, reference: str | int, stage: str | None = None, *, expected_version: int | None = None
) -> DealRead:
    """Reopen a won or lost deal, into ``stage`` or the last open stage it was in."""
    with crm.work("deals.write") as work:
        deal = _editable(work, reference, expected_version)
        name = ref("deal", deal.id)
        if deal.status == "open":
            raise Invalid(f"{name} is already open")
        if stage:
            target = stage_named(work, deal, stage)
            if target.kind != "open":
                raise Invalid(f"a reopened deal goes to an open stage, not {target.name}")
        else:
            target = last_open_stage(work, deal)
        source = work.session.get_one(Stage, deal.stage_id)
        before = {
            "status": deal.status,
            "closed_at": audit.plain(deal.closed_at),
            "lost_reason": deal.lost_reason,
        }
        record_move(work, deal, source, target)
        deal.closed_at = None
        deal.lost_reason = None
        work.session.flush()
        work.audit(
            "deal",
            deal.id,
            "reopen",
            {
                "stage": [source.name, target.name],
                **audit.diff(before, {"status": "open", "closed_at": None, "lost_reason": None}),
            },
        )
        return read_one(work, deal)


def _set_archived(crm: Crm, reference: str | int, archived: bool) -> DealRead:
    with crm.work("deals.write") as work:
        deal = fetch(work, Deal, "deal", reference, for_update=True)
        set_archived(work, "deal", deal, archived)
        return read_one(work, deal)


def archive_deal(crm: Crm, reference: str | int) -> DealRead:
    """Archive a deal: out of lists, boards and figures, kept with its history."""
    return _set_archived(crm, reference, True)


def restore_deal(crm: Crm, reference: str | int) -> DealRead:
    return _set_archived(crm, reference, False)


# Lists


def deals_to_order(crm: Crm, *, text: str | None = None, limit: int = 50) -> list[DealRead]:
    """Won deals that can become an order (none of theirs counts yet), the latest first;
    ``text``: only those whose title contains it."""
    from crm_tui.logic.sales.orders import counted_orders

    with crm.work() as work:
        query = select(Deal).where(
            col(Deal.status) == "won",
            col(Deal.archived_at).is_(None),
            ~counted_orders(col(Deal.id)).exists(),
        )
        if text and text.strip():
            query = query.where(func.lower(col(Deal.title)).contains(text.strip().lower(), autoescape=True))
        query = query.order_by(col(Deal.closed_at).desc(), col(Deal.id).desc()).limit(limit)
        return reads(work, list(work.session.execute(query).scalars()))


def list_deals(
    crm: Crm,
    *,
    status: str | None = None,
    pipeline: str | None = None,
    stage: str | None = None,
    owner: str | None = None,
    customer: str | int | None = None,
    text: str | None = None,
    archived: str = "active",
    sort: str = "updated",
    descending: bool = True,
    limit: int = 50,
    after: str | int | None = None,
) -> DealPage:
    """One keyset page of deals matching every filter given (newest change first by default)."""
    if sort not in SORTS:
        raise Invalid(f"sort by {', '.join(SORTS)}, not {sort!r}")
    if status is not None and status not in STATUSES:
        raise Invalid(f"status is open, won or lost, not {status!r}")
    with crm.work() as work:
        query = select(Deal)
        if archived == "active":
            query = query.where(col(Deal.archived_at).is_(None))
        elif archived == "archived":
            query = query.where(col(Deal.archived_at).is_not(None))
        if status:
            query = query.where(col(Deal.status) == status)
        if pipeline or stage:
            found = pipelines.find_pipeline(work, pipeline)
            query = query.where(col(Deal.pipeline_id) == found.id)
            if stage:
                query = query.where(col(Deal.stage_id) == pipelines.find_stage(work, found, stage).id)
        if owner:
            query = query.where(col(Deal.owner_id) == users.find(work, owner).id)
        if customer is not None:
            query = query.where(col(Deal.customer_id) == fetch(work, Customer, "customer", customer).id)
        if text and text.strip():
            query = query.where(func.lower(col(Deal.title)).contains(text.strip().lower(), autoescape=True))
        column = SORTS[sort]
        if after is not None:
            anchor = fetch(work, Deal, "deal", after)
            key, mark = tuple_(column, col(Deal.id)), tuple_(getattr(anchor, column.key), anchor.id)
            query = query.where(key < mark if descending else key > mark)
        order = (column.desc(), col(Deal.id).desc()) if descending else (column, col(Deal.id))
        rows = list(work.session.execute(query.order_by(*order).limit(limit + 1)).scalars())
        more = len(rows) > limit
        rows = rows[:limit]
        return DealPage(deals=reads(work, rows), next_after=ref("deal", rows[-1].id) if more else None)
