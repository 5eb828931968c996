"""TUI figures on a big database: first paint, filter keystrokes, page turns.

    python -m bench.tui_bench DB [--runs N] [--words N] [--pages N]

- first paint: wall time from starting the real `crm` in a pseudo-terminal (120x40) to
  the desk's first panel showing its data, median of N launches; baseline: the same
  for `crm --version` (interpreter and imports only).
- filter keystroke: in-process (the app under Textual's test driver, 120x40), the time
  from a key event reaching the app to the first frame that draws the new rows (see
  ``Painted``); baseline: the list query alone.
- page down: the same, from PageDown on a page's last row to the next page drawn.

- memory: the peak RSS of the process that ran the keystrokes and page turns; baseline:
  its RSS with the app made but not yet running.

Budgets (ARCHITECTURE.md section 4): first paint under 1 s at 1M customers, each
keystroke and page turn under 50 ms, the TUI under 150 MB peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import io
import os
import pty
import re
import select
import shutil
import sqlite3
import statistics
import struct
import sys
import termios
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bench.report import Result, hand_over, peak_memory, peak_rss_mb, percentile

ANSI = re.compile(rb"\x1b\[[0-9;?]*[a-zA-Z]|\x1b[()][A-Z0-9]|\x1b[=>]")
ANSI_TEXT = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")
WORDS = ["mül", "schmidt", "hotel", "acme", "berg", "lars", "nord", "kiel"]
PAINT_BUDGET_MS = 1000
KEY_BUDGET_MS = 50


@dataclass(frozen=True)
class TuiFigures:
    """Milliseconds and megabytes of the TUI on one database."""

    customers: int
    launches: int
    paint: float  # median ms to the desk's data on screen
    version: float  # median ms to `crm --version`'s output in the same pty
    desk_rss: float  # the largest peak RSS of crm at its first paint, MB
    words: int
    keystrokes: int
    keystroke_median: float
    keystroke_p95: float
    query_median: float  # the list query alone, for the same text
    query_p95: float
    pages: int
    page_median: float
    page_max: float
    page_query_median: float  # the next page's query alone
    page_query_max: float
    rss_before: float  # MB, the app made, not yet running
    rss_peak: float  # MB, after the keystrokes and page turns


def crm_script() -> str:
    beside = Path(sys.executable).parent / "crm"
    return str(beside) if beside.exists() else shutil.which("crm") or "crm"


def launch_until(argv: list[str], marker: bytes | None, timeout: float = 20.0) -> tuple[float, float]:
    """Seconds from starting ``argv`` in a 120x40 pty until ``marker`` appears on screen
    (or the program exits, for None), and the program's peak RSS in MB by then; the
    program is then asked to quit."""
    env = dict(os.environ, TERM="xterm-256color", CRM_USER=os.environ.get("CRM_USER", "admin"))
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the program
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    seen = b""
    elapsed = None
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break  # the program ended
            if not chunk:
                break
            seen += chunk
            if marker is not None and marker in ANSI.sub(b"", seen):
                elapsed = time.perf_counter() - started
                break
        if marker is None:
            elapsed = time.perf_counter() - started
    finally:
        try:
            os.write(fd, b"\x11")  # ctrl+q
            time.sleep(0.3)
            os.kill(pid, 9)
        except OSError:
            pass
        _, _, usage = os.wait4(pid, 0)
        os.close(fd)
    if elapsed is None:
        shown = ANSI.sub(b"", seen).decode(errors="replace").strip()[-400:]
        raise RuntimeError(f"{' '.join(argv)}: {marker!r} never appeared on screen; it showed: {shown}")
    return elapsed, usage.ru_maxrss / 1024


def first_paint(database: Path, runs: int) -> tuple[float, float, float]:
    """Median ms to the desk's data, and to `crm --version`'s output, taking turns; and
    the desk's largest peak RSS in MB."""
    crm = crm_script()
    paints, versions = [], []
    for _ in range(runs):
        # The desk mounts its panels, titles included, only once their data has arrived.
        paints.append(launch_until([crm, "--db", str(database)], b"Team pipeline by stage"))
        versions.append(launch_until([crm, "--version"], None))
    return (
        statistics.median(seconds for seconds, _ in paints) * 1000,
        statistics.median(seconds for seconds, _ in versions) * 1000,
        max(rss for _, rss in paints),
    )


