"""Several people working at once, each in a process of their own: writers adding
customers, notes, deals and tickets and editing their customers while a reader lists,
searches and reports. Nothing a writer was told is stored may be missing afterwards,
nobody may see "database is locked", and the audit trail must match the rows. On SQLite
and on PostgreSQL (``CRM_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from crm_tui.logic.core import users
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from tests.reliability import checks

MEMBER = Path(__file__).with_name("team_member.py")
# kind in the writers' logs: (table, the column that holds what the writer gave it, the
# word after the writer's name in it)
STORED = {
    "customer": ("customers", "name", "customer"),
    "activity": ("activities", "body", "note"),
    "deal": ("deals", "title", "deal"),
    "ticket": ("tickets", "subject", "ticket"),
}
STARTING_SECONDS = 120  # at most, for every process to start and connect


def run_team(db_url: str, members: list[tuple[str, str]], seconds: float, folder: Path) -> dict[str, list]:
    """Run each (user, role) as a process; once all are connected, let them work for
    ``seconds``. Returns their logs."""
    go = folder / "go"
    running = {
        user: subprocess.Popen(
            [sys.executable, str(MEMBER), db_url, user, str(go), str(folder / user), role],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for user, role in members
    }
    waiting_since = time.monotonic()
    while not all((folder / user).exists() and (folder / user).read_text() for user in running):
        assert time.monotonic() - waiting_since < STARTING_SECONDS, "the team did not start"
        assert all(process.poll() is None for process in running.values()), "a member stopped early"
        time.sleep(0.05)
    (folder / "go.tmp").write_text(str(time.time() + seconds))
    (folder / "go.tmp").rename(go)
    for user, process in running.items():
        _, err = process.communicate(timeout=seconds + 300)
        assert process.returncode == 0, f"{user}: {err.decode(errors='replace')}"
    return {
        user: [json.loads(line) for line in (folder / user).read_text(encoding="utf-8").splitlines()]
        for user, _ in members
    }


def test_writers_at_once_lose_nothing_and_never_see_a_locked_database(db_url, crm, scale, figures, tmp_path):
    writers = [f"writer{n}" for n in range(scale.writers)]
    for user in writers:
        users.add_user(crm, UserCreate(username=user, role="sales"))
    users.add_user(crm, UserCreate(username="reader", role="viewer"))
    for n in range(5):
        customers.add_customer(crm, CustomerCreate(name=f"Shared {n} GmbH"))

    logs = run_team(
        db_url,
        [*((user, "writer") for user in writers), ("reader", "reader")],
        scale.writing_seconds,
        tmp_path,
    )

    errors = [
        f"{user}: {entry['error']}" for user, entries in logs.items() for entry in entries if "error" in entry
    ]
    figures["'database is locked' seen by writers and readers"] += sum("locked" in error for error in errors)
    figures["reads by the reader while writers wrote"] += sum(
        entry["count"] for entry in logs["reader"] if entry.get("kind") == "reads"
    )
    made = {user: [entry for entry in logs[user] if entry.get("kind") in STORED] for user in writers}
    edits = {user: [entry for entry in logs[user] if entry.get("kind") == "edit"] for user in writers}
    figures["writes by concurrent writers (records and edits)"] += sum(map(len, made.values())) + sum(
        map(len, edits.values())
    )

    with checks.connected(db_url) as conn:
        problems = lost(conn, made, edits)
        figures["writes lost"] += len(problems)
        problems += unaudited(conn, made, edits)
        problems += checks.everything(conn)
    assert not errors, "\n".join(errors[:20])
    assert not problems, "\n".join(problems[:20])
    assert all(made.values()), f"a writer stored nothing in {scale.writing_seconds}s: {made}"


def lost(conn, made: dict[str, list], edits: dict[str, list]) -> list[str]:
    """What a writer was told is stored and is not, or is stored differently; and what
    is stored in a writer's name that it was not told about."""
    problems = []
    for kind, (table, column, word) in STORED.items():
        stored = dict(conn.exec_driver_sql(f"SELECT id, {column} FROM {table}").fetchall())
        for user, entries in made.items():
            told = {entry["id"]: entry["name"] for entry in entries if entry["kind"] == kind}
            for record_id, name in told.items():
                if stored.get(record_id) != name:
                    problems.append(
                        f"{user}'s {kind} {record_id} {name!r} is stored as {stored.get(record_id)!r}"
                    )
            unreported = {
                record_id for record_id, name in stored.items() if name.startswith(f"{user} {word} ")
            } - set(told)
            if unreported:
                problems.append(f"{user}'s {kind}s {sorted(unreported)} are stored, yet it was never told so")
    cities = dict(conn.exec_driver_sql("SELECT id, city || ' ' || version FROM customers").fetchall())
    for user, entries in edits.items():
        last = {entry["id"]: f"{entry['name']} {entry['version']}" for entry in entries}
        problems += [
            f"{user}'s edit of customer {record_id} to {city!r} is stored as {cities.get(record_id)!r}"
            for record_id, city in last.items()
            if cities.get(record_id) != city
        ]
    return problems


def unaudited(conn, made: dict[str, list], edits: dict[str, list]) -> list[str]:
    """Each record made has its creation in the audit trail, by the writer who made it,
    and each edit its entry."""
    entries = defaultdict(list)
    for entity, entity_id, action, username in conn.exec_driver_sql(
        "SELECT a.entity, a.entity_id, a.action, u.username FROM audit_entries a JOIN users u ON u.id = a.actor_id"
    ):
        entries[entity, entity_id].append((action, username))
    problems = [
        f"{user}'s {entry['kind']} {entry['id']} has no audit entry of its creation by {user}"
        for user, records in made.items()
        for entry in records
        if ("create", user) not in entries[entry["kind"], entry["id"]]
    ]
    for user, done in edits.items():
        edited = defaultdict(int)
        for entry in done:
            edited[entry["id"]] += 1
        problems += [
            f"{user} edited customer {record_id} {times} times; the audit trail has {recorded}"
            for record_id, times in edited.items()
            if (recorded := entries["customer", record_id].count(("update", user))) != times
        ]
    return problems
