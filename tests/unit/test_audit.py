"""Every change leaves an audit entry with its actor and each field's old and new value."""

from __future__ import annotations

import pytest

from crm_tui.logic.core import users
from crm_tui.logic.core.errors import Forbidden
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import contacts, customers, tasks, timeline
from crm_tui.logic.customers.schemas import (
    ActivityCreate,
    ContactCreate,
    ContactUpdate,
    CustomerCreate,
    CustomerUpdate,
    TaskCreate,
)
from crm_tui.logic.reports import audit_trail


def last(crm, record=None):
    return audit_trail.list_entries(crm, record=record, limit=1)[0]


def test_create_records_every_given_field(crm):
    customers.add_customer(crm, CustomerCreate(name="Acme GmbH", email="info@acme.example", tags=["vip"]))
    entry = last(crm)
    assert (entry.actor, entry.record, entry.action) == ("alice", "C-1", "create")
    assert entry.changes["name"] == [None, "Acme GmbH"]
    assert entry.changes["email"] == [None, "info@acme.example"]
    assert entry.changes["tags"] == [None, ["vip"]]


def test_update_records_old_and_new_values_of_changed_fields_only(crm):
    customers.add_customer(crm, CustomerCreate(name="Acme", city="Bonn", email="a@acme.example"))
    customers.update_customer(crm, "C-1", CustomerUpdate(city="Berlin", email="a@acme.example"))
    entry = last(crm)
    assert entry.action == "update"
    assert entry.changes == {"city": ["Bonn", "Berlin"]}


def test_each_kind_of_change_is_audited_by_its_actor(crm, as_user):
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    bob = as_user("bob")
    steps = [
        (lambda: customers.add_customer(bob, CustomerCreate(name="Acme")), "C-1", "create"),
        (lambda: customers.tag_customer(bob, "C-1", ["vip"]), "C-1", "tag"),
        (lambda: customers.untag_customer(bob, "C-1", ["vip"]), "C-1", "untag"),
        (lambda: customers.archive_customer(bob, "C-1"), "C-1", "archive"),
        (lambda: customers.restore_customer(bob, "C-1"), "C-1", "restore"),
        (
            lambda: contacts.add_contact(bob, ContactCreate(customer="C-1", name="Jo")),
            "P-1",
            "create",
        ),
        (lambda: contacts.update_contact(bob, "P-1", ContactUpdate(title="CEO")), "P-1", "update"),
        (lambda: contacts.remove_contact(bob, "P-1"), "P-1", "remove"),
        (
            lambda: timeline.add_activity(bob, ActivityCreate(customer="C-1", body="hi")),
            "N-",
            "create",
        ),
        (lambda: tasks.add_task(bob, TaskCreate(title="Call")), "K-1", "create"),
        (lambda: tasks.set_done(bob, "K-1"), "K-1", "done"),
        (lambda: tasks.set_done(bob, "K-1", False), "K-1", "reopen"),
    ]
    for step, record, action in steps:
        before = len(audit_trail.list_entries(crm, limit=1000))
        step()
        assert len(audit_trail.list_entries(crm, limit=1000)) == before + 1, action
        entry = last(crm)
        assert (entry.actor, entry.action) == ("bob", action)
        assert entry.record.startswith(record)
        assert entry.changes, f"{action} recorded no values"
    removed = audit_trail.list_entries(crm, record="P-1", limit=1)[0]
    assert removed.changes["title"] == ["CEO", None]
    assert removed.changes["name"] == ["Jo", None]


def test_user_changes_are_audited(crm):
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    users.set_active(crm, "bob", False)
    entry = last(crm)
    assert (entry.actor, entry.record, entry.action, entry.changes) == (
        "alice",
        "U-2",
        "deactivate",
        {"active": [True, False]},
    )


def test_a_refused_change_leaves_no_entry(crm):
    customers.add_customer(crm, CustomerCreate(name="Acme", email="a@acme.example"))
    count = len(audit_trail.list_entries(crm, limit=1000))
    with pytest.raises(Exception, match="invalid email"):
        customers.update_customer(crm, "C-1", CustomerUpdate(email="broken"))
    assert len(audit_trail.list_entries(crm, limit=1000)) == count


def test_only_admins_and_managers_read_the_audit_log(crm, as_user):
    users.add_user(crm, UserCreate(username="sam", role="sales"))
    with pytest.raises(Forbidden, match="needs the role admin or manager"):
        audit_trail.list_entries(as_user("sam"))


def test_cli_audit_list_filters_by_record(cli):
    cli("customer", "add", "Acme")
    cli("customer", "add", "Beta")
    cli("customer", "edit", "C-2", "--city", "Rome")
    result = cli("audit", "list", "C-2", "-f", "jsonl")
    assert result.exit_code == 0
    actions = [line.split('"action": "')[1].split('"')[0] for line in result.stdout.splitlines()]
    assert actions == ["update", "create"]
