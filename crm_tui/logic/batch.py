"""Creating many records from JSON Lines, reporting each line's fate.

Lines are committed in batches; inside a batch each line has its own savepoint, so a
bad line leaves nothing behind while the good lines around it are kept. A run that is
killed loses at most the batch in progress, never part of a record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from crm_tui.logic.context import Crm, Work
from crm_tui.logic.errors import CrmError, Forbidden
from crm_tui.logic.schemas import Input, Output, validated

BATCH_SIZE = 500


@dataclass(frozen=True)
class LineOutcome:
    """What became of one input line: the record made, or why not."""

    line: int
    record: Output | None = None
    error: str | None = None


def create_many(
    crm: Crm,
    permission: str,
    lines: Iterable[str],
    model: type[Input],
    create: Callable[[Work, Any], Output],
    *,
    batch_size: int = BATCH_SIZE,
) -> Iterator[LineOutcome]:
    """Create one record per JSON object line with ``create``; blank lines are skipped.

    Outcomes are yielded once their batch is committed, in line order.
    """
    batch: list[tuple[int, str]] = []
    for number, text in enumerate(lines, start=1):
        if text.strip():
            batch.append((number, text))
        if len(batch) >= batch_size:
            yield from _run_batch(crm, permission, batch, model, create)
            batch = []
    if batch:
        yield from _run_batch(crm, permission, batch, model, create)


def _parse(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CrmError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise CrmError("expected a JSON object ({...}) on the line")
    return value


def _run_batch(
    crm: Crm,
    permission: str,
    batch: list[tuple[int, str]],
    model: type[Input],
    create: Callable[[Work, Any], Output],
) -> list[LineOutcome]:
    outcomes: list[LineOutcome] = []
    with crm.work(permission) as work:
        for number, text in batch:
            savepoint = work.session.begin_nested()
            try:
                record = create(work, validated(model, _parse(text)))
            except Forbidden:
                savepoint.rollback()
                raise
            except CrmError as exc:
                savepoint.rollback()
                outcomes.append(LineOutcome(line=number, error=str(exc)))
            else:
                savepoint.commit()
                outcomes.append(LineOutcome(line=number, record=record))
    return outcomes
