"""Creating many records from JSON Lines, reporting each line's fate.

Lines are committed in batches; inside a batch each line has its own savepoint, so a
bad line leaves nothing behind while the good lines around it are kept. A run that is
killed loses at most the batch in progress, never part of a record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import CrmError, Forbidden, Invalid, quoted
from crm_tui.logic.core.schemas import Input, Output, validated

BATCH_SIZE = 500
# How deep a record's JSON may nest: an order's lines (an object in a list in an object)
# are three levels; anything near the parser's recursion limit is not a record.
MAX_DEPTH = 20
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")

CreateOne = Callable[[Work, Any, bool], Output]
CreateBatch = Callable[[Work, list[tuple[int, Any]], bool], Sequence[tuple[int, Output | CrmError]]]


@dataclass(frozen=True)
class Creatable:
    """A kind of record `--from` creates: the permission it needs, the model each line
    must match, and how one record (or a whole batch, where the module offers it) is made.
    ``force`` is the user's "add it even if it looks like a duplicate"."""

    noun: str
    permission: str
    model: type[Input]
    create: CreateOne
    create_batch: CreateBatch | None = None


# Each kind's module is imported only when that kind is created, so that `crm customer
# add --from` does not pay for building the models of sales and service.


def _customer() -> Creatable:
    from crm_tui.logic.customers import batches, customers
    from crm_tui.logic.customers.schemas import CustomerCreate

    return Creatable(
        "customers", "customers.write", CustomerCreate,
        lambda work, data, force: customers.create_in(work, data, force=force),
        lambda work, items, force: batches.create_batch_in(work, items, force=force),
    )  # fmt: skip


def _contact() -> Creatable:
    from crm_tui.logic.customers import contacts
    from crm_tui.logic.customers.schemas import ContactCreate

    return Creatable(
        "contacts", "customers.write", ContactCreate,
        lambda work, data, force: contacts.create_in(work, data, force=force),
    )  # fmt: skip


def _note() -> Creatable:
    from crm_tui.logic.customers import timeline
    from crm_tui.logic.customers.schemas import ActivityCreate

    return Creatable("entries", "customers.write", ActivityCreate, _ignoring_force(timeline.create_in))


def _task() -> Creatable:
    from crm_tui.logic.customers import tasks
    from crm_tui.logic.customers.schemas import TaskCreate

    return Creatable("tasks", "tasks.write", TaskCreate, _ignoring_force(tasks.create_in))


def _deal() -> Creatable:
    from crm_tui.logic.sales import deals
    from crm_tui.logic.sales.schemas import DealCreate

    return Creatable("deals", "deals.write", DealCreate, _ignoring_force(deals.create_in))


def _product() -> Creatable:
    from crm_tui.logic.sales import products
    from crm_tui.logic.sales.schemas import ProductCreate

    return Creatable("products", "products.manage", ProductCreate, _ignoring_force(products.create_in))


def _order() -> Creatable:
    from crm_tui.logic.sales import orders
    from crm_tui.logic.sales.schemas import OrderCreate

    return Creatable("orders", "orders.write", OrderCreate, _ignoring_force(orders.create_in))


def _ticket() -> Creatable:
    from crm_tui.logic.service import tickets
    from crm_tui.logic.service.schemas import TicketCreate

    return Creatable("tickets", "tickets.write", TicketCreate, _ignoring_force(tickets.create_in))


def _user() -> Creatable:
    from crm_tui.logic.core import users
    from crm_tui.logic.core.schemas import UserCreate

    return Creatable("users", "users.manage", UserCreate, _ignoring_force(users.create_in))


def _ignoring_force(create: Callable[[Work, Any], Output]) -> CreateOne:
    """Records with no duplicate check: ``force`` has nothing to override."""
    return lambda work, data, force: create(work, data)


CREATABLE: dict[str, Callable[[], Creatable]] = {
    "customer": _customer,
    "contact": _contact,
    "note": _note,
    "task": _task,
    "deal": _deal,
    "product": _product,
    "order": _order,
    "ticket": _ticket,
    "user": _user,
}


def creatable(kind: str) -> Creatable:
    """What creating a ``kind`` from JSON Lines takes; Invalid for a kind there is none of."""
    if kind not in CREATABLE:
        raise Invalid(
            f"records of kind {quoted(kind)} cannot be created from lines: choose {', '.join(CREATABLE)}"
        )
    return CREATABLE[kind]()


@dataclass(frozen=True)
class LineOutcome:
    """What became of one input line: the record made, or why not."""

    line: int
    record: Output | None = None
    error: str | None = None


def create_many(
    crm: Crm,
    kind: str,
    lines: Iterable[str],
    *,
    force: bool = False,
    batch_size: int | None = None,
) -> Iterator[LineOutcome]:
    """Create one ``kind`` of record per JSON object line; blank lines are skipped.

    Each line is created in its own savepoint, or the whole batch at once where the
    module offers that. Outcomes are yielded once their batch is committed, in line order.
    """
    making = creatable(kind)
    batch_size = batch_size or BATCH_SIZE
    batch: list[tuple[int, str]] = []
    for number, text in enumerate(lines, start=1):
        if text.strip():
            batch.append((number, text))
        if len(batch) >= batch_size:
            yield from _run_batch(crm, making, batch, force)
            batch = []
    if batch:
        yield from _run_batch(crm, making, batch, force)


def _parse(text: str) -> dict[str, Any]:
    """The JSON object on one line; CrmError when the line is not one, nests deeper than
    ``MAX_DEPTH`` (which the parser would pay for with its stack), or holds a NUL."""
    depth = _depth(text)
    if depth > MAX_DEPTH:
        raise CrmError(f"the JSON nests {depth} levels deep; a record has at most {MAX_DEPTH}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CrmError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise CrmError("expected a JSON object ({...}) on the line")
    if _holds_nul(value):
        raise CrmError("the line holds a NUL character (\\u0000), which crm does not store")
    return value


def _holds_nul(value: Any) -> bool:
    """Whether a NUL is in any string (or key) of ``value``, however deep."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _depth(text: str) -> int:
    """How deep the brackets of ``text`` nest, strings left out; counted without parsing."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _run_batch(crm: Crm, making: Creatable, batch: list[tuple[int, str]], force: bool) -> list[LineOutcome]:
    outcomes: dict[int, LineOutcome] = {}
    with crm.work(making.permission) as work:
        parsed = []
        for number, text in batch:
            try:
                parsed.append((number, validated(making.model, _parse(text))))
            except CrmError as exc:
                outcomes[number] = LineOutcome(line=number, error=str(exc))
        if making.create_batch is not None:
            for number, result in making.create_batch(work, parsed, force):
                outcomes[number] = _outcome(number, result)
        else:
            for number, data in parsed:
                outcomes[number] = _outcome(number, _create_one(work, making.create, data, force))
    return [outcomes[number] for number, _ in batch]


def _create_one(work: Work, create: CreateOne, data: Any, force: bool) -> Output | CrmError:
    """``create`` in a savepoint: a refused line leaves nothing behind."""
    savepoint = work.session.begin_nested()
    try:
        record = create(work, data, force)
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
