"""The reliability suite's scale, and its figures.

Run as CI runs it, the suite is sized to take a minute or so; ``CRM_SOAK=1`` runs the
same tests longer (more kills, more writers for longer, more examples):

    CRM_SOAK=1 .venv/bin/python -m pytest tests/reliability -p no:cacheprovider

Each test counts what it did (kills, integrity checks, writes, examples) in the
``figures`` fixture; the counts travel with the test reports (also from xdist workers)
and are printed at the end of a run that names this folder.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings

from tests.conftest import FIGURES, SOAK


@dataclass(frozen=True)
class Scale:
    """How much each test does."""

    customer_import_kills: int
    deal_import_kills: int
    from_batch_kills: int
    note_batch_kills: int
    backup_kills: int
    restore_kills: int
    customer_import_rows: int  # 2,000 a batch
    deal_import_rows: int  # deals go in one by one: a whole batch takes long
    from_batch_lines: int  # 500 a batch
    note_batch_lines: int
    writers: int
    writing_seconds: float
    examples: int


CI = Scale(
    customer_import_kills=5, deal_import_kills=4, from_batch_kills=4, note_batch_kills=3,
    backup_kills=4, restore_kills=5,
    customer_import_rows=4_000, deal_import_rows=150, from_batch_lines=1_500, note_batch_lines=800,
    writers=4, writing_seconds=3.0, examples=1_000,
)  # fmt: skip
SOAK_SCALE = Scale(
    customer_import_kills=25, deal_import_kills=10, from_batch_kills=20, note_batch_kills=10,
    backup_kills=15, restore_kills=20,
    customer_import_rows=10_000, deal_import_rows=2_500, from_batch_lines=5_000, note_batch_lines=2_500,
    writers=5, writing_seconds=60.0, examples=20_000,
)  # fmt: skip
SCALE = SOAK_SCALE if SOAK else CI

_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
# CI tries the same examples every run (derandomize), so that a submission's run fails
# for its own change, never for a rare example met by chance; the soak explores afresh.
settings.register_profile(
    "crm-reliability",
    max_examples=CI.examples,
    deadline=None,
    suppress_health_check=_HEALTH,
    derandomize=True,
)
settings.register_profile(
    "crm-soak", max_examples=SOAK_SCALE.examples, deadline=None, suppress_health_check=_HEALTH
)
# The profile of the property tests over commands and files; the suite's other property
# tests keep their own settings. CRM_RELIABILITY_EXAMPLES=N tries N examples instead.
PROPERTIES = settings(
    settings.get_profile("crm-soak" if SOAK else "crm-reliability"),
    max_examples=int(os.environ.get("CRM_RELIABILITY_EXAMPLES") or SCALE.examples),
)


@pytest.fixture
def scale() -> Scale:
    return SCALE


@pytest.fixture
def figures(request: pytest.FixtureRequest):
    """A counter a test adds its figures to (``figures["kills"] += 1``)."""
    counted: Counter[str] = Counter()
    yield counted
    request.node.user_properties.append((FIGURES, dict(counted)))
