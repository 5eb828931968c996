"""A database crm cannot reach, or may not write to, is told in one line with exit 8:
the database's own words, never the SQL statement or the values it carried."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, make_url, text

from crm_tui.storage.errors import driver_message
from tests.conftest import table_counts

DATABASE_PROBLEM = 8


def _one_line(stderr: str) -> str:
    assert stderr.count("\n") == 1 and stderr.startswith("crm: error: "), stderr
    assert "\\n" not in stderr and "[SQL" not in stderr and "parameters" not in stderr, stderr
    return stderr


def test_a_server_that_refuses_the_connection_is_told_in_one_line(cli, runner):
    from crm_tui.cli import app

    url = "postgresql+psycopg://crm@127.0.0.1:1/crm"
    result = runner.invoke(app, ["--db", url, "customer", "list"], catch_exceptions=False)
    assert result.exit_code == DATABASE_PROBLEM
    line = _one_line(result.stderr)
    assert "port 1 failed: Connection refused; Is the server running" in line


@pytest.mark.postgres_only
def test_a_login_without_the_right_to_write_is_told_in_one_line_and_nothing_is_stored(cli, db_url):
    assert cli("customer", "add", "Acme GmbH").exit_code == 0
    engine = create_engine(make_url(db_url).set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as conn:  # the login keeps reading, and may write nothing
            conn.execute(
                text("REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM CURRENT_USER")
            )
    finally:
        engine.dispose()
    before = table_counts(db_url)
    result = cli("note", "add", "C-1", "the secret price is 42")
    assert result.exit_code == DATABASE_PROBLEM
    line = _one_line(result.stderr)
    assert "permission denied for table" in line
    assert "secret" not in line and "INSERT" not in line
    assert table_counts(db_url) == before
    assert cli("customer", "list").exit_code == 0


class _Psycopg(Exception):
    """What psycopg raised for a wrong password, tried with TLS and without."""


def test_the_driver_s_words_come_on_one_line_each_said_once():
    words = (
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
        'password authentication failed for user "crm"\n'
        'connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
        'password authentication failed for user "crm"\n'
    )
    assert driver_message(_Psycopg(words)) == (
        'connection to server at "127.0.0.1", port 5432 failed: FATAL: '
        'password authentication failed for user "crm"'
    )


def test_an_error_of_crm_s_own_shows_no_sql_either(cli, monkeypatch):
    """A statement the database refuses for crm's fault (a bug: exit 1) is reported by
    the database's words alone."""
    from sqlalchemy.exc import IntegrityError

    from crm_tui.logic.customers import customers

    def broken(*args, **kwargs):
        raise IntegrityError(
            "INSERT INTO customers (name) VALUES (?)", ("Secret Corp",), _Psycopg("NOT NULL")
        )

    monkeypatch.setattr(customers, "list_customers", broken)
    result = cli("customer", "list")
    assert result.exit_code == 1
    assert result.stderr == "crm: error: unexpected IntegrityError: NOT NULL (run with --debug for details)\n"


@pytest.mark.postgres_only
def test_no_statement_is_prepared_on_the_server_so_that_a_pooler_in_transaction_mode_serves_crm(crm):
    """PgBouncer in transaction mode gives each transaction any server connection: a
    statement psycopg prepared on one (after five runs) is unknown, or its name taken,
    on the next. An import through it failed so."""
    with crm.work() as work:
        for n in range(10):
            work.session.execute(text("SELECT count(*) FROM customers WHERE id > :n"), {"n": n})
        prepared = work.session.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one()
    assert prepared == 0
