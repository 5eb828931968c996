"""Export and import: a lossless round trip, and every bad input reported clearly."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from crm_tui.cli import GROUPS
from crm_tui.config import load_settings
from crm_tui.logic.core import users
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.core.errors import Conflict, Invalid
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import contacts, customers, duplicates
from crm_tui.logic.customers.schemas import ContactCreate, CustomerCreate
from crm_tui.logic.exchange import bulk, exports, imports
from crm_tui.logic.reports import audit_trail
from tests.conftest import table_counts


@pytest.fixture(autouse=True)
def wired(monkeypatch):
    monkeypatch.setitem(GROUPS, "export", ("crm_tui.cli.exchange:export_app", "Export."))
    monkeypatch.setitem(GROUPS, "import", ("crm_tui.cli.exchange:import_app", "Import."))


def _all_rows(url: str, user: str | None = None) -> dict[str, list[dict]]:
    crm = open_crm(load_settings(db=url, user=user))
    try:
        with exports.snapshot(crm) as conn:
            return {t.name: [exports.plain_row(r) for r in exports.rows(conn, t)] for t in exports.tables()}
    finally:
        crm.close()


def _fill(crm) -> None:
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    acme = customers.add_customer(
        crm, CustomerCreate(name="Acme GmbH", email="info@acme.example", tags=["vip"], owner="bob",
                            custom={"vat": "DE1", "n": 3})
    )  # fmt: skip
    customers.add_customer(crm, CustomerCreate(name='=HYPERLINK("x")', phone="+49 30 1234567"))
    customers.add_customer(crm, CustomerCreate(name="Ünïcødé ÅB", city="Malmö"))
    contacts.add_contact(crm, ContactCreate(customer=acme.ref, name="Jo Lee", email="jo@acme.example"))
    duplicates.merge_customers(crm, "C-1", "C-3")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_and_import_into_an_empty_database_round_trip(crm, db_url, tmp_path, fmt, cli):
    _fill(crm)
    out = tmp_path / "export"
    result = cli("export", "--format", fmt, "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["customers"] == 3 and manifest["counts"]["audit_entries"] > 5
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    from typer.testing import CliRunner

    from crm_tui.cli import app

    loaded = CliRunner().invoke(app, ["--db", target, "import", "all", str(out)])
    assert loaded.exit_code == 0, loaded.stderr
    assert _all_rows(target) == _all_rows(db_url)
    # Ids go on after the loaded ones.
    again = open_crm(load_settings(db=target))
    assert customers.add_customer(again, CustomerCreate(name="Next")).ref == "C-4"
    again.close()


def test_import_all_refuses_a_database_with_data(crm, tmp_path):
    _fill(crm)
    exports.export_all(crm, tmp_path / "e", "json")
    with pytest.raises(Conflict, match="already holds"):
        exports.load_export(crm, tmp_path / "e")


def test_csv_export_is_safe_against_formulas_and_utf8(crm, tmp_path):
    _fill(crm)
    exports.export_all(crm, tmp_path / "e", "csv")
    text = (tmp_path / "e" / "customers.csv").read_text(encoding="utf-8")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert '\'=HYPERLINK("x")' in cells and "'+49301234567" in cells and "Ünïcødé ÅB" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


def test_export_needs_an_admin(crm, db_url, tmp_path):
    users.add_user(crm, UserCreate(username="bob", role="manager"))
    bob = open_crm(load_settings(db=db_url, user="bob"))
    from crm_tui.logic.core.errors import Forbidden

    with pytest.raises(Forbidden):
        exports.export_all(bob, tmp_path / "e", "json")
    bob.close()
    assert not (tmp_path / "e" / "manifest.json").exists()


@pytest.mark.parametrize("fmt", ["csv", "vcard"])
def test_an_export_that_fails_leaves_no_file(crm, tmp_path, cli, fmt):
    users.add_user(crm, UserCreate(username="bob", role="manager"))
    out = tmp_path / "out"
    out.mkdir()
    result = cli("export", "contacts", "--format", fmt, "--out", str(out), user="bob")
    assert result.exit_code == 7 and "crm: error:" in result.stderr
    assert list(out.iterdir()) == []
    result = cli("export", "contacts", "--format", fmt, "--out", str(out))
    assert result.exit_code == 0
    assert [path.name for path in out.iterdir()] == [f"contacts.{'vcf' if fmt == 'vcard' else fmt}"]
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in out.iterdir())  # personal data


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


HEADER = "Company Name,E-mail Address,Phone,Owner,Zip Code,Lifecycle Stage,VAT\n"


def test_customer_import_maps_other_crms_headers(crm, tmp_path, cli):
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    source = _write(
        tmp_path / "in.csv",
        "\ufeff" + HEADER + "Beta Ltd,Info@Beta.example,+49 30 7654321,bob,10115,Customer,DE2\n",
    )
    result = cli("import", "customers", str(source), "--map", "VAT=custom.vat")
    assert result.exit_code == 0, result.stderr
    beta = customers.get_customer(crm, "C-1")
    assert (beta.name, beta.email, beta.phone, beta.owner, beta.postcode, beta.lifecycle, beta.custom) == (
        "Beta Ltd", "info@beta.example", "+49307654321", "bob", "10115", "customer", {"vat": "DE2"}
    )  # fmt: skip
    entries = [e for e in audit_trail.list_entries(crm, entity="customer")]
    assert [e.action for e in entries] == ["create"]


def test_bad_rows_are_refused_with_reasons_and_good_rows_kept(crm, tmp_path, cli, counts):
    source = _write(
        tmp_path / "in.csv",
        HEADER
        + "Good One,good@one.example,,,,,\n"
        + "Bad Mail,not-an-email,,,,,\n"
        + "Bad Stage,,,,,Wonderland,\n"
        + "Ghost Owner,,,nobody,,,\n"
        + ",,,,,,\n"
        + "Good One Copy,GOOD@one.example,,,,,\n",
    )
    result = cli("import", "customers", str(source))
    assert result.exit_code == 9
    assert "line 3: invalid email 'not-an-email'" in result.stderr
    assert "line 4: lifecycle" in result.stderr and "wonderland" in result.stderr
    assert "line 5: no user 'nobody'" in result.stderr
    rejected = list(csv.reader((tmp_path / "in.rejected.csv").open(encoding="utf-8")))
    assert [row[0] for row in rejected] == ["line", "3", "4", "5", "7"]
    assert rejected[4][1].startswith("skipped: line 2 has the same email")
    assert [c.name for c in customers.list_customers(crm).customers] == ["Good One"]


def test_dry_run_changes_nothing(crm, tmp_path, cli, counts):
    before = counts()
    source = _write(tmp_path / "in.csv", HEADER + "Beta,b@b.example,,newbie,,,\n")
    result = cli("import", "customers", str(source), "--dry-run", "--create-users")
    assert result.exit_code == 0, result.stderr
    assert "would import 1 customers" in result.stderr and "new users: newbie" in result.stderr
    assert counts() == before


def test_duplicate_policies(crm, tmp_path):
    customers.add_customer(crm, CustomerCreate(name="Acme", email="a@acme.example", city="Berlin"))
    text = "Name,Email,City,Industry\nAcme Corp,a@acme.example,Hamburg,Steel\n"

    def run(policy: str):
        return imports.import_csv(
            crm, "customers", io.StringIO(text), "in.csv", imports.ImportOptions(policy=policy)
        )

    assert run("skip").skipped == 1 and customers.get_customer(crm, "C-1").city == "Berlin"
    merged = run("merge")
    acme = customers.get_customer(crm, "C-1")
    assert merged.updated == 1 and (acme.city, acme.industry, acme.name) == ("Berlin", "Steel", "Acme")
    assert run("update").updated == 1 and customers.get_customer(crm, "C-1").city == "Hamburg"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty: expected a header line"),
        (b"Name,Email\n", None),
        (
            b'Name,City\n"Acme,Berlin\nBeta,Bonn\n',
            "in.csv line 2: a quote opened in this row is never closed",
        ),
        (b'Name,City\n"Acme" Inc,Berlin\n', "in.csv line 2: text follows a cell's closing quote"),
        (b"Foo,Bar\n1,2\n", "no column for the name"),
    ],
)
def test_files_that_cannot_be_imported_change_nothing(crm, tmp_path, cli, counts, content, message):
    before = counts()
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    result = cli("import", "customers", str(source))
    if message is None:
        assert result.exit_code == 0 and "imported 0 customers from 0 rows" in result.stderr
    else:
        assert result.exit_code == 3 and message in result.stderr
        assert result.stderr.startswith("crm: error: ") and result.stderr.count("\n") == 1
    assert counts() == before


def test_a_wrong_encoding_can_be_named(crm, tmp_path, cli):
    source = tmp_path / "in.csv"
    source.write_bytes("Name,City\nMüller AG,Köln\n".encode("cp1252"))
    result = cli("import", "customers", str(source), "--encoding", "cp1252")
    assert result.exit_code == 0, result.stderr
    assert customers.get_customer(crm, "C-1").city == "Köln"


def test_ten_thousand_columns(crm, tmp_path, cli):
    header = ["Name", *(f"col{n}" for n in range(10_000))]
    row = ["Wide GmbH", *("x" for _ in range(10_000))]
    source = tmp_path / "wide.csv"
    source.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    result = cli("import", "customers", str(source))
    assert result.exit_code == 0, result.stderr
    assert (
        "kept as custom fields: col0, col1, col2, col3, col4, col5, col6, col7, col8, col9 and 9,990 more"
        in result.stderr
    )
    wide = customers.get_customer(crm, "C-1")
    assert wide.name == "Wide GmbH" and len(wide.custom) == 10_000 and wide.custom["col9999"] == "x"
    dropped = cli(
        "import", "customers", str(source), "--unknown-columns", "ignore", "--on-duplicate", "update"
    )
    assert dropped.exit_code == 0 and "columns ignored: col0, col1" in dropped.stderr


def test_a_bad_map_is_a_clear_error(crm, tmp_path, cli, counts):
    before = counts()
    source = _write(tmp_path / "in.csv", "Name\nA\n")
    result = cli("import", "customers", str(source), "--map", "Nope=name")
    assert result.exit_code == 3 and "the file has no column 'Nope'" in result.stderr
    result = cli("import", "customers", str(source), "--map", "Name=colour")
    assert result.exit_code == 3 and "no field 'colour'" in result.stderr
    assert counts() == before


def test_a_stopped_run_leaves_whole_batches(crm, tmp_path, db_url):
    lines = "".join(f"Firm {n},firm{n}@x.example\n" for n in range(25))

    def broken() -> io.StringIO:
        return io.StringIO("Name,Email\n" + lines)

    calls = {"n": 0}

    def stop(line: int, reason: str) -> None:  # pragma: no cover - not called
        pass

    original = imports.IMPORTERS["customers"]

    def crash_on_third(work, batch, outcomes, tally, options):
        calls["n"] += 1
        original(work, batch, outcomes, tally, options)
        if calls["n"] == 3:
            raise KeyboardInterrupt

    imports.IMPORTERS["customers"] = crash_on_third
    try:
        with pytest.raises(KeyboardInterrupt):
            imports.import_csv(crm, "customers", broken(), "in.csv", batch_size=10)
    finally:
        imports.IMPORTERS["customers"] = original
    assert table_counts(db_url)["customers"] == 20


def test_contacts_import_links_by_company_and_reports_unknown_ones(crm, tmp_path, cli):
    customers.add_customer(crm, CustomerCreate(name="Acme GmbH"))
    source = _write(
        tmp_path / "c.csv",
        "First Name,Last Name,Company,Job Title,E-mail Address,Mobile Phone\n"
        "Ann,Smith,ACME gmbh.,CEO,Ann@Acme.example,+49 170 1234567\n"
        "Bob,Jones,Nowhere Inc,,,\n"
        "Cy,Bad,C-1,,bad@,\n",
    )
    result = cli("import", "contacts", str(source))
    assert result.exit_code == 9
    assert "line 3: no active customer 'Nowhere Inc'" in result.stderr
    assert "line 4: invalid email 'bad@'" in result.stderr
    [ann] = contacts.list_contacts(crm, "C-1")
    assert (ann.name, ann.title, ann.email, ann.mobile) == (
        "Ann Smith",
        "CEO",
        "ann@acme.example",
        "+491701234567",
    )
    result = cli(
        "import", "contacts", str(source), "--create-customers", "--rejects", str(tmp_path / "r.csv")
    )
    assert "skipped: a contact with the email ann@acme.example exists" in result.stderr
    assert customers.get_customer(crm, "C-2").name == "Nowhere Inc"
    with pytest.raises(Invalid, match="cannot import"):
        imports.import_csv(crm, "orders", io.StringIO("Name\nx\n"), "x")


def test_imported_contacts_are_stored_like_contacts_added_one_by_one(crm):
    """The bulk path (ids numbered under the write lock, one executemany on SQLite) leaves
    the same rows and audit entries as adding each contact by hand."""
    customers.add_customer(crm, CustomerCreate(name="Acme GmbH", country="DE"))
    contacts.add_contact(
        crm, ContactCreate(customer="C-1", name="Ann Smith", title="CEO", email="Ann@Acme.example",
                           mobile="0170 1234567")
    )  # fmt: skip
    source = io.StringIO(
        "Name,Company,Title,Email,Mobile\n"
        "Bob Jones,Acme GmbH,CTO,Bob@Acme.example,0170 7654321\n"
        "Cy Young,Acme GmbH,,,\n"
        "Di Prince,Acme GmbH,Buyer,di@acme.example,+49 170 5555555\n"
    )
    summary = imports.import_csv(crm, "contacts", source, "in.csv", batch_size=2)
    assert (summary.created, summary.refused) == (3, 0)

    def raw(sql):
        with crm.database.connection() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql)]

    sqlite = crm.database.path is not None
    shape = "typeof(created_at), length(created_at)" if sqlite else "1, 1"
    rows = raw(f"SELECT id, version, {shape} FROM contacts ORDER BY id")
    assert [row[0] for row in rows] == [1, 2, 3, 4]
    assert len({row[1:] for row in rows}) == 1  # stored alike, whichever way they came in
    shape = "typeof(at), length(at), typeof(changes)" if sqlite else "1, 1, 1"
    entries = raw(
        f"SELECT entity_id, action, actor_id, {shape}, changes FROM audit_entries "
        "WHERE entity = 'contact' ORDER BY entity_id"
    )
    assert [entry[0] for entry in entries] == [1, 2, 3, 4]
    assert len({entry[1:6] for entry in entries}) == 1
    by_hand, bob, cy, di = (
        json.loads(entry[6]) if isinstance(entry[6], str) else entry[6] for entry in entries
    )
    assert by_hand == {"customer": [None, "C-1"], "name": [None, "Ann Smith"], "title": [None, "CEO"],
                       "email": [None, "ann@acme.example"], "mobile": [None, "+491701234567"]}  # fmt: skip
    assert bob == {"customer": [None, "C-1"], "name": [None, "Bob Jones"], "title": [None, "CTO"],
                   "email": [None, "bob@acme.example"], "mobile": [None, "+491707654321"]}  # fmt: skip
    assert cy == {"customer": [None, "C-1"], "name": [None, "Cy Young"]}
    assert di["mobile"] == [None, "+491705555555"]
    listed = {contact.name: contact for contact in contacts.list_contacts(crm, "C-1")}
    assert listed["Bob Jones"].created_at.tzinfo is not None
    assert abs(listed["Bob Jones"].created_at - listed["Ann Smith"].created_at).total_seconds() < 60
    # a contact added by hand after the import gets the next id
    assert contacts.add_contact(crm, ContactCreate(customer="C-1", name="Ed Wood")).id == 5


def test_contact_duplicates_are_found_however_many_lookups_a_batch_takes(crm, monkeypatch):
    """A batch's existing emails and names are looked up a few thousand at a time; a
    duplicate is skipped whichever of those lookups holds it, and the rest go in."""
    monkeypatch.setattr(bulk, "VALUES_PER_QUERY", 4)
    customers.add_customer(crm, CustomerCreate(name="Acme GmbH"))
    for n in (1, 5, 9):
        contacts.add_contact(
            crm, ContactCreate(customer="C-1", name=f"Known {n}", email=f"k{n}@acme.example")
        )
    lines = ["Name,Company,Email"]
    for n in range(1, 11):
        lines.append(f"Known {n},Acme GmbH,new{n}@acme.example")  # the names of 1, 5 and 9 exist
        lines.append(f"Other {n},Acme GmbH,K{n}@acme.example")  # the emails of 1, 5 and 9 exist
    summary = imports.import_csv(crm, "contacts", io.StringIO("\n".join(lines) + "\n"), "in.csv")
    assert (summary.created, summary.skipped, summary.refused) == (14, 6, 0)
    names = {contact.name for contact in contacts.list_contacts(crm, "C-1")}
    assert names == {f"Known {n}" for n in range(1, 11)} | {f"Other {n}" for n in (2, 3, 4, 6, 7, 8, 10)}


def test_a_duplicate_the_file_leaves_as_it_is_is_skipped_not_refused(crm, tmp_path, cli):
    """Skipped and refused rows are counted apart: a duplicate that an update would not
    change is skipped, and the import succeeds."""
    customers.add_customer(crm, CustomerCreate(name="Acme", email="a@acme.example"))
    source = _write(tmp_path / "in.csv", "Name,Email\nAcme,a@acme.example\n")
    result = cli("import", "customers", str(source), "--on-duplicate", "update")
    assert result.exit_code == 0, result.stderr
    assert "0 updated, 1 duplicates skipped, 0 refused" in result.stderr
    summary = imports.import_csv(
        crm, "customers", io.StringIO("Name,Email\nAcme,a@acme.example\n"), "in.csv",
        imports.ImportOptions(policy="merge"),
    )  # fmt: skip
    assert (summary.created, summary.updated, summary.skipped, summary.refused) == (0, 0, 1, 0)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_demo_data_goes_out_and_back_in_exactly(crm, db_url, tmp_path, fmt):
    """Every kind of record the demo has (tasks with no notes among them) comes back with
    the same ids, versions, timestamps and audit trail."""
    from crm_tui.logic.admin.demo import load_demo

    load_demo(crm)
    exports.export_all(crm, tmp_path / "e", fmt)
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    loaded = open_crm(load_settings(db=target))
    try:
        exports.load_export(loaded, tmp_path / "e")
    finally:
        loaded.close()
    before, after = _all_rows(db_url), _all_rows(target)
    assert {name: len(rows) for name, rows in after.items()} == {
        name: len(rows) for name, rows in before.items()
    }
    assert all(before[name] for name in ("tasks", "deals", "orders", "order_lines", "tickets", "activities"))
    assert after == before


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_generated_database_goes_out_and_back_in_exactly(tmp_path, fmt):
    """The benchmark's generator writes rows the way bulk loads do, not through the
    logic; they come back exactly too."""
    from bench.generate import generate

    source = generate(tmp_path / "generated.sqlite3", 300, deals=120, open_deals=60)
    url = f"sqlite:///{source}"
    crm = open_crm(load_settings(db=url, user="admin"))
    try:
        exports.export_all(crm, tmp_path / "e", fmt)
    finally:
        crm.close()
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    loaded = open_crm(load_settings(db=target, user="admin"))
    try:
        exports.load_export(loaded, tmp_path / "e")
    finally:
        loaded.close()
    before = _all_rows(url, "admin")
    assert before["customers"] and before["deals"] and before["audit_entries"]
    assert _all_rows(target, "admin") == before
