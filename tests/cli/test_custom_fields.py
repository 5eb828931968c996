"""Custom fields: columns an import has no field for are kept on each record, and
contacts, deals and tickets have them as customers do: in show, json and exports."""

from __future__ import annotations

import json

import pytest

from crm_tui.cli import GROUPS
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.customers import contacts, customers
from crm_tui.logic.exchange import exports
from crm_tui.logic.sales import deals
from crm_tui.logic.service import tickets
from crm_tui.logic.values.custom_fields import custom_changes, custom_lines


@pytest.fixture(autouse=True)
def wired(monkeypatch):
    monkeypatch.setitem(GROUPS, "import", ("crm_tui.cli.exchange:import_app", "Import."))
    monkeypatch.setitem(GROUPS, "export", ("crm_tui.cli.exchange:export_app", "Export."))


def _file(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_columns_crm_has_no_field_for_are_kept_on_every_kind_of_record(crm, tmp_path, cli):
    result = cli(
        "import", "customers", _file(tmp_path, "c.csv", "Company Name,VAT ID,Employees\nAcme GmbH,DE123,40\n")
    )
    assert result.exit_code == 0 and "kept as custom fields: VAT ID, Employees" in result.stderr
    assert customers.get_customer(crm, "C-1").custom == {"VAT ID": "DE123", "Employees": "40"}

    result = cli(
        "import",
        "contacts",
        _file(tmp_path, "p.csv", "Name,Company,Birthday,LinkedIn\nAnn,Acme GmbH,1980-01-02,\n"),
    )
    assert result.exit_code == 0 and "kept as custom fields: Birthday, LinkedIn" in result.stderr
    assert contacts.get_contact(crm, "P-1").custom == {"Birthday": "1980-01-02"}  # empty cells are no field

    deal_file = _file(
        tmp_path, "d.csv", "Deal Name,Company,Product,Probability\nRollout,Acme GmbH,Widget Pro,50\n"
    )
    result = cli("import", "deals", deal_file)
    assert result.exit_code == 0, result.stderr
    assert "kept as custom fields: Product; columns ignored: Probability" in result.stderr
    assert deals.get_deal(crm, "D-1").custom == {"Product": "Widget Pro"}

    ticket_file = _file(
        tmp_path, "t.csv", "Subject,Company,Ticket ID,Tags\nBroken,Acme GmbH,ZD-991,hardware\n"
    )
    result = cli("import", "tickets", ticket_file)
    assert result.exit_code == 0, result.stderr
    assert tickets.get_ticket(crm, "T-1").custom == {"Ticket ID": "ZD-991", "Tags": "hardware"}


def test_unknown_columns_can_be_dropped(crm, tmp_path, cli):
    source = _file(tmp_path, "c.csv", "Company Name,VAT ID\nAcme GmbH,DE123\n")
    result = cli("import", "customers", source, "--unknown-columns", "ignore")
    assert result.exit_code == 0 and "columns ignored: VAT ID" in result.stderr
    assert customers.get_customer(crm, "C-1").custom == {}
    bad = cli("import", "customers", source, "--unknown-columns", "maybe")
    assert bad.exit_code == 3 and "choose keep or ignore" in bad.stderr


def test_two_columns_of_one_name_are_two_fields(crm, tmp_path, cli):
    result = cli("import", "customers", _file(tmp_path, "c.csv", "Name,Note,Note\nAcme,first,second\n"))
    assert result.exit_code == 0, result.stderr
    assert customers.get_customer(crm, "C-1").custom == {"Note": "first", "Note (2)": "second"}


def test_a_column_can_be_mapped_to_a_custom_field_of_any_record(crm, tmp_path, cli):
    assert cli("customer", "add", "Acme GmbH").exit_code == 0
    source = _file(tmp_path, "d.csv", "Deal Name,Company,Ref\nRollout,Acme GmbH,X-1\n")
    result = cli("import", "deals", source, "--map", "Ref=custom.Legacy ref")
    assert result.exit_code == 0, result.stderr
    assert deals.get_deal(crm, "D-1").custom == {"Legacy ref": "X-1"}


def test_custom_fields_are_shown_set_and_removed_from_the_command_line(crm, cli):
    assert cli("customer", "add", "Acme GmbH").exit_code == 0
    assert cli("contact", "add", "C-1", "Ann", "--field", "Birthday=1980-01-02").exit_code == 0
    assert (
        cli("deal", "add", "C-1", "Rollout", "--field", "PO=4711", "--field", "Region=North").exit_code == 0
    )
    assert cli("ticket", "add", "C-1", "Broken", "--field", "Serial=SN-1").exit_code == 0
    assert cli("deal", "edit", "D-1", "--field", "PO=").exit_code == 0
    assert cli("contact", "edit", "P-1", "--field", "Birthday=1980-01-03").exit_code == 0
    assert "Region=North" in cli("deal", "show", "D-1").stdout
    assert "PO" not in cli("deal", "show", "D-1").stdout
    assert "Birthday=1980-01-03" in cli("contact", "show", "P-1").stdout
    assert "Serial=SN-1" in cli("ticket", "show", "T-1").stdout
    assert json.loads(cli("deal", "show", "D-1", "-f", "json").stdout)["custom"] == {"Region": "North"}
    assert json.loads(cli("ticket", "show", "T-1", "-f", "json").stdout)["custom"] == {"Serial": "SN-1"}
    bad = cli("deal", "edit", "D-1", "--field", "no equals sign")
    assert bad.exit_code == 2 and "is not KEY=VALUE" in bad.stderr


def test_custom_fields_go_into_exports(crm, cli, tmp_path):
    assert cli("customer", "add", "Acme GmbH").exit_code == 0
    assert cli("deal", "add", "C-1", "Rollout", "--field", "PO=4711").exit_code == 0
    exports.export_all(crm, tmp_path / "e", "json")
    [deal] = json.loads((tmp_path / "e" / "deals.json").read_text(encoding="utf-8"))
    assert deal["custom"] == {"PO": "4711"}


def test_a_form_edits_custom_fields_as_lines():
    before = custom_lines({"VAT ID": "DE1", "Employees": 40})
    assert before == "Employees: 40\nVAT ID: DE1"
    after = "VAT ID: DE2\nRegion: North, East\n\n"
    assert custom_changes(before, after) == {"Employees": None, "VAT ID": "DE2", "Region": "North, East"}
    assert custom_changes(before, before) == {}
    with pytest.raises(Invalid, match="line 2: write a name, a colon and the value"):
        custom_changes("", "A: 1\nno colon here")
