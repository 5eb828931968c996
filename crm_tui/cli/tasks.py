"""`crm task ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.batch import add_from
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import Limit, crm, page_size, refuse_mixed
from crm_tui.logic.core.vocabulary import TaskScope

app = typer.Typer(no_args_is_help=True, add_completion=False)

COLUMNS = [
    ("ref", "Ref"),
    ("due", "Due"),
    ("title", "Task"),
    ("customer", "Customer"),
    ("customer_name", "Customer name"),
    ("assignee", "Assignee"),
    ("overdue", "Overdue"),
    ("done", "Done"),
]
Ref = Annotated[str, typer.Argument(help="Task reference, like K-3.", show_default=False)]


@app.command("add")
def add(
    ctx: typer.Context,
    title: Annotated[str | None, typer.Argument(help="What to do.")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="About this customer (C-12).")
    ] = None,
    due: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD, today, tomorrow, +3d, +2w or a weekday.")
    ] = None,
    assignee: Annotated[str | None, typer.Option("--assignee", "-a", help="Username; default you.")] = None,
    notes: Annotated[str, typer.Option(help="Details.")] = "",
    from_file: Annotated[
        str | None,
        typer.Option("--from", help='JSON Lines (- for stdin), each with at least "title".'),
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Plan a follow-up task."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.customers import tasks
    from crm_tui.logic.customers.schemas import TaskCreate
    from crm_tui.logic.values.dates import parse_relative_day

    if from_file is not None:
        refuse_mixed(from_file, title=title, customer=customer, due=due, assignee=assignee, notes=notes)
        add_from(ctx, from_file, "task", fmt, COLUMNS)
        return
    if title is None:
        raise typer.BadParameter("give a TITLE, or --from FILE", param_hint="TITLE")
    data = validated(
        TaskCreate,
        {"title": title, "customer": customer, "assignee": assignee, "notes": notes,
         "due": parse_relative_day(due) if due else None},
    )  # fmt: skip
    created = tasks.add_task(crm(ctx), data)
    if fmt == Format.table:
        when = f", due {created.due}" if created.due else ""
        output.console().print(
            f"Added {created.ref} for {created.assignee}{when}: {created.title}", markup=False
        )
    else:
        output.print_record(created, fmt, COLUMNS)


@app.command("list")
def list_(
    ctx: typer.Context,
    scope: Annotated[
        TaskScope,
        typer.Argument(help="open, today, overdue, week (due within 7 days), done or all."),
    ] = TaskScope.open,
    assignee: Annotated[
        str, typer.Option("--assignee", "-a", help="Whose tasks: me, a username, or all.")
    ] = "me",
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Only tasks about this customer.")
    ] = None,
    limit: Limit = None,
    fmt: Format = FormatOption,
) -> None:
    """List tasks by due date; yours and open unless asked otherwise."""
    from crm_tui.logic.customers import tasks

    who = None if assignee.lower() == "all" else assignee
    found = tasks.list_tasks(
        crm(ctx), assignee=who, scope=scope, customer=customer, limit=page_size(ctx, limit)
    )
    output.print_records(found, fmt, COLUMNS)
    if not found and fmt == Format.table:
        output.say("No tasks.")


@app.command("show")
def show(ctx: typer.Context, task: Ref, fmt: Format = FormatOption) -> None:
    """Show a task."""
    from crm_tui.logic.customers import tasks

    output.print_record(
        tasks.get_task(crm(ctx), task), fmt, [*COLUMNS, ("notes", "Notes"), ("version", "Version")]
    )


@app.command("done")
def done(ctx: typer.Context, task: Ref) -> None:
    """Mark a task done."""
    from crm_tui.logic.customers import tasks

    finished = tasks.set_done(crm(ctx), task, True)
    output.say(f"Done: {finished.ref} {finished.title}")


@app.command("reopen")
def reopen(ctx: typer.Context, task: Ref) -> None:
    """Open a done task again."""
    from crm_tui.logic.customers import tasks

    opened = tasks.set_done(crm(ctx), task, False)
    output.say(f"Reopened {opened.ref} {opened.title}")
