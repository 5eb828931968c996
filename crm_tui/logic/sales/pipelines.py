"""Pipelines and their stages: the road a deal travels, configurable by managers.

A pipeline always keeps at least one open, one won and one lost stage, so that every
deal can move on, be won or be lost. A stage that holds deals keeps its kind and can
only be removed by moving its deals to another stage of the same kind. A removed stage
is kept out of sight, not deleted: the history of the deals that passed through it
still names it, and the conversion figures are computed from that history.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, cast, func, select, update
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Duplicate, Invalid, NotFound, quoted
from crm_tui.logic.core.vocabulary import StageKind
from crm_tui.logic.sales.schemas import PipelineRead, StageRead
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import Deal, DealStageChange, Pipeline, Stage
from crm_tui.storage.types import utcnow

KINDS = tuple(StageKind)
DEFAULT_STAGES = [
    ("Lead", 10, "open"),
    ("Qualified", 25, "open"),
    ("Proposal", 50, "open"),
    ("Negotiation", 75, "open"),
    ("Won", 100, "won"),
    ("Lost", 0, "lost"),
]


def find_pipeline(work: Work, name: str | None) -> Pipeline:
    """The pipeline called ``name`` (any case), or the default one when None."""
    query = select(Pipeline)
    if name is None or not name.strip():
        query = query.where(col(Pipeline.is_default))
    else:
        query = query.where(func.lower(col(Pipeline.name)) == func.lower(name.strip()))
    found = work.session.execute(query.limit(1)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no pipeline {quoted(name)}" if name else "there is no default pipeline")
    return found


def stages_of(work: Work, pipeline_id: int) -> list[Stage]:
    """A pipeline's stages in order."""
    return list(
        work.session.execute(
            select(Stage)
            .where(col(Stage.pipeline_id) == pipeline_id, col(Stage.removed_at).is_(None))
            .order_by(col(Stage.position), col(Stage.id))
        ).scalars()
    )


def find_stage(work: Work, pipeline: Pipeline, name: str) -> Stage:
    """The stage of ``pipeline`` called ``name`` (any case)."""
    wanted = name.strip().lower()
    for stage in stages_of(work, pipeline.id):
        if stage.name.lower() == wanted:
            return stage
    raise NotFound(f"pipeline {pipeline.name} has no stage {quoted(name)}")


def first_of_kind(work: Work, pipeline_id: int, kind: str) -> Stage:
    for stage in stages_of(work, pipeline_id):
        if stage.kind == kind:
            return stage
    raise Invalid(f"the pipeline has no {kind} stage")


def read(work: Work, pipeline: Pipeline) -> PipelineRead:
    counts = dict(
        work.session.execute(
            select(col(Deal.stage_id), func.count())
            .where(col(Deal.pipeline_id) == pipeline.id, col(Deal.archived_at).is_(None))
            .group_by(col(Deal.stage_id))
        ).all()
    )
    return PipelineRead(
        id=pipeline.id,
        name=pipeline.name,
        is_default=pipeline.is_default,
        version=pipeline.version,
        stages=[
            StageRead(
                id=stage.id,
                name=stage.name,
                position=stage.position,
                probability=stage.probability,
                kind=stage.kind,
                deals=counts.get(stage.id, 0),
            )
            for stage in stages_of(work, pipeline.id)
        ],
    )


def list_pipelines(crm: Crm) -> list[PipelineRead]:
    with crm.work() as work:
        pipelines = work.session.execute(select(Pipeline).order_by(col(Pipeline.name))).scalars()
        return [read(work, pipeline) for pipeline in pipelines]


def get_pipeline(crm: Crm, name: str | None = None) -> PipelineRead:
    with crm.work() as work:
        return read(work, find_pipeline(work, name))


def _clean_name(name: str) -> str:
    return clean_text(name, "name", required=True, limit=80)


def _probability(value: int | None) -> int:
    if value is None:
        return 0
    if not 0 <= value <= 100:
        raise Invalid("probability must be between 0 and 100 percent")
    return value


