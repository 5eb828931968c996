"""Several people opening a new, empty database at once, each with a `crm` of their own:
exactly one process creates the schema and makes its user the first admin; the others
wait for it and then use the database. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from crm_tui.config import load_settings
from crm_tui.logic.core.context import open_crm
from crm_tui.storage import schema
from crm_tui.storage.database import Database

PEOPLE = 5


def _open_at_once(db_url: str, usernames: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """`crm --user NAME customer list` for each name, all started before any ends."""
    env = {**os.environ, "CRM_DATABASE_URL": db_url}
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "crm_tui", "--user", name, "customer", "list", "--format", "json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in usernames
    ]
    done = []
    for process in running:
        out, err = process.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


def _users_and_schema(db_url: str) -> tuple[list[tuple[str, str]], int]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            users = [tuple(row) for row in conn.execute(text("SELECT username, role FROM users ORDER BY id"))]
            versions = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    return users, versions


@pytest.mark.never_opened
def test_one_person_opening_a_new_database_from_several_processes_at_once_gets_in_from_each(db_url):
    results = _open_at_once(db_url, ["alice"] * PEOPLE)
    assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * PEOPLE
    assert all(r.stdout.strip() == "[]" for r in results)
    assert _users_and_schema(db_url) == ([("alice", "admin")], 1)


@pytest.mark.never_opened
def test_of_several_people_opening_a_new_database_at_once_one_becomes_its_admin(db_url):
    names = [f"u{n}" for n in range(PEOPLE)]
    results = _open_at_once(db_url, names)
    users, versions = _users_and_schema(db_url)
    assert versions == 1
    assert len(users) == 1 and users[0][1] == "admin"
    admin = users[0][0]
    for name, result in zip(names, results, strict=True):
        if name == admin:
            assert (result.returncode, result.stderr) == (0, "")
        else:  # the others are not users of it: refused, each in one line
            assert result.returncode == 7, result.stderr
            assert result.stderr.count("\n") == 1
            assert f"'{name}' is not a user of this crm" in result.stderr


@pytest.mark.never_opened
def test_a_database_left_without_its_first_admin_gets_one_when_next_opened(db_url):
    """A crm stopped between creating the schema and adding its first admin left a
    database no one could use; the next person to open it becomes its admin."""
    database = Database(db_url)
    schema.upgrade(database)
    database.close()
    crm = open_crm(load_settings(db=db_url, user="bob"))
    crm.close()
    assert _users_and_schema(db_url) == ([("bob", "admin")], 1)
