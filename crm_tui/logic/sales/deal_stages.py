"""A deal's way through its pipeline: the stage it is in, every move kept, and closing.

Every change of stage is kept (``deal_stage_changes``) with its time and actor, so that
cycle times and stage conversion can be measured. A deal moves only between the stages
of its own pipeline; winning and losing put it in its pipeline's first won or lost
stage, and only an open deal can be won or lost.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import Invalid, NotFound
from crm_tui.logic.core.refs import ref
from crm_tui.logic.sales import pipelines
from crm_tui.logic.sales.schemas import StageChangeRead
from crm_tui.logic.values import money
from crm_tui.storage.models import Activity, Deal, DealStageChange, Pipeline, Stage, User
from crm_tui.storage.types import utcnow


def record_move(work: Work, deal: Deal, source: Stage | None, target: Stage) -> None:
    """Put the deal in ``target`` and keep the move in its history, with the facts stage
    conversion counts (``storage/sales_facts.py``): whether this is the deal's first
    entry into ``target``, and, unless ``target`` is a lost stage, that the deal advanced
    from every stage with a lower position it first entered before."""
    deal.stage_id = target.id
    deal.status = target.kind
    deal.updated_at = utcnow()
    history = col(DealStageChange.deal_id) == deal.id
    entered_before = work.session.execute(
        select(col(DealStageChange.id)).where(history, col(DealStageChange.to_stage_id) == target.id).limit(1)
    ).first()
    pipelines.mark_advanced(work, history, target)
    work.session.add(
        DealStageChange(
            deal_id=deal.id,
            from_stage_id=source.id if source else None,
            to_stage_id=target.id,
            actor_id=work.actor.id,
            at=deal.updated_at,
            first_entry=entered_before is None,
        )
    )


def stage_history(work: Work, deal_id: int) -> list[StageChangeRead]:
    """The deal's moves, oldest first."""
    stage_names = dict(
        work.session.execute(
            select(col(Stage.id), col(Stage.name))
            .join(Deal, col(Deal.pipeline_id) == col(Stage.pipeline_id))
            .where(col(Deal.id) == deal_id)
        ).all()
    )
    rows = work.session.execute(
        select(DealStageChange, col(User.username))
        .outerjoin(User, col(User.id) == col(DealStageChange.actor_id))
        .where(col(DealStageChange.deal_id) == deal_id)
        .order_by(col(DealStageChange.at), col(DealStageChange.id))
    ).all()
    return [
        StageChangeRead(
            at=change.at,
            from_stage=stage_names.get(change.from_stage_id) if change.from_stage_id else None,
            to_stage=stage_names[change.to_stage_id],
            actor=username,
        )
        for change, username in rows
    ]


def stage_named(work: Work, deal: Deal, name: str) -> Stage:
    """The stage of the deal's pipeline called ``name``; a stage of another pipeline is
    named as such, since deals stay in their pipeline."""
    pipeline = work.session.get_one(Pipeline, deal.pipeline_id)
    try:
        return pipelines.find_stage(work, pipeline, name)
    except NotFound:
        elsewhere = work.session.execute(
            select(col(Pipeline.name))
            .join(Stage, col(Stage.pipeline_id) == col(Pipeline.id))
            .where(func.lower(col(Stage.name)) == func.lower(name.strip()), col(Stage.removed_at).is_(None))
            .limit(1)
        ).scalar_one_or_none()
        if elsewhere:
            raise Invalid(
                f"stage {name} belongs to pipeline {elsewhere}; "
                f"{ref('deal', deal.id)} is in pipeline {pipeline.name}"
            ) from None
        raise


def last_open_stage(work: Work, deal: Deal) -> Stage:
    """The open stage the deal was last in (if it still exists), else the first one."""
    rows = work.session.execute(
        select(Stage)
        .join(DealStageChange, col(DealStageChange.to_stage_id) == col(Stage.id))
        .where(
            col(DealStageChange.deal_id) == deal.id,
            col(Stage.kind) == "open",
            col(Stage.removed_at).is_(None),
        )
        .order_by(col(DealStageChange.at).desc(), col(DealStageChange.id).desc())
        .limit(1)
    ).scalar_one_or_none()
    return rows or pipelines.first_of_kind(work, deal.pipeline_id, "open")


def close_deal(work: Work, deal: Deal, kind: str, reason: str | None) -> Stage:
    """Win (``kind`` "won") or lose an open deal: it moves to its pipeline's first stage
    of that kind, and the customer's timeline and the audit trail say so."""
    name = ref("deal", deal.id)
    if deal.status != "open":
        raise Invalid(
            f"{name} is already {deal.status}"
            if deal.status == kind
            else f"{name} is {deal.status}; reopen it first"
        )
    source = work.session.get_one(Stage, deal.stage_id)
    target = pipelines.first_of_kind(work, deal.pipeline_id, kind)
    # As they were, not assumed empty: the trail says what closing replaced, for an undo.
    before = {"closed_at": deal.closed_at, "lost_reason": deal.lost_reason}
    record_move(work, deal, source, target)
    deal.closed_at = deal.updated_at
    deal.lost_reason = reason
    amount = money.format_amount(deal.amount_minor, deal.currency)
    text = f"{'Won' if kind == 'won' else 'Lost'} {name} {deal.title} ({amount})" + (
        f": {reason}" if reason else ""
    )
    work.session.add(
        Activity(
            customer_id=deal.customer_id,
            deal_id=deal.id,
            kind="system",
            body=text,
            author_id=work.actor.id,
        )
    )
    work.session.flush()
    changes = {
        "stage": [source.name, target.name],
        "status": ["open", kind],
        **audit.diff(before, {"closed_at": deal.closed_at, "lost_reason": deal.lost_reason}),
    }
    work.audit("deal", deal.id, "win" if kind == "won" else "lose", changes)
    return target
