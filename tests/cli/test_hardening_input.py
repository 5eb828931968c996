"""Input an attacker or a careless script would give: each refused with its documented
exit code and one clear line on stderr, with the database as it was; or, for files of
many records, the good ones stored and the bad ones reported (and written to the rejects
file). Issue 12, cases 1 to 6, 14, 15 and 17."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crm_tui.logic.values.money import MAX_MINOR

HUGE = "99999999999999999999"  # past the 64-bit integers of the database
EVIL = "Evil \x1b]0;pwned\x07\x1b[31mRED\x1b[0m \x1b]52;c;cHduZWQ=\x07Co"  # title, colour, clipboard


@pytest.fixture
def acme(cli):
    assert cli("customer", "add", "Acme GmbH").exit_code == 0
    return "C-1"


def _one_error_line(result) -> str:
    """The single line a refusal writes to stderr, checked for its shape."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("crm: error: "), result.stderr
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr
    return lines[0]


def _refused(cli, counts, *args: str, code: int, input: str | None = None) -> str:
    before = counts()
    result = cli(*args, input=input)
    assert result.exit_code == code, result.stderr
    assert result.stdout == ""
    assert counts() == before
    return _one_error_line(result)


def _rejects(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


# 1, 2: amounts past the maximum, on the command line and in files


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["deal", "add", "C-1", "X", "--amount", "1e309"], "amount"),
        (["deal", "add", "C-1", "A", "--amount", "92233720368547758.07"], "amount"),
        (["deal", "add", "C-1", "A", "--amount", "10000000000000.01"], "amount"),
        (["deal", "add", "C-1", "A", "--amount", "1e999999"], "amount"),
        (["product", "add", "BIG", "x", "--price", "99999999999999999999999"], "price"),
        (["product", "add", "BIG", "x", "--price", "9223372036854775807", "--currency", "JPY"], "price"),
    ],
)
def test_amounts_past_the_maximum_are_refused_naming_the_field(cli, counts, acme, args, field):
    line = _refused(cli, counts, *args, code=3)
    assert f"crm: error: {field} " in line and "is too large: at most" in line