class Painted:
    """Records when the app hands each screen update to its driver, and what it drew.

    The time a user waits is from a key press to the frame that shows its result: the
    key's handling, the database call in its worker, filling the table, and drawing.
    Textual's Pilot helpers wait for the process to go idle, which adds their own
    polling to each figure, so the frames are timed where they leave the app instead.
    """

    def __init__(self, app) -> None:
        self.frames: list[tuple[float, object]] = []
        draw = app._display

        def display(screen, update) -> None:
            draw(screen, update)
            if update is not None:
                self.frames.append((time.perf_counter(), update))

        app._display = display

    async def shown(self, started: float, showing, marks: list[str], limit: float = 5.0) -> float:
        """Milliseconds from ``started`` to the first frame drawing every one of
        ``marks``, once ``showing()`` says the screen holds the expected rows."""
        first = len(self.frames)
        while not showing():
            if time.perf_counter() - started > limit:
                raise RuntimeError("the screen never showed the expected rows")
            await asyncio.sleep(0.0005)
        while len(self.frames) == first or self.frames[-1][0] < started:
            await asyncio.sleep(0.0005)
        await asyncio.sleep(0.05)  # the frame with the rows may come a tick later
        for at, update in self.frames[first:]:
            if all(mark in _text(update) for mark in marks):
                return (at - started) * 1000
        raise RuntimeError(f"no frame drew {marks}")


def _text(update) -> str:
    from rich.console import Console

    console = Console(file=io.StringIO(), width=120, force_terminal=True, color_system="truecolor")
    console.print(update, end="")
    return ANSI_TEXT.sub("", console.file.getvalue())


async def keystrokes(database: Path, words: list[str], pages: int) -> dict[str, float]:
    """Per-keystroke filter time, page-down time, the bare queries for comparison, and
    this process's RSS before and after."""
    from textual import events
    from textual.widgets import Input

    from crm_tui.app import make_app
    from crm_tui.config import load_settings
    from crm_tui.logic.core.context import open_crm
    from crm_tui.logic.customers import customers
    from crm_tui.screens.widgets.row_table import RowTable

    crm = open_crm(load_settings(db=database))
    app = make_app(crm)
    painted = Painted(app)
    rss_before = peak_rss_mb()
    typing, paging, queries, page_queries = [], [], [], []
    async with app.run_test(size=(120, 40)) as pilot:

        async def settled() -> None:
            await app.workers.wait_for_complete()
            await pilot.pause()

        await pilot.press("f3")
        await settled()
        screen = app.screen
        box = screen.query_one("#filter", Input)
        table = screen.query_one(RowTable)
        for word in words:
            box.value = ""
            await settled()
            box.focus()
            for letter in word:
                text = box.value + letter
                began = time.perf_counter()
                wanted = [c.ref for c in customers.list_customers(crm, text=text, limit=60).customers]
                queries.append((time.perf_counter() - began) * 1000)
                started = time.perf_counter()
                app.post_message(events.Key(letter, letter))  # as the terminal driver does
                typing.append(
                    await painted.shown(
                        started,
                        lambda: box.value == text and table.keys == wanted,  # noqa: B023
                        wanted[:3] or [", 0 shown"],
                    )
                )
                await settled()
        box.value = ""
        await settled()
        table.focus()
        for _ in range(pages):
            table.move_cursor(row=table.row_count - 1)
            await settled()
            after = screen.next_after
            began = time.perf_counter()
            wanted = [c.ref for c in customers.list_customers(crm, after=after, limit=60).customers]
            page_queries.append((time.perf_counter() - began) * 1000)
            started = time.perf_counter()
            app.post_message(events.Key("pagedown", None))
            paging.append(await painted.shown(started, lambda: table.keys == wanted, wanted[:3]))  # noqa: B023
            await settled()
    crm.close()
    return {
        "keystroke_median": statistics.median(typing),
        "keystroke_p95": percentile(typing, 95),
        "query_median": statistics.median(queries),
        "query_p95": percentile(queries, 95),
        "page_median": statistics.median(paging),
        "page_max": max(paging),
        "page_query_median": statistics.median(page_queries),
        "page_query_max": max(page_queries),
        "keystrokes": len(typing),
        "rss_before": rss_before,
        "rss_peak": peak_rss_mb(),
    }


