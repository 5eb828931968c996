"""Fixtures: a database per test, SQLite by default, PostgreSQL when
``CRM_TEST_POSTGRES_URL`` names a server (a URL to its maintenance database).

Bringing a new database through every migration costs more than most tests do, so a
test session (each xdist worker its own) migrates one template, as ``open_crm`` does on
first use, and every test gets a copy: the file copied for SQLite, ``CREATE DATABASE ...
TEMPLATE`` on PostgreSQL. A test about a database crm has never opened (first use,
upgrades, foreign tables) is marked ``never_opened`` and gets an empty one instead.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from crm_tui.config import load_settings
from crm_tui.logic.core.context import Crm, open_crm
from crm_tui.storage import database
from crm_tui.storage.derived import is_derived_table
from crm_tui.storage.types import SERVER_CLOCK

POSTGRES = os.environ.get("CRM_TEST_POSTGRES_URL")
# The acting user of every test unless it says otherwise, and so the template's first admin.
TEMPLATE_USER = "alice"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Two workers per core for ``-n auto``: a desk test spends most of its time waiting
    for the app to go idle (Textual's pilot sleeps until it is), and a second worker
    computes meanwhile."""
    return 2 * (os.cpu_count() or 1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres_only: checks PostgreSQL behaviour; runs when CRM_TEST_POSTGRES_URL is set"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES:
        skip = pytest.mark.skip(reason="SQLite file behaviour; this run is on PostgreSQL")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)
    else:
        skip = pytest.mark.skip(reason="PostgreSQL behaviour; set CRM_TEST_POSTGRES_URL to run it")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


