"""`crm undo`: one line for what it undid, and each refusal one line on stderr with its
documented exit code and nothing stored."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def sales(cli):
    """alice (admin), bob (sales), vera (viewer); D-1 won by alice."""
    for line in (
        ["user", "add", "bob", "--role", "sales"],
        ["user", "add", "vera", "--role", "viewer"],
        ["customer", "add", "Acme"],
        ["deal", "add", "C-1", "Website", "--amount", "100"],
        ["deal", "move", "D-1", "Proposal"],
        ["deal", "win", "D-1"],
    ):
        result = cli(*line)
        assert result.exit_code == 0, (line, result.stderr)


def win_entry(cli) -> int:
    entries = json.loads(cli("audit", "list", "D-1", "-f", "json").stdout)
    return next(entry["id"] for entry in entries if entry["action"] == "win")


def test_undo_takes_back_your_last_change_in_one_line(cli, sales):
    result = cli("undo")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "Undid the win of D-1: D-1 back to Proposal, open\n",
        "",
    )
    shown = json.loads(cli("deal", "show", "D-1", "-f", "json").stdout)
    assert (shown["stage"], shown["status"], shown["closed_at"]) == ("Proposal", "open", None)
    assert [h["to_stage"] for h in shown["history"]] == ["Lead", "Proposal", "Won", "Proposal"]
    latest = json.loads(cli("audit", "list", "D-1", "-f", "json", "--limit", "1").stdout)[0]
    assert (latest["action"], latest["changes"]["undone_entry"]) == ("undo", [None, win_entry(cli)])


def test_undo_of_a_record_or_an_entry_for_scripts(cli, sales):
    cli("task", "add", "Call back")
    cli("task", "done", "K-1")
    undone = json.loads(cli("undo", "--record", "D-1", "-f", "json").stdout)
    assert {key: undone[key] for key in ("kind", "ref", "action", "summary")} == {
        "kind": "deal", "ref": "D-1", "action": "win", "summary": "D-1 back to Proposal, open",
    }  # fmt: skip
    assert undone["changes"]["stage"] == ["Won", "Proposal"]
    done = json.loads(cli("audit", "list", "K-1", "-f", "json", "--limit", "1").stdout)[0]
    by_entry = cli("undo", "--entry", str(done["id"]))
    assert (by_entry.exit_code, by_entry.stdout) == (0, "Undid the completion of K-1: K-1 open again\n")


def test_an_admin_undoes_another_users_change(cli, sales):
    cli("deal", "add", "C-1", "Hosting", user="bob")
    cli("deal", "lose", "D-2", "--reason", "Too dear", user="bob")
    entries = json.loads(cli("audit", "list", "D-2", "-f", "json").stdout)
    lost = next(entry["id"] for entry in entries if entry["action"] == "lose")
    result = cli("undo", "--entry", str(lost))
    assert (result.exit_code, result.stdout) == (0, "Undid the loss of D-2: D-2 back to Lead, open\n")


def refusals(cli, entry: int) -> list[tuple[list[str], str | None, int, str]]:
    return [
        (["undo", "--entry", str(entry)], "bob", 7,
         f"the win of D-1 (#{entry}) was alice's; only an admin may undo another user's change"),
        (["undo", "--entry", str(entry)], "vera", 7, "vera (viewer) may not do this"),
        (["undo"], "bob", 4, "you have made no change that undo takes back; undo takes back deals"),
        (["undo", "--entry", "99999"], None, 4, "no audit entry #99999"),
        (["undo", "--entry", "1"], None, 3, "U-1's create (#1) cannot be undone: undo takes back"),
        (["undo", "--record", "O-1"], None, 3, "'O-1' is not a customer, deal, ticket or task reference"),
        (["undo", "--record", "C-1"], None, 4, "you have made no change to C-1 that undo takes back"),
        (["undo", "--entry", "0"], None, 2, "Invalid value for '--entry'"),
        (["undo", "--entry", str(entry), "--record", "D-1"], None, 2,
         "Invalid value for --record: give --entry or --record, not both (see crm undo --help)"),
    ]  # fmt: skip


def test_each_refusal_is_one_line_with_its_exit_code_and_nothing_stored(cli, sales, counts):
    before = counts()
    for args, user, code, message in refusals(cli, win_entry(cli)):
        result = cli(*args, user=user)
        assert result.exit_code == code, (args, result.stderr)
        assert result.stderr.startswith(f"crm: error: {message}"), (args, result.stderr)
        assert len(result.stderr.splitlines()) == 1 and result.stdout == "", args
        assert counts() == before, args


def test_undo_is_refused_once_the_record_changed_since_or_twice(cli, sales, counts):
    cli("deal", "edit", "D-1", "--title", "Website relaunch", user="bob")
    before = counts()
    changed = cli("undo")
    assert changed.exit_code == 5
    assert changed.stderr.startswith("crm: error: D-1 was changed by bob at ")
    assert "(update, #" in changed.stderr and changed.stderr.endswith("; nothing was undone\n")
    assert counts() == before

    cli("task", "add", "Call back")
    cli("task", "done", "K-1")
    assert cli("undo").exit_code == 0
    again = cli("undo")
    assert again.exit_code == 5
    assert again.stderr.startswith("crm: error: the completion of K-1 (#")
    assert "was already undone by alice at " in again.stderr and len(again.stderr.splitlines()) == 1