def measure(database: Path, runs: int = 5, words: int = len(WORDS), pages: int = 10) -> TuiFigures:
    """First paint over ``runs`` launches, then the first ``words`` filter words typed
    letter by letter and ``pages`` page turns in this process."""
    with closing(sqlite3.connect(database)) as db:
        customers = db.execute("SELECT count(*) FROM customers").fetchone()[0]
    paint, version, desk_rss = first_paint(database, runs)
    figures = asyncio.run(keystrokes(database, WORDS[:words], pages))
    return TuiFigures(
        customers=customers,
        launches=runs,
        paint=paint,
        version=version,
        desk_rss=desk_rss,
        words=min(words, len(WORDS)),
        pages=pages,
        **figures,
    )


def results(figures: TuiFigures) -> list[Result]:
    """First paint, keystrokes, page turns and memory, each beside its baseline."""
    size = f"{figures.customers:,} customers"
    typed = f"{figures.keystrokes} keystrokes over {figures.words} words"

    def timed(metric: str, value: float, baseline: float, name: str, note: str = "") -> Result:
        return Result(f"{metric}, {size}", value, "ms", baseline, name, budget=KEY_BUDGET_MS, note=note)

    return [
        Result(
            f"TUI first paint, {size}",
            figures.paint,
            "ms",
            figures.version,
            "crm --version",
            budget=PAINT_BUDGET_MS,
            note=(
                f"`crm --db DB` in a 120x40 pty until the desk shows its data, median of {figures.launches} "
                "launches; baseline: `crm --version` in the same pty (interpreter and imports); the budget "
                "is for 1M customers"
            ),
        ),
        timed(
            "filter keystroke median",
            figures.keystroke_median,
            figures.query_median,
            "list query",
            note=(
                f"{typed} in the customer list's filter, in-process under Textual's test driver (120x40): "
                "from the key event to the first frame that draws the new rows; baseline: "
                "crm_tui.logic.customers.customers.list_customers for the same text (60 rows)"
            ),
        ),
        timed("filter keystroke 95th percentile", figures.keystroke_p95, figures.query_p95, "list query"),
        timed(
            "page down median",
            figures.page_median,
            figures.page_query_median,
            "page query",
            note=(
                f"{figures.pages} PageDowns on a page's last row, to the frame that draws the next page; "
                "baseline: list_customers for that page (60 rows after the last one shown)"
            ),
        ),
        timed(
            f"page down slowest of {figures.pages}", figures.page_max, figures.page_query_max, "page query"
        ),
        peak_memory(
            f"TUI peak RSS, {size}",
            figures.rss_peak,
            figures.rss_before,
            "app made, not running",
            f"the process that ran the keystrokes and page turns, after them; crm's own desk at its first "
            f"paint: {figures.desk_rss:,.0f} MB at most",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tui_bench", description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--runs", type=int, default=5, help="launches for the first paint (5)")
    parser.add_argument("--words", type=int, default=len(WORDS), help=f"filter words to type ({len(WORDS)})")
    parser.add_argument("--pages", type=int, default=10, help="page turns (10)")
    parser.add_argument("--figures", type=Path, help="write the figures as JSON here instead of a table")
    args = parser.parse_args(argv)
    os.environ.setdefault("CRM_USER", "admin")
    figures = measure(args.database, args.runs, args.words, args.pages)
    hand_over(figures, results(figures), args.figures)


if __name__ == "__main__":
    main()
