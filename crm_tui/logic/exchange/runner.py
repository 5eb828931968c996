"""Running an import's rows in batches: one transaction a batch, one savepoint a row.

The runner knows nothing of customers or deals: it is given the function that adds a
batch's rows of one kind, and keeps the counts and the rejects file for all of them.
"""

from __future__ import annotations

import csv
import gc
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from crm_tui.logic.core import progress
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import CrmError, Forbidden
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.storage.database import tune_for_imports

BATCH_SIZE = 2_000

# What became of each row of a batch that did not simply go in, by line: why it was
# refused or skipped, or None when it went in after all (an updated duplicate).
Outcomes = dict[int, str | None]
# How the reason of a skipped row begins, in the rejects file and on the terminal; any
# other reason is a refusal.
SKIPPED = "skipped: "


@dataclass
class Row:
    """One row of the file: its line, its cells as written and its values by field."""

    line: int
    cells: list[str]
    values: dict[str, Any]
    error: str | None = None  # refused before it reached the database (a broken vCard)
    prepared: Any = None  # what a Preparer made of it in another process, if one did


@dataclass
class Tally:
    """What an import run did so far."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0  # duplicates, left as they are
    refused: int = 0  # rows that broke a rule; only these make an import fail
    people: int = 0  # of the created: person customers (vCards that name no company)
    new_users: list[str] = field(default_factory=list)
    rejects_file: str | None = None  # set once a row has been written to it


class Skipped(Exception):
    """A row that duplicates a record: skipped, not refused."""


AddRows = Callable[[Work, list[Row], Outcomes, Tally, ImportOptions], None]


class Preparer(Protocol):
    """Work on a batch's rows that needs no write (cleaning), done in another process
    while the batch before it is written: the second core does it while the first
    writes, since SQLite takes one writer at a time. A row left unprepared (its
    ``prepared`` None) is prepared by the importer itself."""

    def submit(self, crm: Crm, batch: list[Row], options: ImportOptions) -> Future[list[Any]]:
        """Start on ``batch``: the future holds what each row became."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Job:
    """One import run: the rows' kind, the file's header (for the rejects file), the
    permission each batch needs and the function that adds a batch's rows."""

    entity: str
    header: list[str]
    permission: str
    add_rows: AddRows
    options: ImportOptions
    preparer: Callable[[], Preparer] | None = None  # made once a file has a second batch


def run_rows(
    crm: Crm, job: Job, rows: Iterable[Row], batch_size: int = BATCH_SIZE, total: int | None = None
) -> Tally:
    """Import ``rows`` (``total`` of them, if known) in batches of ``batch_size``, each in
    one transaction (rolled back on a dry run); refused and skipped rows are told to
    ``on_reject`` and written to the rejects file as each batch ends."""
    with progress.step(f"importing {job.entity}", total) as advance:
        return _run(crm, job, rows, batch_size, advance)


def _run(crm: Crm, job: Job, rows: Iterable[Row], batch_size: int, advance: progress.Advance) -> Tally:
    tally = Tally()
    rejects = _RejectsFile(job, tally)
    batches = _Batches(crm, job, tally, rejects, advance)
    batch: list[Row] = []
    # Everything alive before the run (SQLAlchemy's, pydantic's and phonenumbers' tables,
    # some 80,000 objects) is left out of the garbage collector's full passes while it
    # runs: each batch makes and drops tens of thousands of objects, and those passes
    # took a fifth of the time. Objects made during the run are collected as usual.
    gc.freeze()
    try:
        for row in rows:
            tally.rows += 1
            batch.append(row)
            if len(batch) >= batch_size:
                batches.read(batch)
                batch = []
        if batch:
            batches.read(batch)
        batches.finish()
    finally:
        gc.unfreeze()
        batches.close()
        rejects.close()
    with crm.work() as work:
        tune_for_imports(work.session.connection(), importing=False)
    return tally


