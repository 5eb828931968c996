"""`--from FILE`: one JSON object a line, every record created, every failure reported."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import typer

from crm_tui.cli import output
from crm_tui.cli.state import crm, input_lines


def add_from(
    ctx: typer.Context,
    source: str,
    permission: str,
    model: type[Any],
    create: Callable[[Any, Any], Any],
    fmt: output.Format,
    columns: Sequence[output.Column],
    noun: str,
    create_batch: Callable[[Any, Any], Any] | None = None,
) -> None:
    """Create records from JSON Lines; exits 9 if any line failed (the rest are kept)."""
    from crm_tui.logic.exchange.batch import create_many

    failed: list[int] = []
    with input_lines(source) as lines, output.Printer(fmt, columns) as printer:
        for outcome in create_many(crm(ctx), permission, lines, model, create, create_batch=create_batch):
            if outcome.error is None:
                printer.add(outcome.record)
            else:
                failed.append(outcome.line)
                output.fail(f"line {outcome.line}: {outcome.error}")
    summary = f"added {printer.count} {noun}"
    if failed:
        shown = ", ".join(str(line) for line in failed[:20]) + (" ..." if len(failed) > 20 else "")
        output.say(f"{summary}; {len(failed)} line(s) failed: {shown}")
        raise typer.Exit(output.SOME_LINES_FAILED)
    output.say(summary)
