"""Result rows, the table printed at the end of a run, and the JSON file with the same rows."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HEADERS = ("metric", "value", "baseline", "ratio", "budget", "within budget")


@dataclass(frozen=True)
class Result:
    """One measured number, the baseline measured next to it, and the budget it must meet.

    ``budget`` is an upper bound for times and counts; rates have no budget here.
    """

    metric: str
    value: float
    unit: str  # "ms", "rows/s" or "modules"
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
    """``148.2 ms``, ``812 rows/s``, ``0 modules``."""
    if unit == "ms" and number != int(number):
        return f"{number:,.1f} ms"
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
