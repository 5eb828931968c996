"""Two people editing the same record: the second save is refused, never silently lost."""

from __future__ import annotations

import threading

import pytest

from crm_tui.logic.core.errors import Conflict
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate, CustomerUpdate


@pytest.fixture
def team(crm, as_user):
    from crm_tui.logic.core import users
    from crm_tui.logic.core.schemas import UserCreate

    users.add_user(crm, UserCreate(username="bob", role="sales"))
    return crm, as_user("bob")


def test_second_save_from_a_stale_read_is_refused(team):
    alice, bob = team
    created = customers.add_customer(alice, CustomerCreate(name="Acme"))
    seen_by_alice = customers.get_customer(alice, created.ref)
    seen_by_bob = customers.get_customer(bob, created.ref)

    customers.update_customer(
        alice, created.ref, CustomerUpdate(city="Berlin"), expected_version=seen_by_alice.version
    )
    with pytest.raises(
        Conflict, match=r"C-1 was changed by alice .*now version 2, your edit is based on version 1"
    ):
        customers.update_customer(
            bob, created.ref, CustomerUpdate(city="Paris"), expected_version=seen_by_bob.version
        )

    stored = customers.get_customer(bob, created.ref)
    assert (stored.city, stored.version) == ("Berlin", 2)


def test_simultaneous_saves_from_the_same_version_let_exactly_one_through(team):
    alice, bob = team
    created = customers.add_customer(alice, CustomerCreate(name="Acme"))
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(crm, city):
        start.wait()
        try:
            customers.update_customer(crm, created.ref, CustomerUpdate(city=city), expected_version=1)
            outcomes[city] = "saved"
        except Conflict:
            outcomes[city] = "conflict"

    threads = [threading.Thread(target=save, args=pair) for pair in ((alice, "Berlin"), (bob, "Paris"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["conflict", "saved"]
    winner = next(city for city, outcome in outcomes.items() if outcome == "saved")
    stored = customers.get_customer(alice, created.ref)
    assert (stored.city, stored.version) == (winner, 2)


def test_the_orm_refuses_a_write_over_a_row_changed_meanwhile(crm):
    """The version column is checked by the database itself, under any logic."""
    from crm_tui.storage.errors import StaleRecord
    from crm_tui.storage.models import Customer

    created = customers.add_customer(crm, CustomerCreate(name="Acme"))
    with crm.database.unit_of_work(write=False) as session:
        stale = session.get(Customer, created.id)
    customers.update_customer(crm, created.ref, CustomerUpdate(city="Berlin"))
    with pytest.raises(StaleRecord), crm.database.unit_of_work() as session:
        stale = session.merge(stale, load=False)
        stale.city = "Paris"
    assert customers.get_customer(crm, created.ref).city == "Berlin"


def test_notes_and_tasks_do_not_make_an_open_edit_stale(crm):
    from crm_tui.logic.customers import tasks, timeline
    from crm_tui.logic.customers.schemas import ActivityCreate, TaskCreate

    created = customers.add_customer(crm, CustomerCreate(name="Acme"))
    timeline.add_activity(crm, ActivityCreate(customer=created.ref, body="called"))
    tasks.add_task(crm, TaskCreate(title="call back", customer=created.ref))
    saved = customers.update_customer(
        crm, created.ref, CustomerUpdate(city="Oslo"), expected_version=created.version
    )
    assert saved.version == created.version + 1
