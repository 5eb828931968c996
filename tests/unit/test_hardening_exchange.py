"""Files in and out that keep personal data private and leave nothing they should not:
rejects files 0600, exports into folders that do not exist yet, and no users added for
rows that were refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crm_tui.cli import GROUPS
from crm_tui.logic.core import users
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import contacts, customers
from crm_tui.logic.customers.schemas import ContactCreate, CustomerCreate
from crm_tui.logic.reports import audit_trail


@pytest.fixture(autouse=True)
def wired(monkeypatch):
    monkeypatch.setitem(GROUPS, "export", ("crm_tui.cli.exchange:export_app", "Export."))
    monkeypatch.setitem(GROUPS, "import", ("crm_tui.cli.exchange:import_app", "Import."))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _usernames(crm) -> list[str]:
    return [user.username for user in users.list_users(crm)]


# 8. Rejects files hold customers' personal data


def test_the_rejects_file_is_its_owners_only(crm, tmp_path, cli):
    source = tmp_path / "people.csv"
    source.write_text("Name,Email\nGood Co,hello@good.example\nBad Co,not-an-email\n")
    rejects = tmp_path / "people.rejected.csv"
    rejects.write_text("left by an earlier run\n")
    rejects.chmod(0o644)
    result = cli("import", "customers", str(source))
    assert result.exit_code == 9, result.stderr
    assert _mode(rejects) == 0o600
    lines = rejects.read_text().splitlines()
    assert lines[0].startswith("line,reason,") and lines[1].startswith("3,") and len(lines) == 2
    assert [c.name for c in customers.list_customers(crm).customers] == ["Good Co"]


# 12. An export into a folder that does not exist yet


@pytest.mark.parametrize("fmt", ["vcard", "csv", "json"])
def test_one_table_exported_into_a_new_folder_makes_it_private(crm, tmp_path, cli, fmt):
    customers.add_customer(crm, CustomerCreate(name="Acme GmbH"))
    contacts.add_contact(crm, ContactCreate(customer="C-1", name="Ann Smith", email="ann@acme.example"))
    out = tmp_path / "new" / "deeper"
    result = cli("export", "contacts", "--format", fmt, "--out", str(out))
    assert result.exit_code == 0, result.stderr
    (written,) = out.iterdir()
    assert (
        written.name == f"contacts.{'vcf' if fmt == 'vcard' else fmt}" and "Ann Smith" in written.read_text()
    )
    assert [_mode(p) for p in (tmp_path / "new", out, written)] == [0o700, 0o700, 0o600]


def test_a_refused_export_leaves_no_new_folder(crm, tmp_path, cli):
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    out = tmp_path / "new" / "deeper"
    result = cli("export", "contacts", "--format", "vcard", "--out", str(out), user="bob")
    assert result.exit_code == 7, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("crm: error: ")
    assert not (tmp_path / "new").exists()


def test_an_export_into_a_file_that_is_not_a_folder_is_refused_clearly(crm, tmp_path, cli):
    blocker = tmp_path / "taken"
    blocker.write_text("a file")
    result = cli("export", "contacts", "--format", "vcard", "--out", str(blocker / "sub"))
    assert result.exit_code == 3 and result.stderr.count("\n") == 1
    assert "cannot make the folder" in result.stderr and "unexpected" not in result.stderr


# 16. --create-users adds users only for rows that are stored


def test_no_users_are_added_when_every_row_is_refused(crm, tmp_path, cli, counts):
    source = tmp_path / "deals.csv"
    source.write_text("Title,Company,Amount,Owner\nBig deal,Nope Inc,100,zed.new\nOther,Nope Two,5,Yan New\n")
    before = counts()
    result = cli("import", "deals", str(source), "--create-users")
    assert result.exit_code == 9
    assert "new users" not in result.stderr and "Traceback" not in result.stderr
    assert counts() == before and _usernames(crm) == ["alice"]
    assert (tmp_path / "deals.rejected.csv").read_text().count("no active customer") == 2


def test_users_are_added_for_the_stored_rows_only(crm, tmp_path, cli):
    customers.add_customer(crm, CustomerCreate(name="Acme GmbH"))
    source = tmp_path / "deals.csv"
    source.write_text(
        "Title,Company,Amount,Owner\n"
        "Refused,Nope Inc,1,Yan New\n"  # refused: its owner is not added
        "First,Acme GmbH,2,Zed New\n"  # stored: Zed New added, in this row's savepoint
        "Second,Nope Inc,3,zed.new\n"  # refused, but Zed is the stored row's
        "Third,Acme GmbH,4,zed.new\n"  # stored, by the user the second row added
        "Refused again,Acme GmbH,x,Kim New\n"  # a bad amount: Kim is not added
    )
    result = cli("import", "deals", str(source), "--create-users")
    assert result.exit_code == 9
    assert "imported 2 deals" in result.stderr and "new users: zed.new;" in result.stderr
    assert _usernames(crm) == ["alice", "zed.new"]
    created = [e for e in audit_trail.list_entries(crm, entity="user") if e.action == "create"]
    assert sorted(e.changes["username"][1] for e in created) == ["alice", "zed.new"]


def test_a_dry_run_names_the_users_it_would_add_and_adds_none(crm, tmp_path, cli, counts):
    customers.add_customer(crm, CustomerCreate(name="Acme GmbH"))
    source = tmp_path / "deals.csv"
    source.write_text("Title,Company,Owner\nFirst,Acme GmbH,Zed New\nRefused,Nope Inc,Yan New\n")
    before = counts()
    result = cli("import", "deals", str(source), "--create-users", "--dry-run")
    assert result.exit_code == 9 and "new users: zed.new;" in result.stderr
    assert counts() == before


def test_tickets_add_assignees_only_for_stored_rows(crm, tmp_path, cli, counts):
    source = tmp_path / "tickets.csv"
    source.write_text("Subject,Company,Assignee\nBroken,Nope Inc,Sam Agent\n")
    before = counts()
    result = cli("import", "tickets", str(source), "--create-users")
    assert result.exit_code == 9 and "new users" not in result.stderr
    assert counts() == before


def test_customers_add_owners_only_for_stored_rows(crm, tmp_path, cli, counts):
    source = tmp_path / "customers.csv"
    source.write_text("Name,Email,Owner\nBad Co,not-an-email,kim.new\nGood Co,a@good.example,lee.new\n")
    result = cli("import", "customers", str(source), "--create-users")
    assert result.exit_code == 9 and "new users: lee.new;" in result.stderr
    assert _usernames(crm) == ["alice", "lee.new"]
    created = [e for e in audit_trail.list_entries(crm, entity="user") if e.action == "create"]
    assert sorted(e.changes["username"][1] for e in created) == ["alice", "lee.new"]
    before = counts()
    only_bad = tmp_path / "bad.csv"
    only_bad.write_text("Name,Email,Owner\nBad Co,not-an-email,kim.new\n")
    result = cli("import", "customers", str(only_bad), "--create-users")
    assert result.exit_code == 9 and "new users" not in result.stderr
    assert counts() == before
