"""The schema: migrations from the first table, a cheap version check, clear refusals."""

from __future__ import annotations

import re

import pytest

from crm_tui.config import load_settings
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.core.errors import DatabaseProblem
from crm_tui.storage import schema
from crm_tui.storage.database import Database
from crm_tui.storage.models import metadata


def test_head_constant_matches_the_migration_scripts():
    assert schema.script_head() == schema.HEAD


# Alembic cannot compare the import's expression indexes; the test after checks them.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrations_build_exactly_the_models(crm):
    """Autogenerate finds nothing to do: the migrations and the table models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from crm_tui.storage.derived import is_derived_table

    # Derived tables (search index, stage totals) are storage's own, not table models.
    # So are the indexes PostgreSQL alone needs.
    def include_name(name, type_, parent):
        if type_ == "index":
            return name not in schema.POSTGRESQL_ONLY_INDEXES
        return not (type_ == "table" and is_derived_table(name))

    opts = {"include_name": include_name}
    with crm.database.connection() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    assert differences == []


def test_postgresql_has_its_own_indexes_and_sqlite_none(crm):
    from sqlalchemy import inspect

    with crm.database.connection() as conn:
        found = {
            index["name"] for table in ("customers", "deals") for index in inspect(conn).get_indexes(table)
        }
    expected = schema.POSTGRESQL_ONLY_INDEXES if conn.dialect.name == "postgresql" else set()
    assert found & schema.POSTGRESQL_ONLY_INDEXES == expected


def test_the_lower_case_title_indexes_exist(crm):
    """Built by migration 0013, named by the models: what an import's duplicate check seeks."""
    from sqlalchemy import text

    with crm.database.connection() as conn:
        if conn.dialect.name == "sqlite":
            found = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
        else:
            found = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes"))
        # PostgreSQL writes the expression back as lower((title)::text).
        definitions = {name: re.sub(r"[() ]|::text", "", (sql or "").lower()) for name, sql in found}
    assert "customer_id,lowertitle" in definitions["ix_deals_customer_title"]
    assert "customer_id,lowersubject" in definitions["ix_tickets_customer_subject"]


def test_a_newer_database_is_refused_clearly(crm, db_url, counts, cli):
    schema.stamp(crm.database, "9999_from_the_future")
    crm.close()
    before = counts()
    with pytest.raises(DatabaseProblem, match="newer than this crm knows"):
        open_crm(load_settings(db=db_url))
    result = cli("customer", "list")
    assert result.exit_code == 8
    assert "install a newer crm to use it" in result.stderr
    assert cli("customer", "add", "Acme").exit_code == 8
    assert counts() == before


def test_db_status_reports_versions(cli, crm):
    result = cli("db", "status", "-f", "json")
    assert result.exit_code == 0
    assert '"state": "current"' in result.stdout
    assert f'"schema_version": "{schema.HEAD}"' in result.stdout


def test_db_upgrade_refuses_a_newer_database(cli, crm):
    schema.stamp(crm.database, "9999_from_the_future")
    result = cli("db", "upgrade")
    assert result.exit_code == 8
    assert "newer crm" in result.stderr


@pytest.mark.never_opened
def test_db_upgrade_creates_an_empty_database_with_its_first_admin(cli, db_url):
    result = cli("db", "upgrade", user="carol")
    assert result.exit_code == 0, result.stderr
    users = cli("user", "list", "-f", "json", user="carol")
    assert '"username": "carol"' in users.stdout and '"role": "admin"' in users.stdout


@pytest.mark.never_opened
def test_a_database_of_other_tables_is_not_touched(db_url):
    from sqlalchemy import text

    database = Database(db_url)
    with database.connection(write=True) as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    with pytest.raises(DatabaseProblem, match="not a crm database"):
        open_crm(load_settings(db=db_url))
    database.close()


def test_the_suite_runs_on_the_backend_it_was_asked_for(crm):
    from tests.conftest import POSTGRES

    assert crm.database.backend == ("postgresql" if POSTGRES else "sqlite")


@pytest.mark.never_opened
def test_an_older_database_is_refused_until_upgraded_and_keeps_its_data(db_url, cli, counts):
    from sqlalchemy import text

    old = Database(db_url)
    schema.upgrade(old, "0001")
    with old.connection(write=True) as conn:
        conn.execute(
            text(
                "INSERT INTO users (version, username, display_name, role, active, created_at) VALUES (1, 'alice', 'Alice', 'admin', true, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO customers (version, name, name_key, kind, lifecycle, custom, created_at, updated_at) VALUES (1, 'Acme', 'acme', 'company', 'lead', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    old.close()
    before = counts()

    refused = cli("customer", "list")
    assert refused.exit_code == 8
    assert "older than this crm's" in refused.stderr and "crm db upgrade" in refused.stderr
    assert '"state": "older"' in cli("db", "status", "-f", "json").stdout

    upgraded = cli("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert f"schema {schema.HEAD}, up to date" in upgraded.stderr
    assert cli("customer", "list", "-f", "ids").stdout == "C-1\n"
    after = counts()
    assert {table: after[table] for table in before} == {**before, "audit_entries": 1}  # the upgrade's
    assert after["pipelines"] == 1 and after["stages"] == 6  # the default pipeline came with 0003
