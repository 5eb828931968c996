"""Progress bars on stderr for long commands: on a terminal only, and never with --quiet.

A pipe, a file or cron gets no bar: nothing but the command's own lines. The bars go
away when the work is done, leaving the summary line the command prints. Commands
import this module when they run, so that others do not load rich.progress.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from crm_tui.logic.core.progress import Advance, reporting_to


def wanted(quiet: bool) -> bool:
    """Whether bars are shown: stderr is a terminal and the user did not ask for quiet."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def bars(quiet: bool = False) -> Iterator[None]:
    """Show the progress of the work inside as bars on stderr, when ``wanted``."""
    if not wanted(quiet):
        yield
        return
    shown = Progress(
        # Narrow enough for 80 columns with a million rows: the bar gives way first.
        TextColumn("{task.description}"), BarColumn(bar_width=20), _Amount(), _Time(),
        console=Console(file=sys.stderr), transient=True,
    )  # fmt: skip
    with shown, reporting_to(_Bars(shown)):
        yield


class _Bars:
    """The reporter that draws each piece of work as a bar."""

    def __init__(self, shown: Progress) -> None:
        self.shown = shown

    @contextmanager
    def task(self, label: str, total: int | None, unit: str) -> Iterator[Advance]:
        task = self.shown.add_task(label, total=total, unit=unit)
        self.shown.refresh()  # drawn at once, not at the next tick: work may be over by then

        def advance(done: int) -> None:
            self.shown.advance(task, done)

        try:
            yield advance
        finally:
            self.shown.remove_task(task)


class _Amount(ProgressColumn):
    """Done of total and the rate, in rows or bytes: 12,000/50,000 rows 9,800/s."""

    def render(self, task: Task) -> Any:
        unit = task.fields.get("unit", "rows")
        if not unit:  # work done in one go: nothing to count
            return Text("")
        speed = task.finished_speed or task.speed
        total = int(task.total) if task.total else None
        if unit == "bytes":
            done = decimal(int(task.completed)) + (f"/{decimal(total)}" if total else "")
            rate = f"{decimal(int(speed))}/s" if speed else ""
        else:
            done = f"{int(task.completed):,}" + (f"/{total:,}" if total else "") + f" {unit}"
            rate = f"{speed:,.0f}/s" if speed else ""
        return Text(f"{done}  {rate}".rstrip())


class _Time(ProgressColumn):
    """The time left when the total is known, else the time taken so far."""

    def __init__(self) -> None:
        super().__init__()
        self.left, self.taken = TimeRemainingColumn(), TimeElapsedColumn()

    def render(self, task: Task) -> Any:
        return (self.left if task.total is not None else self.taken).render(task)
