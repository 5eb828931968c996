"""`--from FILE`: one JSON object a line, every record created, every failure reported."""

from __future__ import annotations

from collections.abc import Sequence

import typer

from crm_tui.cli import output
from crm_tui.cli.state import crm, input_lines


def add_from(
    ctx: typer.Context,
    source: str,
    kind: str,
    fmt: output.Format,
    columns: Sequence[output.Column],
    *,
    force: bool = False,
) -> None:
    """Create records of ``kind`` from JSON Lines; exits 9 if any line failed (the rest are kept)."""
    from crm_tui.logic.exchange.batch import creatable, create_many

    noun = creatable(kind).noun
    failed: list[int] = []
    with input_lines(source) as lines, output.Printer(fmt, columns) as printer:
        for outcome in create_many(crm(ctx), kind, lines, force=force):
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