def test_the_largest_amount_is_taken(cli, acme):
    result = cli("deal", "add", "C-1", "Max", "--amount", "10000000000000.00", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["amount_minor"] == MAX_MINOR


def test_a_deals_file_with_overflowing_amounts_keeps_its_good_rows(cli, counts, acme, tmp_path):
    source = tmp_path / "deals.csv"
    source.write_text(
        "Customer,Title,Amount\nAcme GmbH,Good one,100\nAcme GmbH,Huge,1e309\n"
        "Acme GmbH,Max int,9223372036854775807\nAcme GmbH,Good two,200\n"
    )
    before = counts()
    result = cli("import", "deals", str(source))
    assert result.exit_code == 9, result.stderr
    assert counts()["deals"] == before["deals"] + 2
    rejected = _rejects(tmp_path / "deals.rejected.csv")
    assert [(row[0], row[3]) for row in rejected[1:]] == [("3", "Huge"), ("4", "Max int")]
    assert all("amount" in row[1] and "is too large" in row[1] for row in rejected[1:])
    listed = json.loads(cli("deal", "list", "-f", "json").stdout)
    assert sorted(deal["title"] for deal in listed) == ["Good one", "Good two"]


def test_many_of_the_largest_amounts_add_up_in_the_sales_report(cli, acme, tmp_path):
    """1,000 deals at the maximum, half of them won: the report's sums stay within the
    database's 64-bit integers (SQLite stops with "integer overflow" past them)."""
    rows = [f"Acme GmbH,Deal {n},10000000000000.00,{'Won' if n % 2 else 'Lead'}" for n in range(1000)]
    source = tmp_path / "max.csv"
    source.write_text("Customer,Title,Amount,Stage\n" + "\n".join(rows) + "\n")
    assert cli("import", "deals", str(source)).exit_code == 0
    result = cli("report", "sales", "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    (lead,) = [row for row in report["pipeline_by_stage"] if row["stage"] == "Lead"]
    assert (lead["deals"], lead["amount_minor"]) == (500, 500 * MAX_MINOR)
    assert lead["weighted_minor"] == 500 * MAX_MINOR // 10
    assert sum(row["amount_minor"] for row in report["won_deals"]) == 500 * MAX_MINOR


def test_the_maximum_leaves_room_for_thousands_of_sums():
    assert 9_000 * MAX_MINOR < 2**63 - 1


# 3: counts and numbers past the database's integers


@pytest.mark.parametrize(
    "args",
    [
        ["customer", "list", "--limit", HUGE],
        ["deal", "list", "--limit", HUGE],
        ["ticket", "list", "-n", HUGE],
        ["order", "list", "--limit", HUGE],
        ["contact", "list", "--limit", HUGE],
        ["task", "list", "--limit", HUGE],
        ["note", "list", "C-1", "--limit", HUGE],
        ["audit", "list", "--limit", HUGE],
        ["audit", "list", "--before", HUGE],
        ["customer", "dupes", "--limit", HUGE],
        ["search", "acme", "--limit", HUGE],
        ["order", "line", "remove", "O-1", HUGE],
        ["pipeline", "stage", "add", "Later", "--position", HUGE],
        ["pipeline", "stage", "set", "Lead", "--position", HUGE],
        ["customer", "list", "--limit", "0"],
    ],
)
def test_counts_past_their_bound_are_usage_errors(cli, counts, acme, args):
    line = _refused(cli, counts, *args, code=2)
    option = next((arg for arg in args if arg.startswith("-")), None)
    assert (option or "position") in line and "--help" in line


# 4: choices of crm's vocabulary


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        (["ticket", "list", "--status", "bogus"], ["new", "open", "pending", "resolved", "closed", "all"]),
        (["ticket", "status", "T-1", "bogus"], ["open", "pending"]),
        (["ticket", "add", "C-1", "S", "--priority", "bogus"], ["low", "normal", "high", "urgent"]),
        (["ticket", "add", "C-1", "S", "--type", "bogus"], ["complaint", "question"]),
        (["ticket", "list", "--priority", "bogus"], ["low", "urgent"]),
        (["deal", "list", "--status", "bogus"], ["open", "won", "lost"]),
        (["deal", "list", "--sort", "bogus"], ["updated", "created", "amount"]),
        (["order", "list", "--status", "bogus"], ["draft", "confirmed", "fulfilled", "paid", "cancelled"]),
        (["pipeline", "stage", "add", "X", "--kind", "bogus"], ["open", "won", "lost"]),
        (["pipeline", "stage", "set", "Lead", "--kind", "bogus"], ["open", "won", "lost"]),
        (["customer", "add", "X", "--stage", "bogus"], ["lead", "prospect", "customer", "inactive"]),
        (["customer", "add", "X", "--kind", "bogus"], ["company", "person"]),
        (["customer", "list", "--sort", "bogus"], ["name", "created", "updated"]),
        (["note", "add", "C-1", "hi", "--kind", "bogus"], ["note", "call", "email", "meeting"]),
        (["user", "add", "zed", "--role", "bogus"], ["admin", "manager", "sales", "service", "viewer"]),
        (["task", "list", "bogus"], ["open", "today", "overdue"]),
        (["search", "acme", "--kind", "bogus"], ["customer", "contact", "deal", "ticket"]),
    ],
)
def test_a_word_outside_the_vocabulary_is_a_usage_error_naming_the_valid_ones(
    cli, counts, acme, args, choices
):
    line = _refused(cli, counts, *args, code=2)
    assert "'bogus'" in line
    assert all(f"'{choice}'" in line for choice in choices), line


def test_the_words_of_the_vocabulary_are_taken(cli, acme):
    for args in (
        ["ticket", "list", "--status", "all"],
        ["ticket", "list", "--status", "closed"],
        ["deal", "list", "--status", "won", "--sort", "amount"],
        ["order", "list", "--status", "paid"],
    ):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    assert cli("pipeline", "stage", "add", "Parked", "--kind", "lost").exit_code == 0
    ticket = cli("ticket", "add", "C-1", "Printer", "-f", "json")
    assert cli("ticket", "status", json.loads(ticket.stdout)["ref"], "pending").exit_code == 0


# 5: JSON Lines nested too deep, or holding what the database cannot keep


def test_a_line_nested_too_deep_is_refused_and_the_others_stored(cli, counts, tmp_path):
    source = tmp_path / "deep.jsonl"
    source.write_text('{"name": "One"}\n' + "[" * 100_000 + "]" * 100_000 + '\n{"name": "Two"}\n')
    before = counts()
    result = cli("customer", "add", "--from", str(source), "-f", "ids")
    assert result.exit_code == 9
    assert result.stdout.split() == ["C-1", "C-2"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("crm: error:")]
    assert errors == ["crm: error: line 2: the JSON nests 100000 levels deep; a record has at most 20"]
    assert counts()["customers"] == before["customers"] + 2


