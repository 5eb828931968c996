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

from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import CrmError, Forbidden
from crm_tui.logic.core.schemas import In, Output, validated

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
    model: type[In],
    create: Callable[[Work, In], Output],
    *,
    create_batch: Callable[[Work, list[tuple[int, In]]], list[tuple[int, Output | CrmError]]] | None = None,
    batch_size: int | None = None,
) -> Iterator[LineOutcome]:
    """Create one record per JSON object line; blank lines are skipped.

    Each line goes through ``create`` in its own savepoint, or the whole batch through
    ``create_batch`` where a module offers one. Outcomes are yielded once their batch
    is committed, in line order.
    """
    batch_size = batch_size or BATCH_SIZE
    batch: list[tuple[int, str]] = []
    for number, text in enumerate(lines, start=1):
        if text.strip():
            batch.append((number, text))
        if len(batch) >= batch_size:
            yield from _run_batch(crm, permission, batch, model, create, create_batch)
            batch = []
    if batch:
        yield from _run_batch(crm, permission, batch, model, create, create_batch)


def _parse(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CrmError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise CrmError("expected a JSON object ({...}) on the line")
    return value


def _run_batch(
    crm: Crm, permission: str, batch: list[tuple[int, str]], model, create, create_batch
) -> list[LineOutcome]:
    outcomes: dict[int, LineOutcome] = {}
    with crm.work(permission) as work:
        parsed = []
        for number, text in batch:
            try:
                parsed.append((number, validated(model, _parse(text))))
            except CrmError as exc:
                outcomes[number] = LineOutcome(line=number, error=str(exc))
        if create_batch is not None:
            for number, result in create_batch(work, parsed):
                outcomes[number] = _outcome(number, result)
        else:
            for number, data in parsed:
                outcomes[number] = _outcome(number, _create_one(work, create, data))
    return [outcomes[number] for number, _ in batch]


def _create_one(work: Work, create: Callable[[Work, Any], Output], data: Any) -> Output | CrmError:
    """``create`` in a savepoint: a refused line leaves nothing behind."""
    savepoint = work.session.begin_nested()
    try:
        record = create(work, data)
    except Forbidden:
        savepoint.rollback()
        raise
    except CrmError as exc:
        savepoint.rollback()
        return exc
    savepoint.commit()
    return record


def _outcome(number: int, result: Output | CrmError) -> LineOutcome:
    if isinstance(result, CrmError):
        return LineOutcome(line=number, error=str(result))
    return LineOutcome(line=number, record=result)
