"""`crm pipeline ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import MAX_NUMBER, crm
from crm_tui.logic.core.vocabulary import StageKind

app = typer.Typer(no_args_is_help=True, add_completion=False)
stage_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Add, change and remove stages.")
app.add_typer(stage_app, name="stage")

STAGES = [
    ("position", "#"),
    ("name", "Stage"),
    ("kind", "Kind"),
    ("probability", "Probability %"),
    ("deals", "Deals"),
]
Pipeline = Annotated[str | None, typer.Option("--pipeline", "-p", help="Pipeline; default: the default one.")]
StageName = Annotated[str, typer.Argument(help="Stage name.", show_default=False)]


def _show(pipeline, fmt: Format) -> None:
    if fmt == Format.table:
        marker = " (default)" if pipeline.is_default else ""
        output.print_records(pipeline.stages, fmt, STAGES, f"{pipeline.name}{marker}")
    else:
        output.print_record(pipeline, fmt)


@app.command("list")
def list_(ctx: typer.Context, fmt: Format = FormatOption) -> None:
    """List pipelines with their stages."""
    from crm_tui.logic.sales.pipelines import list_pipelines

    found = list_pipelines(crm(ctx))
    if fmt == Format.table:
        for pipeline in found:
            _show(pipeline, fmt)
    else:
        output.print_records(found, fmt, [])


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Pipeline; default: the default one.")] = None,
    fmt: Format = FormatOption,
) -> None:
    """Show a pipeline's stages, probabilities and deal counts."""
    from crm_tui.logic.sales.pipelines import get_pipeline

    _show(get_pipeline(crm(ctx), name), fmt)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(show_default=False)],
    fmt: Format = FormatOption,
) -> None:
    """Add a pipeline with the usual stages (managers and admins)."""
    from crm_tui.logic.sales.pipelines import add_pipeline

    _show(add_pipeline(crm(ctx), name), fmt)


@app.command("default")
def default(ctx: typer.Context, name: Annotated[str, typer.Argument(show_default=False)]) -> None:
    """Make a pipeline the default for new deals."""
    from crm_tui.logic.sales.pipelines import set_default

    output.say(f"New deals go into {set_default(crm(ctx), name).name}")


@stage_app.command("add")
def stage_add(
    ctx: typer.Context,
    name: StageName,
    pipeline: Pipeline = None,
    probability: Annotated[int | None, typer.Option(min=0, max=100, help="Win probability, percent.")] = None,
    kind: Annotated[StageKind, typer.Option(help="open, won or lost.")] = StageKind.open,
    position: Annotated[
        int | None, typer.Option(min=1, max=MAX_NUMBER, help="1 is first; default: after the open stages.")
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Add a stage."""
    from crm_tui.logic.sales.pipelines import add_stage

    _show(
        add_stage(crm(ctx), pipeline, name, probability=probability, kind=kind, position=position),
        fmt,
    )


@stage_app.command("set")
def stage_set(
    ctx: typer.Context,
    name: StageName,
    pipeline: Pipeline = None,
    rename: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    probability: Annotated[int | None, typer.Option(min=0, max=100, help="Win probability, percent.")] = None,
    kind: Annotated[StageKind | None, typer.Option(help="open, won or lost.")] = None,
    position: Annotated[
        int | None, typer.Option(min=1, max=MAX_NUMBER, help="Move it to this place; 1 is first.")
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Rename a stage, set its probability or kind, or move it."""
    from crm_tui.logic.sales.pipelines import change_stage

    changed = change_stage(
        crm(ctx), pipeline, name, name=rename, probability=probability, kind=kind, position=position
    )
    _show(changed, fmt)


@stage_app.command("remove")
def stage_remove(
    ctx: typer.Context,
    name: StageName,
    pipeline: Pipeline = None,
    move_to: Annotated[str | None, typer.Option("--move-to", help="Stage that takes its deals.")] = None,
    fmt: Format = FormatOption,
) -> None:
    """Remove a stage; deals in it must be moved to another stage of the same kind."""
    from crm_tui.logic.sales.pipelines import remove_stage

    _show(remove_stage(crm(ctx), pipeline, name, move_to=move_to), fmt)
