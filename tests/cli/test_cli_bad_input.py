"""Every bad input: one clear line on stderr, its documented exit code, no traceback,
and a database exactly as it was."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def acme(cli):
    result = cli("customer", "add", "Acme GmbH", "--email", "info@acme.example")
    assert result.exit_code == 0, result.stderr
    return "C-1"


def _one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("crm: error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def test_invalid_email_is_refused_and_nothing_is_stored(cli, counts, acme):
    before = counts()
    result = cli("customer", "add", "Beta Ltd", "--email", "not-an-email")
    assert result.exit_code == 3
    assert "invalid email 'not-an-email'" in _one_error_line(result)
    assert result.stdout == ""
    assert counts() == before


def test_duplicate_email_is_refused_naming_the_existing_customer(cli, counts, acme):
    before = counts()
    result = cli("customer", "add", "Other Name", "--email", "INFO@acme.example")
    assert result.exit_code == 6
    line = _one_error_line(result)
    assert "C-1 Acme GmbH has the same email (info@acme.example)" in line
    assert "--force" in line
    assert counts() == before


def test_a_forced_duplicate_is_stored(cli, acme):
    result = cli("customer", "add", "Other Name", "--email", "info@acme.example", "--force")
    assert result.exit_code == 0
    listed = json.loads(cli("customer", "list", "-f", "json").stdout)
    assert [c["email"] for c in listed] == ["info@acme.example", "info@acme.example"]


@pytest.mark.parametrize("reference", ["C-99", "99", "c99"])
def test_unknown_customer_reference(cli, counts, acme, reference):
    before = counts()
    result = cli("customer", "edit", reference, "--city", "Berlin")
    assert result.exit_code == 4
    assert "no customer C-99" in _one_error_line(result)
    assert counts() == before


def test_reference_of_another_kind_is_refused(cli, acme):
    result = cli("customer", "show", "P-1")
    assert result.exit_code == 3
    assert "P-1 is a contact reference" in _one_error_line(result)


def test_stale_version_is_refused_and_the_newer_edit_kept(cli, counts, acme):
    assert cli("customer", "edit", "C-1", "--city", "Berlin", "--expected-version", "1").exit_code == 0
    before = counts()
    result = cli("customer", "edit", "C-1", "--city", "Hamburg", "--expected-version", "1")
    assert result.exit_code == 5
    line = _one_error_line(result)
    assert "C-1 was changed by alice" in line
    assert "now version 2" in line and "version 1" in line
    assert counts() == before
    shown = json.loads(cli("customer", "show", "C-1", "-f", "json").stdout)
    assert shown["city"] == "Berlin"


def test_db_in_a_missing_folder_is_refused_and_not_created(runner, tmp_path):
    from crm_tui.cli import app

    target = tmp_path / "no" / "such" / "crm.sqlite3"
    result = runner.invoke(app, ["--db", str(target), "customer", "list"])
    assert result.exit_code == 8
    assert f"folder {target.parent} does not exist" in _one_error_line(result)
    assert not (tmp_path / "no").exists()


def test_malformed_from_lines_are_reported_and_the_good_lines_kept(cli, crm, counts, tmp_path):
    lines = [
        {"name": "Good One", "email": "one@example.com"},
        "this is not json",
        {"name": "Bad Email", "email": "nope"},
        {"name": "Good Two", "tags": ["vip"]},
        {"name": "Bad Tag", "tags": ["ok", "not a/tag"]},
        ["not", "an", "object"],
        {"name": "Unknown Field", "colour": "red"},
        {"email": "nameless@example.com"},
    ]
    path = tmp_path / "customers.jsonl"
    path.write_text("\n".join(json.dumps(x) if not isinstance(x, str) else x for x in lines) + "\n")
    result = cli("customer", "add", "--from", str(path), "-f", "jsonl")
    assert result.exit_code == 9
    created = [json.loads(line) for line in result.stdout.splitlines()]
    assert [c["name"] for c in created] == ["Good One", "Good Two"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("crm: error:")]
    assert [e.split(":")[2].strip() for e in errors] == [
        "line 2", "line 3", "line 5", "line 6", "line 7", "line 8",
    ]  # fmt: skip
    assert "not valid JSON" in errors[0]
    assert "invalid email 'nope'" in errors[1]
    assert "invalid tag 'not a/tag'" in errors[2]
    assert "expected a JSON object" in errors[3]
    assert "unknown field 'colour'" in errors[4]
    assert "name is required" in errors[5]
    assert "added 2 customers; 6 line(s) failed: 2, 3, 5, 6, 7, 8" in result.stderr
    # The line with a bad tag left no customer, no tag, no audit entry behind.
    stored = counts()
    assert stored["customers"] == 2
    assert stored["tags"] == 1
    assert stored["customer_tags"] == 1
    assert stored["audit_entries"] == 1 + 2  # the first user, then two customers


def test_from_file_that_is_not_utf8(cli, crm, counts, tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"name": "Müller"}\n'.encode("latin-1"))
    before = counts()
    result = cli("customer", "add", "--from", str(path))
    assert result.exit_code == 3
    assert "is not UTF-8 text" in _one_error_line(result)
    assert counts() == before


def test_from_file_that_does_not_exist(cli, tmp_path):
    result = cli("customer", "add", "--from", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 3
    assert "no file" in _one_error_line(result)


def test_from_stdin(cli):
    result = cli("customer", "add", "--from", "-", "-f", "ids", input='{"name": "A"}\n\n{"name": "B"}\n')
    assert result.exit_code == 0
    assert result.stdout.split() == ["C-1", "C-2"]
    assert "added 2 customers" in result.stderr


def test_from_and_a_name_exclude_each_other(cli, tmp_path):
    result = cli("customer", "add", "Acme", "--from", "-", input="")
    assert result.exit_code == 2
    assert "--from" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["customer", "add", "X", "--phone", "call me"], "invalid phone number 'call me'"),
        (["customer", "add", "X", "--country", "Germany"], "invalid country 'Germany'"),
        (["customer", "add", "   "], "name must not be empty"),
        (["customer", "add", "X", "--website", "not a site"], "invalid website"),
        (["customer", "add", "X", "--field", "novalue"], "is not KEY=VALUE"),
        (["task", "add", "Call", "--due", "someday"], "invalid date 'someday'"),
        (["customer", "add", "X", "--owner", "ghost"], "no user 'ghost'"),
        (["customer", "tag", "C-1", "no/slash"], "invalid tag"),
    ],
)
def test_more_bad_values(cli, counts, acme, args, message):
    before = counts()
    result = cli(*args)
    assert result.exit_code in (2, 3, 4)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert counts() == before


@pytest.mark.parametrize(
    ("group", "good", "bad", "message"),
    [
        (
            "contact",
            {"customer": "C-1", "name": "Jo"},
            {"customer": "C-9", "name": "Al"},
            "no customer C-9",
        ),
        (
            "note",
            {"customer": "C-1", "body": "called"},
            {"customer": "C-1", "body": " "},
            "needs some text",
        ),
        ("task", {"title": "call", "due": "2026-12-01"}, {"title": "x", "due": "soon"}, "due: "),
        (
            "user",
            {"username": "bob", "role": "sales"},
            {"username": "eve", "role": "boss"},
            "role: ",
        ),
    ],
)
def test_from_on_every_add_command(cli, acme, counts, tmp_path, group, good, bad, message):
    path = tmp_path / f"{group}.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    before = counts()
    result = cli(group, "add", "--from", str(path), "-f", "jsonl")
    assert result.exit_code == 9, result.stderr
    assert len(result.stdout.splitlines()) == 1
    assert "crm: error: line 2: " in result.stderr and message in result.stderr
    after = counts()
    table = {"contact": "contacts", "note": "activities", "task": "tasks", "user": "users"}[group]
    assert after[table] == before[table] + 1
    assert after["audit_entries"] == before["audit_entries"] + 1


@pytest.mark.parametrize("args", [["user", "deactivate", "\x00"], ["customer", "list", "--tag", "a\x00b"]])
def test_an_argument_holding_nul_is_a_usage_error(cli, counts, args):
    before = counts()
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "NUL character" in result.stderr
    assert counts() == before