def test_a_deal_line_with_an_overflowing_amount_is_refused_and_the_others_stored(cli, acme, counts):
    lines = [
        {"customer": "C-1", "title": "Good one", "amount": "5"},
        {"customer": "C-1", "title": "Bad", "amount": "9223372036854775807"},
        {"customer": "C-1", "title": "Bad too", "amount": 10**30},
        {"customer": 10**30, "title": "Nobody's"},
        {"customer": "C-1", "title": "Good two"},
    ]
    before = counts()
    result = cli("deal", "add", "--from", "-", "-f", "ids", input="\n".join(map(json.dumps, lines)) + "\n")
    assert result.exit_code == 9, result.stderr
    assert result.stdout.split() == ["D-1", "D-2"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("crm: error:")]
    assert [error.split(":")[2].strip() for error in errors] == ["line 2", "line 3", "line 4"]
    assert "amount 9223372036854775807 is too large" in errors[0]
    assert "is not a customer reference" in errors[2]
    assert counts()["deals"] == before["deals"] + 2


def test_a_line_holding_nul_is_refused(cli, counts):
    lines = ['{"name": "One"}', '{"name": "Nul\\u0000Name"}', '{"name": "Two", "custom": {"k\\u0000": "v"}}']
    result = cli("customer", "add", "--from", "-", "-f", "ids", input="\n".join(lines) + "\n")
    assert result.exit_code == 9
    assert result.stdout.split() == ["C-1"]
    assert result.stderr.count("holds a NUL character") == 2


# 6: control characters


@pytest.mark.parametrize(
    "args",
    [
        ["customer", "add", EVIL],
        ["customer", "add", "Fine", "--city", "Berlin\x1b[2J"],
        ["customer", "add", "Fine", "--field", "code=\x9b31m"],
        ["customer", "add", "Fine", "--website", "evil\x1b.example"],
        ["customer", "edit", "C-1", "--name", "Two\nLines"],
        ["contact", "add", "C-1", "Ann", "--title", "Bo\rss"],
        ["deal", "add", "C-1", "Deal\x07"],
        ["task", "add", "Call\x1b[8m back"],
        ["ticket", "add", "C-1", "Subject\x01"],  # NUL in an argument: the root refuses it (exit 2)
        ["note", "add", "C-1", "fine", "--subject", "tab\there"],
        ["product", "add", "SKU1", "Thing\x7f", "--price", "1"],
        ["user", "add", "zed", "--name", "Zed\x1b]0;x\x07"],
        ["pipeline", "stage", "add", "Stage\x1b"],
    ],
)
def test_control_characters_in_a_single_line_field_are_refused(cli, counts, acme, args):
    line = _refused(cli, counts, *args, code=3)
    assert "control characters" in line or "invalid website" in line


def test_multi_line_text_keeps_line_breaks_and_tabs_but_no_other_control(cli, counts, acme):
    added = cli("note", "add", "C-1", "-", "-f", "json", input="first line\r\n\tindented\nlast")
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["body"] == "first line\n\tindented\nlast"
    line = _refused(cli, counts, "note", "add", "C-1", "-", code=3, input="ring \x07 the bell")
    assert "body must not hold control characters other than line breaks and tabs: '\\x07'" in line
    line = _refused(cli, counts, "note", "add", "C-1", "-", code=3, input="nul \x00 here")
    assert "'\\x00'" in line


def test_nul_in_a_csv_or_vcard_row_refuses_that_row_only(cli, counts, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("Name,City\nGood One,Berlin\nBad,Pa\x00ris\nGood Two,Rome\n")
    before = counts()
    result = cli("import", "customers", str(source))
    assert result.exit_code == 9, result.stderr
    assert counts()["customers"] == before["customers"] + 2
    rejected = _rejects(tmp_path / "people.rejected.csv")
    assert [row[:2] for row in rejected[1:]] == [
        ["3", "the row holds a NUL character (\\x00), which crm does not store"]
    ]
    cards = tmp_path / "cards.vcf"
    card = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:{}\r\nORG:Good One\r\nEND:VCARD\r\n"
    cards.write_text(card.format("Ann") + card.format("B\x00b") + card.format("Cy"))
    result = cli("import", "contacts", str(cards))
    assert result.exit_code == 9, result.stderr
    assert "holds a NUL character" in result.stderr
    assert counts()["contacts"] == before["contacts"] + 2


def _engine(db_url: str):
    url = make_url(db_url)
    return create_engine(
        url.set(drivername="postgresql+psycopg") if url.drivername.startswith("postgres") else url
    )


def test_records_stored_before_the_rule_print_their_control_characters_visibly(cli, acme, db_url):
    engine = _engine(db_url)
    with engine.begin() as conn:  # as an older crm, or another program, may have stored it
        conn.execute(
            text("UPDATE customers SET name = :name, city = :city"), {"name": EVIL, "city": "Köln\r\n"}
        )
    engine.dispose()
    for args in (
        ["customer", "list"],
        ["customer", "show", "C-1"],
        ["customer", "archive", "C-1"],  # its message names the customer
        ["search", "acme", "--archived"],
    ):
        result = cli(*args)
        assert result.exit_code == 0, result.stderr
        printed = result.stdout + result.stderr
        assert "\x1b" not in printed and "\x07" not in printed and "\r" not in printed, args
        assert "\\x1b" in printed, args
    as_json = cli("customer", "show", "C-1", "-f", "json")
    assert json.loads(as_json.stdout)["name"] == EVIL and "\x1b" not in as_json.stdout


def test_markup_and_emoji_codes_in_a_name_are_printed_as_written(cli):
    assert cli("customer", "add", "[red]Acme[/red] :smile:").exit_code == 0
    result = cli("customer", "show", "C-1")
    assert "[red]Acme[/red] :smile:" in result.stdout


# 14: a settings file that cannot be read


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("page_size = [\n", "is not valid TOML"),
        ('page_size = "many"\n', "setting page_size (in {path}): Input should be a valid integer"),
        ("page_size = 0\n", "setting page_size (in {path}): Input should be greater than or equal to 1"),
        (b"\xff = 1\n", "is not UTF-8 text"),
    ],
)
def test_a_broken_settings_file_is_named_in_one_line(
    cli, counts, acme, tmp_path, monkeypatch, content, message
):
    path = tmp_path / "crm.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    monkeypatch.setenv("CRM_CONFIG", str(path))
    line = _refused(cli, counts, "customer", "list", code=3)
    assert str(path) in line and message.format(path=path) in line
    desk = cli()  # the desk says it before starting
    assert desk.exit_code == 3 and _one_error_line(desk) == line


