"""How far long work has got: the front ends' way to storage's progress reports."""

from __future__ import annotations

from crm_tui.storage.progress import Advance, Reporter, counted, reported, reporting_to, step

__all__ = ["Advance", "Reporter", "counted", "reported", "reporting_to", "step"]
