"""Output for people and for scripts: formats, streams and exit codes."""

from __future__ import annotations

import csv
import io
import json

import pytest


@pytest.fixture
def three(cli):
    cli("customer", "add", "Beta", "--tag", "vip", "--email", "b@beta.example")
    cli("customer", "add", "Acme", "--city", "Oslo")
    cli("customer", "add", "Gamma", "--field", "vat=X1")


def test_json_is_a_list_of_records_with_stable_names(cli, three):
    records = json.loads(cli("customer", "list", "-f", "json").stdout)
    assert [r["name"] for r in records] == ["Acme", "Beta", "Gamma"]
    assert set(records[0]) >= {
        "id",
        "ref",
        "name",
        "email",
        "phone",
        "lifecycle",
        "owner",
        "tags",
        "version",
    }
    assert records[1]["tags"] == ["vip"]
    assert records[2]["custom"] == {"vat": "X1"}


def test_jsonl_csv_and_ids_agree(cli, three):
    jsonl = [json.loads(line) for line in cli("customer", "list", "-f", "jsonl").stdout.splitlines()]
    rows = list(csv.DictReader(io.StringIO(cli("customer", "list", "-f", "csv").stdout)))
    ids = cli("customer", "list", "-f", "ids").stdout.split()
    assert [r["ref"] for r in jsonl] == [r["ref"] for r in rows] == ids == ["C-2", "C-1", "C-3"]
    assert rows[1]["tags"] == "vip"
    assert rows[2]["custom"] == '{"vat": "X1"}'


def test_empty_lists_are_valid_output(cli, crm):
    assert json.loads(cli("customer", "list", "-f", "json").stdout) == []
    assert cli("customer", "list", "-f", "csv").stdout == ""
    assert cli("customer", "list", "-f", "jsonl").stdout == ""


def test_the_table_says_how_to_get_the_next_page(cli, three):
    result = cli("customer", "list", "--limit", "2")
    assert "Acme" in result.stdout and "Beta" in result.stdout and "Gamma" not in result.stdout
    assert "crm customer list --after C-1" in result.stderr
    rest = cli("customer", "list", "--limit", "2", "--after", "C-1", "-f", "ids")
    assert rest.stdout.split() == ["C-3"]


def test_show_as_json_includes_contacts_timeline_and_tasks(cli, three):
    cli("contact", "add", "C-1", "Jo", "--email", "jo@beta.example")
    cli("note", "add", "C-1", "First call went well", "--kind", "call")
    cli("task", "add", "Send offer", "-c", "C-1")
    shown = json.loads(cli("customer", "show", "C-1", "-f", "json").stdout)
    assert shown["ref"] == "C-1"
    assert [c["name"] for c in shown["contacts"]] == ["Jo"]
    assert shown["timeline"][0]["body"] == "First call went well"
    assert shown["open_tasks"][0]["title"] == "Send offer"
    table = cli("customer", "show", "C-1").stdout
    for text in ("Beta", "Jo", "First call went well", "Send offer"):
        assert text in table


def test_add_prints_the_new_reference_for_scripts(cli, crm):
    assert cli("customer", "add", "Acme", "-f", "ids").stdout == "C-1\n"


def test_dupes_and_merge_from_the_cli(cli, crm):
    cli("customer", "add", "Acme GmbH")
    cli("customer", "add", "Acme", "--force")
    assert cli("customer", "dupes", "-f", "ids").stdout == "C-1 C-2\n"
    merged = cli("customer", "merge", "C-1", "C-2")
    assert merged.exit_code == 0 and "Merged C-2 into C-1" in merged.stdout
    assert cli("customer", "dupes", "-f", "json").stdout.strip() == "[]"


def test_bare_crm_without_a_terminal_says_what_to_run(runner):
    """The desk needs a terminal; a script calling bare `crm` gets one clear line."""
    from crm_tui.cli import app

    result = runner.invoke(app, [])
    assert result.exit_code == 2
    assert (
        result.stderr == "crm: error: the desk needs a terminal; for scripts use the commands (crm --help)\n"
    )


def test_lists_use_the_page_size_setting(cli, three, monkeypatch):
    monkeypatch.setenv("CRM_PAGE_SIZE", "2")
    assert cli("customer", "list", "-f", "ids").stdout.split() == ["C-2", "C-1"]
    assert cli("customer", "list", "-n", "3", "-f", "ids").stdout.split() == ["C-2", "C-1", "C-3"]


def test_settings_file_is_read(cli, three, tmp_path, monkeypatch):
    settings = tmp_path / "crm.toml"
    settings.write_text("page_size = 1\n")
    monkeypatch.setenv("CRM_CONFIG", str(settings))
    assert cli("customer", "list", "-f", "ids").stdout.split() == ["C-2"]


def test_demo_loads_into_an_empty_database_only(cli, crm):
    loaded = cli("demo", "load")
    assert loaded.exit_code == 0 and "Demo loaded: 6 users, 20 customers" in loaded.stderr
    again = cli("demo", "load")
    assert (again.exit_code, again.stderr) == (
        3,
        "crm: error: demo data goes into an empty database only; this one already has records\n",
    )


def test_a_reader_that_stops_early_ends_the_command_quietly(crm, db_url):
    """`crm customer list -f jsonl | head -1`: no error message, SIGPIPE's exit status."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from crm_tui.logic.customers import batches as customer_batches
    from crm_tui.logic.customers.schemas import CustomerCreate

    with crm.work("customers.write") as work:  # more than a pipe's buffer of output
        customer_batches.create_batch_in(work, [(n, CustomerCreate(name=f"Firm {n}")) for n in range(400)])
    read_end, write_end = os.pipe()
    command = [str(Path(sys.executable).with_name("crm")), "--db", db_url, "customer", "list", "-f", "jsonl",
               "--limit", "400"]  # fmt: skip
    process = subprocess.Popen(command, stdout=write_end, stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        assert json.loads(reader.readline())["name"] == "Firm 0"
    assert process.wait(timeout=60) == 141
    assert process.stderr.read() == ""


def test_list_csv_cells_that_a_spreadsheet_would_run_are_inert(cli, crm):
    assert cli("customer", "add", '=HYPERLINK("http://x.example","y")', "--city", "@risk").exit_code == 0
    assert cli("customer", "add", "'Tis Bakery", "--phone", "+49 30 1234567", "--tag", "-x").exit_code == 0
    rows = list(csv.DictReader(io.StringIO(cli("customer", "list", "-f", "csv").stdout)))
    by_ref = {row["ref"]: row for row in rows}
    assert by_ref["C-1"]["name"] == '\'=HYPERLINK("http://x.example","y")'
    assert by_ref["C-1"]["city"] == "'@risk"
    assert by_ref["C-2"]["name"] == "''Tis Bakery"  # read back exactly by taking one ' off
    assert by_ref["C-2"]["phone"] == "'+49301234567"
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    # JSON is for programs and keeps the values as they are.
    names = [r["name"] for r in json.loads(cli("customer", "list", "-f", "json").stdout)]
    assert '=HYPERLINK("http://x.example","y")' in names


def test_ids_prints_what_names_each_record_and_refuses_output_without_one(cli, three, db_url):
    assert cli("customer", "list", "-f", "ids").stdout.split() == ["C-2", "C-1", "C-3"]
    # A record with no reference or id is named by its first field: here, the database.
    assert cli("db", "status", "-f", "ids").stdout.strip() in (db_url, db_url.removeprefix("sqlite:///"))
    refused = cli("report", "sales", "-f", "ids")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert (
        refused.stderr.count("\n") == 1 and "no references to list: use json, jsonl or csv" in refused.stderr
    )
