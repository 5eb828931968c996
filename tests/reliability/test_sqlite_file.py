"""SQLite as a shared team file: private mode, WAL, foreign keys, polite waiting."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate

pytestmark = pytest.mark.sqlite_only


def test_the_default_database_lives_in_the_data_folder_owner_only_with_wal(runner):
    from crm_tui.cli import app

    assert runner.invoke(app, ["customer", "add", "Acme GmbH", "--email", "info@acme.example"]).exit_code == 0
    listed = runner.invoke(app, ["customer", "list", "--format", "json"])
    assert json.loads(listed.stdout)[0]["email"] == "info@acme.example"
    folder = Path(os.environ["XDG_DATA_HOME"]) / "crm"
    path = folder / "crm.sqlite3"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_every_connection_is_tuned(crm):
    with crm.database.connection() as conn:
        settings = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    assert settings == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 15000,
        "synchronous": 1,
    }


def test_a_writer_waits_for_another_instead_of_failing(crm, db_url):
    """A second writer waits for the lock (busy timeout) and then succeeds."""
    path = db_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    done = threading.Event()

    def write():
        customers.add_customer(crm, CustomerCreate(name="Waited"))
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.5)
    assert not done.is_set()  # still waiting for the lock, not failed
    holder.execute("ROLLBACK")
    thread.join(timeout=10)
    assert done.is_set()
    holder.close()


def test_processes_writing_at_once_lose_nothing(crm, db_url, tmp_path):
    """Four processes add 25 customers each at the same time: all 100 are stored."""
    script = (
        "import sys\n"
        "from crm_tui.config import load_settings\n"
        "from crm_tui.logic.core.context import open_crm\n"
        "from crm_tui.logic.customers import customers\n"
        "from crm_tui.logic.customers.schemas import CustomerCreate\n"
        "crm = open_crm(load_settings(db=sys.argv[1], user='alice'))\n"
        "for n in range(25):\n"
        "    customers.add_customer(crm, CustomerCreate(name=f'{sys.argv[2]} {n}'))\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, db_url, f"worker{w}"], stderr=subprocess.PIPE)
        for w in range(4)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err.decode()
    page = customers.list_customers(crm, limit=1000)
    assert len(page.customers) == 100
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
