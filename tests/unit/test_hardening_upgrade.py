"""`crm db upgrade` of a database crm has used is an admin's work, and is audited; a new,
empty database is still created with its first admin (tests/unit/test_schema.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from crm_tui.config import load_settings
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.reports import audit_trail
from crm_tui.storage import schema
from crm_tui.storage.database import Database
from tests.conftest import POSTGRES, _postgres_database, table_counts

USER = (
    "INSERT INTO users (version, username, display_name, role, active, created_at)"
    " VALUES (1, :name, :name, :role, true, CURRENT_TIMESTAMP)"
)


@pytest.fixture
def db_url(tmp_path):
    """A database crm has never opened, whatever the suite's own db_url gives."""
    if POSTGRES:
        yield from _postgres_database()
    else:
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"


@pytest.fixture
def cli(db_url):
    from crm_tui.cli import app

    def run(*args: str, user: str):
        return CliRunner().invoke(
            app, ["--db", db_url, *args], env={"CRM_USER": user}, catch_exceptions=False
        )

    return run


@pytest.fixture
def counts(db_url):
    return lambda: table_counts(db_url)


def _older(db_url: str, *people: tuple[str, str]) -> None:
    """A database at schema 0001 with these users, as crm's first version left it."""
    old = Database(db_url)
    schema.upgrade(old, "0001")
    with old.connection(write=True) as conn:
        for name, role in people:
            conn.execute(text(USER), {"name": name, "role": role})
    old.close()


def _version(db_url: str) -> str | None:
    database = Database(db_url, create=False)
    try:
        return schema.read_status(database).current
    finally:
        database.close()


@pytest.mark.parametrize(
    ("user", "expected"),
    [("nobody-at-all", "'nobody-at-all' is not a user of this crm"), ("bob", "bob (sales) may not do this")],
)
def test_an_older_database_is_upgraded_by_an_admin_only(db_url, cli, counts, user, expected):
    _older(db_url, ("alice", "admin"), ("bob", "sales"))
    before = counts()
    result = cli("db", "upgrade", user=user)
    assert result.exit_code == 7, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("crm: error: ")
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert counts() == before and _version(db_url) == "0001"


def test_an_upgrade_leaves_an_audit_entry_of_the_versions(db_url, cli):
    _older(db_url, ("alice", "admin"), ("bob", "sales"))
    result = cli("db", "upgrade", user="alice")
    assert result.exit_code == 0, result.stderr
    assert _version(db_url) == schema.HEAD
    crm = open_crm(load_settings(db=db_url, user="alice"))
    try:
        (entry,) = audit_trail.list_entries(crm, entity="database")
    finally:
        crm.close()
    assert (entry.actor, entry.record, entry.action) == ("alice", "database", "upgrade")
    assert entry.changes == {"schema_version": ["0001", schema.HEAD]}
    shown = cli("audit", "list", "--kind", "database", "-f", "json", user="alice")
    assert shown.exit_code == 0 and '"record": "database"' in shown.stdout
    again = cli("db", "upgrade", user="bob")  # up to date: nothing to do, nothing to refuse
    assert again.exit_code == 0 and "up to date" in again.stderr


def test_an_older_database_without_users_makes_its_upgrader_the_first_admin(db_url, cli):
    _older(db_url)
    result = cli("db", "upgrade", user="carol")
    assert result.exit_code == 0, result.stderr
    users = cli("user", "list", "-f", "json", user="carol")
    assert '"username": "carol"' in users.stdout and '"role": "admin"' in users.stdout
