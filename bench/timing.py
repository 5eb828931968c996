"""Wall-clock timing of whole commands (subprocesses) and of code in this process."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence


def wall(command: Sequence[str], env: dict[str, str]) -> float:
    """Seconds from starting ``command`` until it has exited; a failing command is an error.

    Output goes to /dev/null: the terminal's speed is not crm's.
    """
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()[-800:]
        raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}: {message}")
    return elapsed


def paired_medians(
    command: Sequence[str], baseline: Sequence[str], runs: int, env: dict[str, str]
) -> tuple[float, float]:
    """Median wall milliseconds of ``command`` and of ``baseline``.

    Each is run once untimed first (to warm the page cache and compile bytecode), then
    the two take turns, so that a busy moment on the machine slows both alike.
    """
    wall(command, env)
    wall(baseline, env)
    measured: list[float] = []
    reference: list[float] = []
    for _ in range(runs):
        measured.append(wall(command, env))
        reference.append(wall(baseline, env))
    return statistics.median(measured) * 1000, statistics.median(reference) * 1000


def median_ms(function: Callable[[], object], runs: int) -> float:
    """Median milliseconds of calling ``function`` in this process, after one warm-up call."""
    function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000
