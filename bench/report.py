"""Result rows, the table printed at the end of a run, and the JSON file with the same rows;
also the figures a benchmark script hands to `python -m bench` from its own process."""

from __future__ import annotations

import json
import math
import platform
import resource
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HEADERS = ("metric", "value", "baseline", "ratio", "budget", "within budget")
# ARCHITECTURE.md section 4: the TUI at 1M customers; importing or exporting a 1M-row
# file; backing up a 1 GB database.
MEMORY_BUDGET_MB = 150


@dataclass(frozen=True)
class Result:
    """One measured number, the baseline measured next to it, and the budget it must meet.

    ``budget`` is an upper bound for times, sizes and counts, and a lower bound for rates
    (units ending in "/s").
    """

    metric: str
    value: float
    unit: str  # "ms", "s", "MB", "rows/s", "MB/s" or "modules"
    baseline: float | None = None
    baseline_name: str = ""
    budget: float | None = None
    note: str = ""

    @property
    def higher_is_better(self) -> bool:
        return self.unit.endswith("/s")

    @property
    def ratio(self) -> float | None:
        """How many times slower crm is than the baseline (1.0 means as fast)."""
        if not self.baseline or not self.value:
            return None
        return self.baseline / self.value if self.higher_is_better else self.value / self.baseline

    @property
    def within_budget(self) -> bool | None:
        if self.budget is None:
            return None
        if self.higher_is_better:
            return self.value >= self.budget
        return self.value <= self.budget

    def cells(self) -> tuple[str, ...]:
        baseline = "-"
        if self.baseline is not None:
            baseline = f"{amount(self.baseline, self.unit)} ({self.baseline_name})"
        ratio = "-" if self.ratio is None else f"{self.ratio:,.1f}x"
        budget = "-" if self.budget is None else amount(self.budget, self.unit)
        within = {None: "-", True: "yes", False: "no"}[self.within_budget]
        return (self.metric, amount(self.value, self.unit), baseline, ratio, budget, within)

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio, "within_budget": self.within_budget}


def amount(number: float, unit: str) -> str:
    """``148.2 ms``, ``0.04 ms``, ``12.5 s``, ``812 rows/s``, ``0 modules``."""
    if unit in ("ms", "s") and number != int(number):
        return f"{number:,.{2 if number < 1 else 1}f} {unit}"
    return f"{number:,.0f} {unit}"


def table(results: list[Result]) -> str:
    """The results as a plain-text table, then their notes; no colour, so it pastes cleanly."""
    rows = [HEADERS, *(result.cells() for result in results)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in rows]  # fmt: skip
    lines.insert(1, "  ".join("-" * width for width in widths))
    notes = [f"* {result.metric}: {result.note}" for result in results if result.note]
    if notes:
        lines += ["", *notes]
    lines += ["", "ratio = how many times slower than the baseline (time / baseline time, "
              "or baseline rate / rate)"]  # fmt: skip
    return "\n".join(line.rstrip() for line in lines)


def write_json(path: Path, results: list[Result], settings: dict[str, Any]) -> None:
    """The rows with the run's settings and the machine it ran on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "machine": platform.platform(),
        "settings": settings,
        "results": [result.as_json() for result in results],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def percentile(values: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile: the smallest value with ``percent`` % at or below it."""
    return sorted(values)[max(math.ceil(percent / 100 * len(values)), 1) - 1]


def peak_memory(metric: str, peak: float, baseline: float, baseline_name: str, note: str) -> Result:
    """A peak RSS in MB beside the same program's at an earlier point, or a smaller job's."""
    return Result(metric, peak, "MB", baseline, baseline_name, budget=MEMORY_BUDGET_MB, note=note)


def peak_rss_mb() -> float:
    """The most memory this program has held so far (its peak resident set), in MB.

    Linux's ``ru_maxrss`` also counts the memory of the process that started this one,
    as it was when this one started; the kernel's high-water mark of this program's own
    memory (VmHWM) does not.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hand_over(figures: Any, results: list[Result], path: Path | None) -> None:
    """End of a benchmark script: its table on stdout, or, for `python -m bench` (which
    runs the script in a process of its own), its figures as JSON at ``path``."""
    if path is None:
        print(table(results))
    else:
        path.write_text(json.dumps(asdict(figures)) + "\n", encoding="utf-8")