def test_a_bad_settings_variable_is_named_in_one_line(cli, counts, acme, monkeypatch):
    monkeypatch.setenv("CRM_PAGE_SIZE", "lots")
    line = _refused(cli, counts, "customer", "list", code=3)
    assert "setting page_size (from CRM_PAGE_SIZE): Input should be a valid integer" in line


# 15: a reader that stops early


def _crm_command(db_url: str, *args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("crm")), "--db", db_url, *args]


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_a_reader_that_stops_early_gives_141(crm, db_url, fmt):
    """`crm customer list | head -1`: the table too ends with SIGPIPE's status, quietly,
    though rich writes it in one piece that the pipe takes only part of."""
    from crm_tui.logic.customers import batches
    from crm_tui.logic.customers.schemas import CustomerCreate

    with crm.work("customers.write") as work:  # more than a pipe's buffer, in any format
        batches.create_batch_in(
            work, [(n, CustomerCreate(name=f"Firm {n} " + "x" * 100)) for n in range(1000)]
        )
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        _crm_command(db_url, "customer", "list", "-f", fmt, "--limit", "1000"),
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        assert reader.readline()
    assert process.wait(timeout=120) == 141
    assert process.stderr.read() == ""


@pytest.mark.parametrize(
    "args",
    [
        ["customer", "list"],
        ["customer", "list", "-f", "json"],
        ["customer", "list", "-f", "csv"],
        ["customer", "list", "-f", "ids"],
        ["customer", "show", "C-1"],
        ["user", "list"],
    ],
)
def test_a_reader_gone_before_anything_is_written_gives_141(cli, db_url, args):
    assert cli("customer", "add", "Acme").exit_code == 0
    read_end, write_end = os.pipe()
    os.close(read_end)
    process = subprocess.run(_crm_command(db_url, *args), stdout=write_end, stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    assert (process.returncode, process.stderr) == (141, "")


# 17: a huge value in an error message


def test_a_megabyte_value_is_quoted_short(cli, counts, acme, tmp_path):
    line = _refused(cli, counts, "customer", "add", "X", "--email", "x" * 1_000_000, code=3)
    assert len(line) < 300 and "(1,000,000 characters)" in line
    source = tmp_path / "big.csv"
    source.write_text(
        "Name,Email,Country\nGood,good@example.com,\nBad,"
        + "y" * 1_000_000
        + ",\nWorse,,"
        + "z" * 1_000_000
        + "\n"
    )
    before = counts()
    result = cli("import", "customers", str(source))
    assert result.exit_code == 9
    assert all(len(line) < 300 for line in result.stderr.splitlines())
    assert counts()["customers"] == before["customers"] + 1
    rejected = _rejects(tmp_path / "big.rejected.csv")
    assert [row[0] for row in rejected[1:]] == ["3", "4"]
    assert all(len(row[1]) < 300 for row in rejected[1:])
    lines = [json.dumps({"name": "Fine", "email": "e" * 1_000_000}), json.dumps({"name": "N" * 1_000_000})]
    result = cli("customer", "add", "--from", "-", input="\n".join(lines) + "\n")
    assert result.exit_code == 9
    assert all(len(line) < 300 for line in result.stderr.splitlines())
