"""TUI figures on a big database: first paint, filter keystrokes, page turns.

    python -m bench.tui_bench DB [--runs N]

- first paint: wall time from starting the real `crm` in a pseudo-terminal (120x40) to
  the desk's first panel showing its data, median of N launches; baseline: the same
  for `crm --version` (interpreter and imports only).
- filter keystroke: in-process (the app under Textual's test driver, 120x40), the time
  from a key event reaching the app to the first frame that draws the new rows (see
  ``Painted``); baseline: the list query alone.
- page down: the same, from PageDown on a page's last row to the next page drawn.

Budgets (ARCHITECTURE.md section 4): first paint under 1 s at 1M customers, each
keystroke and page turn under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import io
import math
import os
import pty
import re
import select
import shutil
import statistics
import struct
import sys
import termios
import time
from pathlib import Path

ANSI = re.compile(rb"\x1b\[[0-9;?]*[a-zA-Z]|\x1b[()][A-Z0-9]|\x1b[=>]")
ANSI_TEXT = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")
WORDS = ["mül", "schmidt", "hotel", "acme", "berg", "lars", "nord", "kiel"]


def crm_script() -> str:
    beside = Path(sys.executable).parent / "crm"
    return str(beside) if beside.exists() else shutil.which("crm") or "crm"


def launch_until(argv: list[str], marker: bytes | None, timeout: float = 20.0) -> float:
    """Seconds from starting ``argv`` in a 120x40 pty until ``marker`` appears on screen
    (or the program exits, for None); the program is then asked to quit."""
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
        os.waitpid(pid, 0)
        os.close(fd)
    if elapsed is None:
        raise RuntimeError(f"{' '.join(argv)}: {marker!r} never appeared on screen")
    return elapsed


def first_paint(database: str, runs: int) -> tuple[float, float]:
    """Median ms to the desk's data, and to `crm --version`'s output."""
    crm = crm_script()
    # The desk mounts its panels, titles included, only once their data has arrived.
    paints = [launch_until([crm, "--db", database], b"Team pipeline by stage") for _ in range(runs)]
    versions = [launch_until([crm, "--version"], None) for _ in range(runs)]
    return statistics.median(paints) * 1000, statistics.median(versions) * 1000


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


async def keystrokes(database: str) -> dict[str, float]:
    """Per-keystroke filter time, page-down time, and the bare query for comparison."""
    from textual import events
    from textual.widgets import Input

    from crm_tui.app import make_app
    from crm_tui.config import load_settings
    from crm_tui.logic import customers
    from crm_tui.logic.context import open_crm
    from crm_tui.screens.rows import RowTable

    crm = open_crm(load_settings(db=database))
    app = make_app(crm)
    painted = Painted(app)
    typing, paging, queries = [], [], []
    async with app.run_test(size=(120, 40)) as pilot:

        async def settled() -> None:
            await app.workers.wait_for_complete()
            await pilot.pause()

        await pilot.press("f3")
        await settled()
        screen = app.screen
        box = screen.query_one("#filter", Input)
        table = screen.query_one(RowTable)
        for word in WORDS:
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
                        lambda: box.value == text and screen.refs == wanted,  # noqa: B023
                        wanted[:3] or [", 0 shown"],
                    )
                )
                await settled()
        box.value = ""
        await settled()
        table.focus()
        for _ in range(10):
            table.move_cursor(row=table.row_count - 1)
            await settled()
            after = screen.next_after
            wanted = [c.ref for c in customers.list_customers(crm, after=after, limit=60).customers]
            started = time.perf_counter()
            app.post_message(events.Key("pagedown", None))
            paging.append(await painted.shown(started, lambda: table.keys == wanted, wanted[:3]))  # noqa: B023
            await settled()
    crm.close()
    return {
        "keystroke_median": statistics.median(typing),
        "keystroke_p95": sorted(typing)[math.ceil(0.95 * len(typing)) - 1],
        "query_median": statistics.median(queries),
        "page_median": statistics.median(paging),
        "page_max": max(paging),
        "keystrokes": len(typing),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tui_bench", description=__doc__.splitlines()[0])
    parser.add_argument("database")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    paint, version = first_paint(args.database, args.runs)
    figures = asyncio.run(keystrokes(args.database))
    rows = [
        (
            "first paint (desk with data)",
            f"{paint:.0f} ms",
            f"{version:.0f} ms (crm --version)",
            paint / version,
            1000,
            paint,
        ),
        (
            "filter keystroke, median",
            f"{figures['keystroke_median']:.1f} ms",
            f"{figures['query_median']:.1f} ms (list query)",
            figures["keystroke_median"] / figures["query_median"],
            50,
            figures["keystroke_median"],
        ),
        (
            "filter keystroke, 95th percentile",
            f"{figures['keystroke_p95']:.1f} ms",
            "-",
            None,
            50,
            figures["keystroke_p95"],
        ),
        ("page down, median", f"{figures['page_median']:.1f} ms", "-", None, 50, figures["page_median"]),
        ("page down, slowest of 10", f"{figures['page_max']:.1f} ms", "-", None, 50, figures["page_max"]),
    ]
    print(f"{'metric':36} {'value':>10}  {'baseline':32} {'ratio':>6}  {'budget':>8}  within")
    for name, value, baseline, ratio, budget, number in rows:
        shown = f"{ratio:.1f}x" if ratio else "-"
        within = "yes" if number < budget else "no"
        print(f"{name:36} {value:>10}  {baseline:32} {shown:>6}  {budget:>5} ms  {within}")
    print(f"({figures['keystrokes']} keystrokes over {len(WORDS)} words; page turns of 60 rows)")


if __name__ == "__main__":
    main()