def add_pipeline(crm: Crm, name: str) -> PipelineRead:
    """A new pipeline with the usual stages, ready to adjust."""
    with crm.work("pipelines.manage") as work:
        name = _clean_name(name)
        exists = work.session.execute(
            # The database's lower() on both sides: SQLite's folds ASCII only, and a name it
            # does not fold as Python would must still be found, not inserted twice.
            select(col(Pipeline.id)).where(func.lower(col(Pipeline.name)) == func.lower(name))
        ).first()
        if exists:
            raise Duplicate(f"there is already a pipeline {name!r}")
        pipeline = Pipeline(name=name)
        work.session.add(pipeline)
        work.session.flush()
        for position, (stage_name, probability, kind) in enumerate(DEFAULT_STAGES, start=1):
            work.session.add(
                Stage(
                    pipeline_id=pipeline.id,
                    name=stage_name,
                    position=position,
                    probability=probability,
                    kind=kind,
                )
            )
        work.session.flush()
        work.audit("pipeline", pipeline.id, "create", {"name": [None, name]})
        return read(work, pipeline)


def set_default(crm: Crm, name: str) -> PipelineRead:
    """Make a pipeline the one new deals go into unless told otherwise."""
    with crm.work("pipelines.manage") as work:
        chosen = find_pipeline(work, name)
        previous = find_pipeline(work, None)
        if previous.id != chosen.id:
            previous.is_default = False
            work.session.flush()
            chosen.is_default = True
            work.audit("pipeline", chosen.id, "make_default", {"is_default": [False, True]})
        return read(work, chosen)


def add_stage(
    crm: Crm, pipeline: str | None, name: str, *, probability: int | None = None,
    kind: str = "open", position: int | None = None,
) -> PipelineRead:  # fmt: skip
    """Add a stage at ``position`` (1 is first; default: before the first closed stage)."""
    with crm.work("pipelines.manage") as work:
        found = find_pipeline(work, pipeline)
        name = _clean_name(name)
        if kind not in KINDS:
            raise Invalid(f"a stage is open, won or lost, not {kind!r}")
        stages = stages_of(work, found.id)
        if any(stage.name.lower() == name.lower() for stage in stages):
            raise Duplicate(f"pipeline {found.name} already has a stage {name!r}")
        if position is None:
            closed = [i for i, stage in enumerate(stages) if stage.kind != "open"]
            index = closed[0] if closed and kind == "open" else len(stages)
        else:
            index = min(max(position, 1), len(stages) + 1) - 1
        stage = Stage(
            pipeline_id=found.id,
            name=name,
            position=0,
            probability=_probability(probability),
            kind=kind,
        )
        work.session.add(stage)
        stages.insert(index, stage)
        _renumber(work, stages)
        work.audit(
            "stage",
            stage.id,
            "create",
            {"pipeline": [None, found.name], "name": [None, name], "kind": [None, kind]},
        )
        return read(work, found)


def _renumber(work: Work, stages: list[Stage]) -> None:
    for position, stage in enumerate(stages, start=1):
        stage.position = position
    work.session.flush()


def change_stage(
    crm: Crm, pipeline: str | None, stage: str, *, name: str | None = None,
    probability: int | None = None, kind: str | None = None, position: int | None = None,
) -> PipelineRead:  # fmt: skip
    """Rename a stage, set its probability or kind, or move it to another position."""
    with crm.work("pipelines.manage") as work:
        found = find_pipeline(work, pipeline)
        target = find_stage(work, found, stage)
        stages = stages_of(work, found.id)
        before = {
            "name": target.name,
            "probability": target.probability,
            "kind": target.kind,
            "position": target.position,
        }
        if name is not None:
            name = _clean_name(name)
            if any(other.name.lower() == name.lower() and other.id != target.id for other in stages):
                raise Duplicate(f"pipeline {found.name} already has a stage {name!r}")
            target.name = name
        if probability is not None:
            target.probability = _probability(probability)
        if kind is not None and kind != target.kind:
            if kind not in KINDS:
                raise Invalid(f"a stage is open, won or lost, not {kind!r}")
            if _deals_in(work, target.id):
                raise Invalid(f"stage {target.name} holds deals; move them before changing its kind")
            target.kind = kind
            _require_every_kind(found, stages)
        if position is not None:
            stages.remove(target)
            stages.insert(min(max(position, 1), len(stages) + 1) - 1, target)
            _renumber(work, stages)
        work.session.flush()
        after = {
            "name": target.name,
            "probability": target.probability,
            "kind": target.kind,
            "position": target.position,
        }
        work.audit("stage", target.id, "update", audit.diff(before, after))
        return read(work, found)


