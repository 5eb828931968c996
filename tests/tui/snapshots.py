"""What the TUI tests share: settling a screen (before a picture or an assertion), and
visiting one.

Each area of the desk has its own snapshot file (``test_snapshots_*.py``) using these and
the ``fresh_crm`` fixture of conftest.py.
"""

from __future__ import annotations

from contextlib import suppress

from textual.worker import WorkerCancelled

# The database path the pictures show, wherever the test's own file is.
SHOWN_PATH = "/tmp/crm-snapshots/crm.sqlite3"


async def settle(pilot, rounds: int = 5, most: int = 50) -> None:
    """Let workers finish and their results reach the screen.

    A pause ends when the process looks idle, as one starved of CPU also does (a busy
    machine, tests in parallel); so after ``rounds`` rounds they go on until one leaves
    the screen as it was, up to ``most`` rounds in all.
    """
    shown = None
    for done in range(1, most + 1):
        # A dialog closed by its own worker's result cancels that worker: the result was
        # delivered first, so there is nothing more to wait for.
        with suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if done >= rounds:
            before, shown = shown, pilot.app.export_screenshot()
            if shown == before:
                return


def visit(*keys: str, then=None):
    """A run_before that presses ``keys`` and waits for the data to arrive."""

    async def run(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if then is not None:
            await then(pilot)
            await settle(pilot)

    return run


async def until(pilot, check, seconds: float = 10.0) -> None:
    """Wait until ``check()`` holds (a reload that a loaded machine starts late), at most
    ``seconds``; the assertion after it says what did not happen."""
    waited = 0.0
    while not check() and waited < seconds:
        await pilot.pause(0.05)
        waited += 0.05