class _Batches:
    """The batches of a run, each stored once the next is read: with a preparer, the
    next one's rows are prepared in another process while this one is stored. A file
    of one batch is not worth starting that process for.

    While that process starts, which takes longer than storing a batch or two, the
    importer does not wait for it: a batch the process has not finished is prepared
    by the importer itself (and taken back from the process if it has not started on
    it). Once the process has finished a batch in time, it is waited for: it then
    prepares a batch faster than the importer stores one.
    """

    def __init__(self, crm: Crm, job: Job, tally: Tally, rejects: _RejectsFile, advance: progress.Advance):
        self.crm, self.job, self.tally, self.rejects, self.advance = crm, job, tally, rejects, advance
        self.waiting: tuple[list[Row], Future[list[Any]] | None] | None = None
        self.preparer: Preparer | None = None
        self.started = False  # whether the preparer has finished a batch in time

    def read(self, batch: list[Row]) -> None:
        prepared = None
        if self.waiting is not None and self.job.preparer is not None:
            self.preparer = self.preparer or self.job.preparer()
            prepared = self.preparer.submit(self.crm, batch, self.job.options)
        self.finish()
        self.waiting = (batch, prepared)

    def finish(self) -> None:
        """Store the batch read last, with what its rows were prepared into if that is back."""
        if self.waiting is None:
            return
        batch, prepared = self.waiting
        self.waiting = None
        made = self._prepared(prepared) if prepared is not None else None
        if made is not None:
            for row, item in zip(batch, made, strict=True):
                row.prepared = item
        _batch(self.crm, self.job, batch, self.tally, self.rejects)
        self.advance(len(batch))

    def _prepared(self, future: Future[list[Any]]) -> list[Any] | None:
        """What the preparer made of a batch's rows; None while it is starting."""
        self.started = self.started or future.done()
        if not self.started:
            future.cancel()
            return None
        return future.result()

    def close(self) -> None:
        if self.preparer is not None:
            self.preparer.close()


def _batch(crm: Crm, job: Job, batch: list[Row], tally: Tally, rejects: _RejectsFile) -> None:
    """One transaction: every good row of the batch, or (on a dry run) none."""
    outcomes: Outcomes = {row.line: error for row in batch if (error := _unreadable(row)) is not None}
    ready = [row for row in batch if row.line not in outcomes]
    with crm.work(job.permission) as work:
        tune_for_imports(work.session.connection())
        savepoint = work.session.begin_nested() if job.options.dry_run else None
        if ready:
            job.add_rows(work, ready, outcomes, tally, job.options)
        if savepoint is not None:
            savepoint.rollback()
    for row in batch:
        reason = outcomes.get(row.line)
        if reason is not None:
            if not reason.startswith(SKIPPED):
                tally.refused += 1
            rejects.write(row, reason)


def _unreadable(row: Row) -> str | None:
    """Why ``row`` is refused before it reaches the database, if it is: it could not be
    read, or it holds a NUL, which no field of crm stores (and PostgreSQL cannot)."""
    if row.error is None and any("\x00" in cell for cell in row.cells):
        return "the row holds a NUL character (\\x00), which crm does not store"
    return row.error


class _RejectsFile:
    """The refused and skipped rows, told to ``on_reject`` and written to the rejects
    file (opened at the first one) with their line and reason."""

    def __init__(self, job: Job, tally: Tally) -> None:
        self.job, self.tally = job, tally
        self.stream: IO[str] | None = None
        self.writer: Any = None

    def write(self, row: Row, reason: str) -> None:
        options = self.job.options
        if options.on_reject is not None:
            options.on_reject(row.line, reason)
        if options.rejects_path is None:
            return
        if self.stream is None:
            self.stream = _private_text(options.rejects_path)
            self.writer = csv.writer(self.stream, lineterminator="\r\n")
            self.writer.writerow(["line", "reason", *self.job.header])
            self.tally.rejects_file = str(options.rejects_path)
        self.writer.writerow([row.line, reason, *row.cells])

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


def _private_text(path: Path) -> IO[str]:
    """A new text file readable by its owner only (0600): rejected rows are customers'
    personal data. One left by an earlier run is replaced, not reused with its mode."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    return open(fd, "w", encoding="utf-8", newline="")


def checked(batch: list[Row], check: Callable[[Row], Any], outcomes: Outcomes, tally: Tally) -> list[Any]:
    """What ``check`` makes of each row of the batch; a row it finds a duplicate of a
    record (Skipped) is skipped, one it refuses (CrmError) refused, each with its reason."""
    made = []
    for row in batch:
        try:
            made.append(check(row))
        except Forbidden:
            raise  # stops the run: no row would fare better
        except Skipped as skip:
            tally.skipped += 1
            outcomes[row.line] = f"{SKIPPED}{skip}"
        except CrmError as exc:
            outcomes[row.line] = str(exc)
    return made
