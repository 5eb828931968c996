"""Steps the customer and task tests share: waiting for the screen, and reading it."""

from __future__ import annotations

from contextlib import suppress

from textual.worker import WorkerCancelled


async def settle(pilot, rounds: int = 4) -> None:
    """Let workers finish and their results reach the screen."""
    for _ in range(rounds):
        # A dialog closed by its own worker's result cancels that worker: the result was
        # delivered first, so there is nothing to wait for.
        with suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def notices(app) -> list[str]:
    """The notifications shown so far, oldest first."""
    return [str(note.message) for note in app._notifications]
