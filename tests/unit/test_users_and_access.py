"""Users and roles: the first user is an admin, and each role may do only its part."""

from __future__ import annotations

import pytest

from crm_tui.logic.core import users
from crm_tui.logic.core.errors import Duplicate, Forbidden, Invalid
from crm_tui.logic.core.schemas import UserCreate, UserUpdate
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate


def test_the_first_user_of_a_new_database_is_an_admin(crm):
    assert [(u.username, u.role, u.active) for u in users.list_users(crm)] == [("alice", "admin", True)]


def test_an_unknown_user_is_refused_with_the_fix(crm, as_user, cli):
    with pytest.raises(Forbidden, match=r"'mallory' is not a user of this crm.*crm user add mallory"):
        customers.list_customers(as_user("mallory"))
    result = cli("customer", "list", user="mallory")
    assert result.exit_code == 7


def test_a_viewer_reads_but_does_not_write(crm, as_user, counts):
    users.add_user(crm, UserCreate(username="vic", role="viewer"))
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    vic = as_user("vic")
    assert [c.name for c in customers.list_customers(vic).customers] == ["Acme"]
    before = counts()
    with pytest.raises(Forbidden, match=r"vic \(viewer\) may not do this"):
        customers.add_customer(vic, CustomerCreate(name="Beta"))
    assert counts() == before


def test_only_admins_manage_users(crm, as_user):
    users.add_user(crm, UserCreate(username="mia", role="manager"))
    with pytest.raises(Forbidden):
        users.add_user(as_user("mia"), UserCreate(username="x"))


def test_a_deactivated_user_is_locked_out_and_cannot_own_customers(crm, as_user):
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    users.set_active(crm, "bob", False)
    with pytest.raises(Forbidden, match="deactivated"):
        customers.list_customers(as_user("bob"))
    with pytest.raises(Invalid, match="bob is deactivated and cannot be the owner"):
        customers.add_customer(crm, CustomerCreate(name="Acme", owner="bob"))


def test_the_last_admin_stays(crm):
    with pytest.raises(Invalid, match="last active admin"):
        users.set_active(crm, "alice", False)
    with pytest.raises(Invalid, match="last active admin"):
        users.update_user(crm, "alice", UserUpdate(role="sales"))
    users.add_user(crm, UserCreate(username="root", role="admin"))
    assert users.update_user(crm, "alice", UserUpdate(role="sales")).role == "sales"


def test_usernames_are_unique_and_well_formed(crm, cli):
    with pytest.raises(Duplicate):
        users.add_user(crm, UserCreate(username="alice"))
    result = cli("user", "add", "no spaces allowed")
    assert result.exit_code == 3
    assert "username" in result.stderr


def test_me_means_the_acting_user(crm):
    customers.add_customer(crm, CustomerCreate(name="Mine", owner="me"))
    customers.add_customer(crm, CustomerCreate(name="Nobody's"))
    assert [c.name for c in customers.list_customers(crm, owner="me").customers] == ["Mine"]