def _deals_in(work: Work, stage_id: int) -> int:
    return work.session.execute(
        select(func.count()).select_from(Deal).where(col(Deal.stage_id) == stage_id)
    ).scalar_one()


def _require_every_kind(pipeline: Pipeline, stages: list[Stage]) -> None:
    missing = [kind for kind in KINDS if not any(stage.kind == kind for stage in stages)]
    if missing:
        raise Invalid(f"pipeline {pipeline.name} needs at least one {' and one '.join(missing)} stage")


def remove_stage(crm: Crm, pipeline: str | None, stage: str, *, move_to: str | None = None) -> PipelineRead:
    """Remove a stage; its deals (archived ones too) must move to a stage of the same kind."""
    with crm.work("pipelines.manage") as work:
        found = find_pipeline(work, pipeline)
        target = find_stage(work, found, stage)
        stages = [other for other in stages_of(work, found.id) if other.id != target.id]
        _require_every_kind(found, stages)
        held = _deals_in(work, target.id)
        moved_to = None
        if held:
            if move_to is None:
                raise Invalid(f"stage {target.name} holds {held} deal(s); say which stage they move to")
            moved_to = find_stage(work, found, move_to)
            if moved_to.id == target.id or moved_to.kind != target.kind:
                raise Invalid(f"deals of stage {target.name} can only move to another {target.kind} stage")
            _move_all(work, target, moved_to)
        target.removed_at = utcnow()
        _renumber(work, stages)
        changes = {"name": [target.name, None]}
        if moved_to is not None:
            changes["deals_moved_to"] = [None, moved_to.name]
        work.audit("stage", target.id, "remove", changes)
        return read(work, found)


def mark_advanced(work: Work, history: ColumnElement[bool], target: Stage) -> None:
    """Deals entering ``target`` advanced from every stage of lower position they first
    entered before, unless ``target`` is a lost stage (the ``advanced`` fact of
    ``storage/sales_facts.py``); ``history`` picks the deals' stage changes."""
    if target.kind == "lost":
        return
    earlier = select(col(Stage.id)).where(
        col(Stage.pipeline_id) == target.pipeline_id, col(Stage.position) < target.position
    )
    # First entries compared through a cast, which no index serves: SQLite would
    # otherwise enter ix_stage_changes_first_entry and walk every first entry of the
    # earlier stages (0.1 s a move at 750,000 deals) instead of the deals' own history
    # in ix_stage_changes_deal, a few rows each.
    first_entry = cast(col(DealStageChange.first_entry), Integer) == 1
    work.session.execute(
        update(DealStageChange)
        .where(history, first_entry, ~col(DealStageChange.advanced))
        .where(col(DealStageChange.to_stage_id).in_(earlier))
        .values(advanced=True),
        execution_options={"synchronize_session": False},
    )


def _move_all(work: Work, source: Stage, target: Stage) -> None:
    """Move every deal of ``source`` to ``target``, each move kept in the history with
    the facts stage conversion counts, as ``deal_stages.record_move`` keeps them."""
    moving = select(col(Deal.id)).where(col(Deal.stage_id) == source.id)
    deal_ids = list(work.session.execute(moving).scalars())
    entered_before = set(
        work.session.execute(
            select(col(DealStageChange.deal_id))
            .where(col(DealStageChange.to_stage_id) == target.id, col(DealStageChange.deal_id).in_(moving))
            .distinct()
        ).scalars()
    )
    mark_advanced(work, col(DealStageChange.deal_id).in_(moving), target)
    for deal_id in deal_ids:
        work.session.add(
            DealStageChange(
                deal_id=deal_id,
                from_stage_id=source.id,
                to_stage_id=target.id,
                actor_id=work.actor.id,
                first_entry=deal_id not in entered_before,
            )
        )
        work.audit("deal", deal_id, "move", {"stage": [source.name, target.name]})
    work.session.execute(
        update(Deal)
        .where(col(Deal.id).in_(deal_ids))
        .values(stage_id=target.id, version=col(Deal.version) + 1),
        execution_options={"synchronize_session": False},
    )
    work.session.flush()
