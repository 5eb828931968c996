"""How far long work has got, told to whoever started it, without knowing who that is.

Work that can take seconds (an import, an export, a backup, a restore, a reindex, an
upgrade) measures itself in steps of rows or bytes with ``step``. A front end that
wants to show it sets a reporter around the work with ``reporting_to``; with none set,
measuring costs a function call per chunk. The reporter is kept in a context variable,
so work in other threads or other callers is not reported to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import BinaryIO, Protocol, TypeVar

T = TypeVar("T")

Advance = Callable[[int], None]  # told how many more rows or bytes are done


class Reporter(Protocol):
    def task(self, label: str, total: int | None, unit: str) -> AbstractContextManager[Advance]:
        """A piece of work of ``total`` ``unit`` (rows or bytes; None: unknown)."""
        ...


_reporter: ContextVar[Reporter | None] = ContextVar("crm_progress_reporter", default=None)


@contextmanager
def reporting_to(reporter: Reporter) -> Iterator[None]:
    """Report the steps of the work inside to ``reporter``."""
    token = _reporter.set(reporter)
    try:
        yield
    finally:
        _reporter.reset(token)


def reported() -> bool:
    """Whether anyone is told of progress: work may skip counting its total if not."""
    return _reporter.get() is not None


def _nothing(done: int) -> None:
    pass


@contextmanager
def step(label: str, total: int | None = None, unit: str = "rows") -> Iterator[Advance]:
    """Measure one piece of work of ``total`` ``unit`` (rows or bytes; the empty unit for
    work done in one go, such as a single SQLite call): tell the function given what
    each chunk did."""
    reporter = _reporter.get()
    if reporter is None:
        yield _nothing
        return
    with reporter.task(label, total, unit) as advance:
        yield advance


class CountingReader:
    """A binary file whose reads are told to ``advance`` as they go (for libraries that
    read a file themselves: zstandard, pyrage)."""

    def __init__(self, source: BinaryIO, advance: Advance) -> None:
        self.source, self.advance = source, advance

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.advance(len(data))
        return data


def counted(items: Iterable[T], advance: Advance, every: int = 1_000) -> Iterator[T]:
    """``items`` as they are, telling ``advance`` of each ``every`` of them (and the rest
    at the end)."""
    count = 0
    for item in items:
        yield item
        count += 1
        if count == every:
            advance(count)
            count = 0
    if count:
        advance(count)
