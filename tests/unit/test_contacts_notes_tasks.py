"""Contacts, the timeline and follow-up tasks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm_tui.logic.core import users
from crm_tui.logic.core.errors import Duplicate, Invalid, NotFound
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import contacts, customers, tasks, timeline
from crm_tui.logic.customers.schemas import (
    ActivityCreate,
    ContactCreate,
    ContactUpdate,
    CustomerCreate,
    TaskCreate,
)
from crm_tui.logic.values.dates import parse_relative_day


@pytest.fixture
def acme(crm):
    return customers.add_customer(crm, CustomerCreate(name="Acme", country="DE")).ref


def test_contacts_use_the_customers_country_for_phones(crm, acme):
    person = contacts.add_contact(crm, ContactCreate(customer=acme, name="Jo Lee", phone="030 1234567"))
    assert person.phone == "+49301234567"
    assert contacts.get_contact(crm, person.ref) == person


def test_contact_duplicates_by_email_anywhere_or_name_at_the_customer(crm, acme):
    contacts.add_contact(crm, ContactCreate(customer=acme, name="Jo Lee", email="jo@acme.example"))
    beta = customers.add_customer(crm, CustomerCreate(name="Beta")).ref
    with pytest.raises(Duplicate, match="P-1 Jo Lee at C-1 Acme has the same email"):
        contacts.add_contact(crm, ContactCreate(customer=beta, name="J. Lee", email="JO@acme.example"))
    with pytest.raises(Duplicate, match="the same name"):
        contacts.add_contact(crm, ContactCreate(customer=acme, name="jo lee"))
    assert contacts.add_contact(crm, ContactCreate(customer=beta, name="Jo Lee")).ref == "P-2"


def test_contact_edit_and_remove(crm, acme):
    contacts.add_contact(crm, ContactCreate(customer=acme, name="Jo"))
    edited = contacts.update_contact(crm, "P-1", ContactUpdate(title="CTO"), expected_version=1)
    assert (edited.title, edited.version) == ("CTO", 2)
    contacts.remove_contact(crm, "P-1")
    with pytest.raises(NotFound, match="no contact P-1"):
        contacts.get_contact(crm, "P-1")


def test_timeline_is_newest_first_and_pages(crm, acme):
    for n in range(5):
        timeline.add_activity(crm, ActivityCreate(customer=acme, body=f"note {n}"))
    first = timeline.timeline(crm, acme, limit=3)
    rest = timeline.timeline(crm, acme, limit=3, before=first[-1].ref)
    assert [a.body for a in first + rest] == [f"note {n}" for n in (4, 3, 2, 1, 0)]


def test_timeline_refuses_empty_and_system_entries(crm, acme):
    with pytest.raises(Invalid, match="needs some text"):
        timeline.add_activity(crm, ActivityCreate(customer=acme, body="  "))
    with pytest.raises(Invalid, match="written by crm itself"):
        timeline.add_activity(crm, ActivityCreate(customer=acme, body="x", kind="system"))


def test_tasks_by_due_scope(crm, acme):
    today = date.today()
    for title, due in [("late", today - timedelta(days=2)), ("now", today), ("soon", today + timedelta(days=3)),
                       ("later", today + timedelta(days=30)), ("whenever", None)]:  # fmt: skip
        tasks.add_task(crm, TaskCreate(title=title, customer=acme, due=due))

    def titles(scope):
        return [t.title for t in tasks.list_tasks(crm, scope=scope, today=today)]

    assert titles("open") == ["late", "now", "soon", "later", "whenever"]
    assert titles("overdue") == ["late"]
    assert titles("today") == ["now"]
    assert titles("week") == ["late", "now", "soon"]
    assert [t.overdue for t in tasks.list_tasks(crm, today=today)] == [
        True,
        False,
        False,
        False,
        False,
    ]
    tasks.set_done(crm, "K-2")
    assert titles("done") == ["now"]
    assert "now" not in titles("open")
    with pytest.raises(Invalid, match="already done"):
        tasks.set_done(crm, "K-2")


def test_tasks_per_assignee(crm, as_user):
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    tasks.add_task(crm, TaskCreate(title="mine"))
    tasks.add_task(crm, TaskCreate(title="his", assignee="bob"))
    assert [t.title for t in tasks.list_tasks(crm)] == ["mine"]
    assert [t.title for t in tasks.list_tasks(as_user("bob"))] == ["his"]
    assert sorted(t.title for t in tasks.list_tasks(crm, assignee=None)) == ["his", "mine"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("today", date(2026, 11, 25)),
        ("Tomorrow", date(2026, 11, 26)),
        ("+3d", date(2026, 11, 28)),
        ("+2w", date(2026, 12, 9)),
        ("friday", date(2026, 11, 27)),
        ("wed", date(2026, 12, 2)),  # 2026-11-25 is a Wednesday: the next one
    ],
)
def test_due_dates_as_people_write_them(text, expected):
    assert parse_relative_day(text, today=date(2026, 11, 25)) == expected


def test_cli_task_flow(cli, crm, acme):
    result = cli("task", "add", "Call back", "--customer", acme, "--due", "today")
    assert result.exit_code == 0 and "Added K-1 for alice" in result.stdout
    listed = cli("task", "list", "today", "-f", "ids")
    assert listed.stdout.split() == ["K-1"]
    assert cli("task", "done", "K-1").exit_code == 0
    again = cli("task", "done", "K-1")
    assert again.exit_code == 3 and "already done" in again.stderr
