"""Opening a database: the engine, the per-connection settings, and units of work.

SQLite is tuned for a small team sharing one file: WAL so readers never wait for a
writer, a busy timeout so a writer waits politely instead of failing with "database is
locked", and ``BEGIN IMMEDIATE`` for writes so the write lock is taken up front (a
deferred transaction that upgrades to a writer later can fail with SQLITE_BUSY at once,
whatever the timeout).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from crm_tui.storage.errors import DatabaseUnavailable, StaleRecord
from crm_tui.storage.types import SERVER_CLOCK

BUSY_TIMEOUT_MS = 15_000
_WRITE = "crm_write"


def normalise_url(text: str) -> URL:
    """Parse a database URL; bare ``postgresql://`` means the psycopg 3 driver."""
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"not a database URL: {text!r}") from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(
            f"unsupported database {url.get_backend_name()!r}: use a SQLite file or PostgreSQL"
        )
    return url


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _create_private_file(path: Path) -> None:
    """Create an empty database file readable by its owner only (0600)."""
    if path.is_dir():
        raise DatabaseUnavailable(f"{path} is a folder, not a database file")
    if not path.parent.is_dir():
        raise DatabaseUnavailable(f"cannot create the database: folder {path.parent} does not exist")
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot create the database {path}: {exc.strerror}") from exc
    os.close(fd)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        writing = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


# How SQLite is set while an import commits batch after batch:
# - WAL pages written between automatic checkpoints. At SQLite's default (1,000 pages)
#   nearly every batch's commit ran a checkpoint with its fsync: a seventh of a contact
#   import's time.
# - the page cache, in KiB. At SQLite's default (2,000 KiB) the index pages a batch of
#   contacts writes to (their emails and names go in at random places) did not fit,
#   and went out and back in: half the time of the inserts.
BULK_PRAGMAS = ("PRAGMA wal_autocheckpoint = 16384", "PRAGMA cache_size = -16384")
_USUAL_PRAGMAS = ("PRAGMA wal_autocheckpoint = 1000", "PRAGMA cache_size = -2000")


def tune_for_imports(connection: Connection, importing: bool = True) -> None:
    """SQLite: set this connection for an import's batches (``BULK_PRAGMAS``), or back
    to SQLite's defaults; nothing on other databases."""
    if connection.dialect.name == "sqlite":
        for pragma in BULK_PRAGMAS if importing else _USUAL_PRAGMAS:
            connection.exec_driver_sql(pragma)


# PostgreSQL's advisory lock key for setting a database up (its schema, its first
# admin): a number of crm's own, which no other program is likely to choose.
_SETUP_LOCK = 0x63726D_5345  # "crm", "SE"


def hold_setup_lock(connection: Connection) -> None:
    """Keep other crm processes from setting up this database until this transaction
    ends, so that of several opening a new database at once exactly one creates its
    schema and its first admin, and the others wait and then find them made. SQLite
    needs nothing more: a write transaction (BEGIN IMMEDIATE) holds the database's one
    write lock already."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SETUP_LOCK})")


def make_engine(url: URL) -> Engine:
    """An engine for ``url`` with crm's connection settings; nothing is opened yet."""
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _tune_sqlite(engine)
        return engine
    # No statements prepared on the server (psycopg prepares one run five times on a
    # connection): behind a pooler in transaction mode (PgBouncer) the next transaction
    # may get another server connection, where the name is unknown or taken.
    engine = create_engine(url, pool_pre_ping=True, connect_args={"prepare_threshold": None})
    _follow_server_clock(engine)
    return engine


# Clocks that differ by less than this are taken for one: the measure is no better than
# a round trip to the server, and correcting by its error would make times step back
# and forth from one connection to the next.
CLOCK_TOLERANCE = timedelta(seconds=1)
# Whether crm stamps times by the server's clock on PostgreSQL; tests that stop this
# machine's clock to know the times crm writes turn it off.
FOLLOW_SERVER_CLOCK = True


def _follow_server_clock(engine: Engine) -> None:
    """Measure the server's clock against this machine's as each connection opens,
    and have ``types.utcnow`` follow it when they differ."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if not FOLLOW_SERVER_CLOCK:
            return
        before = datetime.now(UTC)
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            (server,) = cursor.fetchone()
        after = datetime.now(UTC)
        dbapi_connection.rollback()  # the transaction the query began
        ahead = server - (before + (after - before) / 2)
        SERVER_CLOCK.ahead = ahead if abs(ahead) >= CLOCK_TOLERANCE else timedelta(0)


class Database:
    """One database: its URL, its engine, and units of work on it."""

    def __init__(self, url: str | URL, *, create: bool = True) -> None:
        self.url = url if isinstance(url, URL) else normalise_url(url)
        self.path = sqlite_file(self.url)
        if self.path is not None:
            if create:
                _create_private_file(self.path)
            elif not self.path.is_file():
                raise DatabaseUnavailable(f"no database at {self.path}")
        self.engine = make_engine(self.url)
        self._writer = self.engine.execution_options(**{_WRITE: True})

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    def describe(self) -> str:
        """Where the data is, for messages: a path, or the URL without its password."""
        if self.path is not None:
            return str(self.path)
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """A session whose work is committed as a whole at the end, or not at all."""
        with Session(self._writer if write else self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except StaleDataError as exc:
                session.rollback()
                raise StaleRecord(str(exc)) from exc
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def connection(self, *, write: bool = False) -> Iterator[Any]:
        """A plain connection in one transaction, for bulk work and schema changes."""
        engine = self._writer if write else self.engine
        with engine.begin() as conn:
            yield conn

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