def _isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    for name in (
        "CRM_DB",
        "CRM_DATABASE_URL",
        "CRM_CONFIG",
        "CRM_DEFAULT_COUNTRY",
        "CRM_PAGE_SIZE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("CRM_USER", TEMPLATE_USER)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's own database, settings or login. The clock crm
    stamps times with is this machine's, which tests stop and move, and not a
    PostgreSQL server's (but in tests/unit/test_server_clock.py)."""
    _isolate(monkeypatch, tmp_path_factory.mktemp("home"))
    monkeypatch.setattr(database, "FOLLOW_SERVER_CLOCK", False)
    monkeypatch.setattr(SERVER_CLOCK, "ahead", timedelta(0))


def _make_template(url: str, home: Path) -> None:
    """Open ``url`` as a test would, so crm migrates it and makes its first admin."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _isolate(monkeypatch, home)
        open_crm(load_settings(db=url)).close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a database file crm has opened once and closed."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "crm.sqlite3"
    _make_template(f"sqlite:///{path}", folder)
    # Closed by its last connection, the file is whole: WAL checkpointed, no -wal or -shm beside it.
    assert sorted(p.name for p in folder.glob("crm.sqlite3*")) == ["crm.sqlite3"]
    return path.read_bytes()


def _write_private(path: Path, content: bytes) -> None:
    """Write a database file the way crm creates one: new, and its owner's only (0600)."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with open(fd, "wb") as file:
        file.write(content)


OBJECT_IN_USE = "55006"  # PostgreSQL: the database is being accessed by other users


def _postgres_admin():
    return make_url(POSTGRES).set(drivername="postgresql+psycopg")


def _postgres_url(name: str) -> str:
    return _postgres_admin().set(database=name).render_as_string(hide_password=False)


def _postgres_command(sql: str) -> None:
    engine = create_engine(_postgres_admin(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def _create_postgres_database(template: str | None = None) -> str:
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    _postgres_command(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def _drop_postgres_database(name: str) -> None:
    """Drop a test's database. Connections a test left open (its own role's) are ended
    first, and the database is dropped without FORCE: a role that may only create
    databases (CI's) may not end the server's autovacuum workers, which FORCE tries to
    and a plain DROP stops itself."""
    for attempt in range(20):
        _postgres_command(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND usename = current_user AND pid <> pg_backend_pid()"
        )
        try:
            _postgres_command(f'DROP DATABASE IF EXISTS "{name}"')
            return
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != OBJECT_IN_USE or attempt == 19:
                raise
            time.sleep(0.1)


def _postgres_database(template: str | None = None) -> Iterator[str]:
    """A URL to a new database, empty or a copy of ``template``; dropped afterwards."""
    name = _create_postgres_database(template)
    try:
        yield _postgres_url(name)
    finally:
        _drop_postgres_database(name)


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The name of a database crm has opened once and closed: PostgreSQL copies a template
    only while no one is connected to it."""
    name = _create_postgres_database()
    try:
        _make_template(_postgres_url(name), tmp_path_factory.mktemp("template"))
        yield name
    finally:
        _drop_postgres_database(name)


# The demo databases made so far, by the minute and time zone they were made in (see demo_file).
_DEMO_FILES: dict[tuple[datetime, str], bytes] = {}
_HAS_DEMO = pytest.StashKey[bool]()


def demo_file(folder: Path) -> bytes:
    """The bytes of a database file holding the demo, as `crm demo load` makes it now.

    Loading the demo costs more than most desk tests, so a test session makes one per
    minute of the clock and tests copy it. The demo's dates are relative to now: one made
    in this minute is what the test would make itself, near enough; a clock that stands
    still (the snapshots' frozen time) stays in one minute, so its demo is made once.
    """
    from crm_tui.logic.admin import demo

    minute = (datetime.now(UTC).replace(second=0, microsecond=0), os.environ.get("TZ", ""))
    if minute not in _DEMO_FILES:
        path = folder / f"demo-{len(_DEMO_FILES)}.sqlite3"
        with pytest.MonkeyPatch.context() as monkeypatch:
            _isolate(monkeypatch, folder)
            crm = open_crm(load_settings(db=f"sqlite:///{path}"))
            demo.load_demo(crm)
            crm.close()
        _DEMO_FILES[minute] = path.read_bytes()
    return _DEMO_FILES[minute]


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory) -> Iterator[str]:
    """A URL to this test's own database, as crm leaves it on first use by alice: migrated,
    alice its first admin; with the demo in it when the test asks for ``demo_crm``.
    Marked ``never_opened`` (or acting as another user), an empty database that crm has
    never opened."""
    fresh = (
        request.node.get_closest_marker("never_opened") is not None
        or os.environ.get("CRM_USER") != TEMPLATE_USER
    )
    if POSTGRES:
        yield from _postgres_database(None if fresh else request.getfixturevalue("postgres_template"))
    else:
        path = tmp_path / "crm.sqlite3"
        if not fresh:
            with_demo = "demo_crm" in request.fixturenames
            content = demo_file(tmp_path_factory.getbasetemp()) if with_demo else None
            _write_private(path, content or request.getfixturevalue("sqlite_template"))
            request.node.stash[_HAS_DEMO] = with_demo
        yield f"sqlite:///{path}"


@pytest.fixture
def crm(db_url) -> Iterator[Crm]:
    """crm opened as alice, its first admin."""
    opened = open_crm(load_settings(db=db_url))
    yield opened
    opened.close()


@pytest.fixture
def demo_crm(request: pytest.FixtureRequest, crm: Crm) -> Crm:
    """crm opened as alice on a database holding the demo (its team, customers, deals,
    orders, tickets and tasks)."""
    if not request.node.stash.get(_HAS_DEMO, False):
        from crm_tui.logic.admin import demo

        demo.load_demo(crm)
    return crm


@pytest.fixture
def as_user(db_url):
    """Open the same database as another user: ``as_user("bob")``."""
    opened: list[Crm] = []

    def open_as(username: str) -> Crm:
        other = open_crm(load_settings(db=db_url, user=username))
        opened.append(other)
        return other

    yield open_as
    for other in opened:
        other.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner, db_url):
    """Run `crm --db URL ARGS...` in-process; returns Click's result (stdout and stderr apart)."""
    from crm_tui.cli import app

    def run(*args: str, input: str | None = None, user: str | None = None):
        env = {"CRM_USER": user} if user else None
        return runner.invoke(app, ["--db", db_url, *args], input=input, env=env, catch_exceptions=False)

    return run


def table_counts(url: str) -> dict[str, int]:
    """Rows in every table: two equal snapshots mean nothing was written."""
    engine = create_engine(
        make_url(url).set(drivername="postgresql+psycopg") if url.startswith("postgres") else url
    )
    try:
        with engine.connect() as conn:
            # Derived data that triggers rewrite (search index, stage totals) is not what users stored.
            names = sorted(n for n in inspect(conn).get_table_names() if not is_derived_table(n))
            return {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}
    finally:
        engine.dispose()


def all_rows(url: str) -> dict[str, list[dict]]:
    """Every row of every crm table, as an export reads them: two equal results mean
    the same data, value for value."""
    from crm_tui.logic.exchange import exports

    crm = open_crm(load_settings(db=url))
    try:
        with exports.snapshot(crm) as conn:
            return {t.name: [exports.plain_row(r) for r in exports.rows(conn, t)] for t in exports.tables()}
    finally:
        crm.close()


@pytest.fixture
def counts(db_url):
    return lambda: table_counts(db_url)


class Clock:
    """The time the ticket rules see; tests move it forward by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **span: float) -> None:
        self.now += timedelta(**span)


@pytest.fixture
def clock(monkeypatch):
    """Ticket rules' clock, from Monday 2026-11-23 08:00 UTC."""
    from crm_tui.logic.service import replies, tickets

    fake = Clock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    for reads_the_time in (tickets, replies):
        monkeypatch.setattr(reads_the_time, "utcnow", fake)
    return fake


# Figures the reliability tests count (kills, integrity checks, writes, examples), summed
# over every worker's reports and printed at the end. These hooks live here, not in
# tests/reliability/conftest.py: under pytest-xdist only the main process prints the
# summary, and it loads this top-level conftest alone.
FIGURES = "reliability figures"
SOAK = os.environ.get("CRM_SOAK", "") not in ("", "0")
_totals: Counter[str] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "teardown":
        for name, value in report.user_properties:
            if name == FIGURES:
                _totals.update(value)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not _totals:
        return
    backend = "PostgreSQL" if POSTGRES else "SQLite"
    mode = "soak" if SOAK else "CI"
    terminalreporter.section(f"reliability figures ({mode} mode, {backend})")
    width = max(len(name) for name in _totals)
    for name in sorted(_totals):
        terminalreporter.write_line(f"{name:<{width}}  {_totals[name]:>9,}")
