"""Fixtures: a fresh database per test, SQLite by default, PostgreSQL when
``CRM_TEST_POSTGRES_URL`` names a server (a URL to its maintenance database)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from crm_tui.config import load_settings
from crm_tui.logic.core.context import Crm, open_crm
from crm_tui.storage.search import is_index_table

POSTGRES = os.environ.get("CRM_TEST_POSTGRES_URL")


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


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's own database, settings or login."""
    home = tmp_path_factory.mktemp("home")
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
    monkeypatch.setenv("CRM_USER", "alice")
    monkeypatch.setenv("LANG", "C.UTF-8")


def _postgres_database() -> Iterator[str]:
    admin = make_url(POSTGRES).set(drivername="postgresql+psycopg")
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def db_url(tmp_path) -> Iterator[str]:
    """A URL to an empty database that crm has never opened."""
    if POSTGRES:
        yield from _postgres_database()
    else:
        yield f"sqlite:///{tmp_path / 'crm.sqlite3'}"


@pytest.fixture
def crm(db_url) -> Iterator[Crm]:
    """crm opened as alice, who becomes the first admin."""
    opened = open_crm(load_settings(db=db_url))
    yield opened
    opened.close()


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
            # The search index is derived data that triggers rewrite; it is not what users stored.
            names = sorted(n for n in inspect(conn).get_table_names() if not is_index_table(n))
            return {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}
    finally:
        engine.dispose()


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
