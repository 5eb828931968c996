"""Many customers at once store exactly what one at a time would, and refuse the same."""

from __future__ import annotations

import json

from sqlalchemy.exc import IntegrityError

from crm_tui.config import load_settings
from crm_tui.logic.core import users
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.core.errors import Duplicate
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import batches as customer_batches
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.reports import audit_trail

RECORDS = [
    {
        "name": "Acme GmbH",
        "email": "Info@Acme.example",
        "tags": ["vip", "Key Account"],
        "owner": "bob",
    },
    {
        "name": "Jane Doe",
        "kind": "person",
        "company": "Acme",
        "phone": "+44 20 7946 0958",
        "custom": {"a": 1},
    },
    {
        "name": "Café Zürich",
        "country": "ch",
        "phone": "044 123 45 67",
        "lifecycle": "customer",
        "tags": ["vip"],
    },
    {"name": "Plain"},
]
VOLATILE = {"created_at", "updated_at"}


def _stored(crm):
    page = customers.list_customers(crm, sort="created", limit=100)
    return [c.model_dump(exclude=VOLATILE) for c in page.customers]


def _audit(crm):
    return [
        (e.record, e.action, e.changes) for e in audit_trail.list_entries(crm, entity="customer", limit=100)
    ]


def test_batch_and_single_adds_store_the_same(tmp_path, db_url, crm):
    other = open_crm(load_settings(db=f"sqlite:///{tmp_path / 'single.sqlite3'}"))
    for each in (crm, other):
        users.add_user(each, UserCreate(username="bob", role="sales"))
    for record in RECORDS:
        customers.add_customer(other, CustomerCreate(**record))
    with crm.work("customers.write") as work:
        results = customer_batches.create_batch_in(
            work, [(n, CustomerCreate(**r)) for n, r in enumerate(RECORDS, 1)]
        )
    assert [type(result).__name__ for _, result in results] == ["CustomerRead"] * 4
    assert _stored(crm) == _stored(other)
    assert _audit(crm) == _audit(other)
    assert [result.model_dump(exclude=VOLATILE) for _, result in results] == _stored(crm)
    other.close()


def test_duplicates_within_a_batch_and_against_the_database(crm, counts):
    customers.add_customer(crm, CustomerCreate(name="Old Firm", email="old@firm.example"))
    lines = [
        (1, CustomerCreate(name="New One", email="new@one.example")),
        (2, CustomerCreate(name="Copy Of Old", email="OLD@firm.example")),
        (3, CustomerCreate(name="Copy Of New", email="new@one.example")),
        (4, CustomerCreate(name="new one ltd")),
        (5, CustomerCreate(name="Unrelated", phone="+4930111")),
        (6, CustomerCreate(name="Other", phone="+49 30 111")),
    ]
    with crm.work("customers.write") as work:
        results = dict(customer_batches.create_batch_in(work, lines))
    assert results[1].ref == "C-2" and results[5].ref == "C-3"
    assert str(results[2]).startswith("C-1 Old Firm has the same email (old@firm.example)")
    assert str(results[3]).startswith("line 1 has the same email (new@one.example)")
    assert str(results[4]).startswith("line 1 has the same name")
    assert str(results[6]).startswith("line 5 has the same phone (+4930111)")
    assert all(isinstance(results[n], Duplicate) for n in (2, 3, 4, 6))
    assert counts()["customers"] == 3


def test_force_lets_duplicates_in(crm):
    lines = [(1, CustomerCreate(name="Twin")), (2, CustomerCreate(name="Twin"))]
    with crm.work("customers.write") as work:
        results = customer_batches.create_batch_in(work, lines, force=True)
    assert [r.ref for _, r in results] == ["C-1", "C-2"]


def test_a_batch_the_database_refuses_goes_in_line_by_line(crm, monkeypatch):
    def refuse(*args, **kwargs):
        raise IntegrityError("INSERT", {}, Exception("simulated refusal"))

    monkeypatch.setattr(customer_batches, "_insert", refuse)
    lines = [(1, CustomerCreate(name="A", tags=["x"])), (2, CustomerCreate(name="B"))]
    with crm.work("customers.write") as work:
        results = customer_batches.create_batch_in(work, lines)
    assert [r.ref for _, r in results] == ["C-1", "C-2"]
    assert customers.get_customer(crm, "C-1").tags == ["x"]


def test_cli_from_uses_batches_across_the_batch_size(cli, crm, monkeypatch, tmp_path):
    from crm_tui.logic.exchange import batch

    monkeypatch.setattr(batch, "BATCH_SIZE", 3)
    path = tmp_path / "many.jsonl"
    names = [f"Firm {n}" for n in range(8)] + ["firm 2"]
    path.write_text("\n".join(json.dumps({"name": name}) for name in names) + "\n")
    result = cli("customer", "add", "--from", str(path), "-f", "ids")
    assert result.exit_code == 9
    assert len(result.stdout.split()) == 8
    assert "line 9: C-3 Firm 2 has the same name" in result.stderr
