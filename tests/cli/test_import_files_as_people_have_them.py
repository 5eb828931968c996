"""CSV files as spreadsheets and other tools write them: other delimiters, byte order
marks, legacy encodings; and broken files refused whole, with their line."""

from __future__ import annotations

import codecs

import pytest

from crm_tui.cli import GROUPS
from crm_tui.logic.customers import customers
from crm_tui.logic.exchange.csv_files import delimiter_named, sniff_delimiter


@pytest.fixture(autouse=True)
def wired(monkeypatch):
    monkeypatch.setitem(GROUPS, "import", ("crm_tui.cli.exchange:import_app", "Import."))


def _file(tmp_path, data: bytes, name: str = "in.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _names_and_cities(crm) -> list[tuple[str, str | None]]:
    return [(c.name, c.city) for c in customers.list_customers(crm).customers]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Company Name;E-mail Address;City\nMüller AG;info@mueller.example;Köln, Altstadt\n", "semicolon"),
        ("Company Name\tE-mail Address\tCity\nMüller AG\tinfo@mueller.example\tKöln, Altstadt\n", "tab"),
        ("Company Name|E-mail Address|City\nMüller AG|info@mueller.example|Köln, Altstadt\n", "pipe"),
        (
            '"Company Name";"E-mail Address";"City"\n"Müller AG";"info@mueller.example";"Köln, Altstadt"\n',
            "semi",
        ),
    ],
)
def test_the_delimiter_is_read_from_the_header(crm, tmp_path, cli, text, said):
    result = cli("import", "customers", _file(tmp_path, text.encode()))
    assert result.exit_code == 0, result.stderr
    assert said in result.stderr and "imported 1 customers" in result.stderr
    assert _names_and_cities(crm) == [("Müller AG", "Köln, Altstadt")]
    assert customers.get_customer(crm, "C-1").email == "info@mueller.example"


def test_a_delimiter_can_be_forced(crm, tmp_path, cli):
    # The header alone has no semicolon to go by: one column named with a comma in it.
    source = _file(tmp_path, b"Name;City\nAcme, Inc;Bonn\n")
    result = cli("import", "customers", source, "--delimiter", "semicolon")
    assert result.exit_code == 0, result.stderr
    assert _names_and_cities(crm) == [("Acme, Inc", "Bonn")]


@pytest.mark.parametrize(
    ("data", "encoding_said"),
    [
        (codecs.BOM_UTF8 + "Name,City\nMüller AG,Köln\n".encode(), None),
        ("Name,City\nMüller AG,Köln\n".encode("utf-16"), "utf-16"),
        ("Name;City\nMüller AG;Köln\nÉtoile SARL;Besançon\n".encode("cp1252"), "cp1252"),
        ("Name,City\nMüller AG,Köln\n".encode("latin-1"), "cp1252"),
    ],
)
def test_the_encoding_is_found(crm, tmp_path, cli, data, encoding_said):
    result = cli("import", "customers", _file(tmp_path, data))
    assert result.exit_code == 0, result.stderr
    assert customers.get_customer(crm, "C-1").name == "Müller AG"
    assert customers.get_customer(crm, "C-1").city == "Köln"
    if encoding_said:
        assert f"read as {encoding_said}" in result.stderr
    else:
        assert "read as" not in result.stderr


def test_a_legacy_file_with_its_non_utf8_bytes_far_down_is_found(crm, tmp_path, cli):
    """The detector is given the bytes around the first that is not UTF-8, not only the
    file's head, which is plain ASCII here."""
    lines = "".join(f"Firm {n},Bonn\n" for n in range(20_000))
    data = ("Name,City\n" + lines + "Müller AG,Köln\n").encode("cp1252")
    result = cli("import", "customers", _file(tmp_path, data))
    assert result.exit_code == 0, result.stderr
    assert "read as cp1252" in result.stderr
    assert customers.get_customer(crm, "C-20001").city == "Köln"


def test_a_byte_cp1252_cannot_read_is_read_as_latin1(crm, tmp_path, cli):
    data = b"Name,City\nM\xfcller AG,K\xf6ln\nBroken\x81,Bonn\n"  # 0x81: a control in latin-1
    result = cli("import", "customers", _file(tmp_path, data))
    assert result.exit_code == 9 and "read as iso8859-1" in result.stderr
    assert "line 3: name must not hold control characters" in result.stderr
    assert _names_and_cities(crm) == [("Müller AG", "Köln")]


def test_central_european_text_is_read_in_the_encoding_given(crm, tmp_path, cli):
    data = "Name;City\nZakład Wrocław;Łódź\n".encode("cp1250")
    result = cli("import", "customers", _file(tmp_path, data), "--encoding", "cp1250")
    assert result.exit_code == 0 and "read as cp1250, semicolon-separated" in result.stderr
    assert _names_and_cities(crm) == [("Zakład Wrocław", "Łódź")]


def test_a_forced_encoding_wins_and_a_wrong_one_is_refused(crm, tmp_path, cli, counts):
    data = "Name,City\nMüller AG,Köln\n".encode("cp1252")
    before = counts()
    refused = cli("import", "customers", _file(tmp_path, data), "--encoding", "utf-8")
    assert refused.exit_code == 3
    assert refused.stderr.count("\n") == 1 and "is not UTF-8 text" in refused.stderr
    assert counts() == before
    forced = cli("import", "customers", _file(tmp_path, data), "--encoding", "latin-1")
    assert forced.exit_code == 0 and "read as iso8859-1" in forced.stderr
    assert customers.get_customer(crm, "C-1").city == "Köln"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # Three lines would have become one customer's name.
        (b'Name,City\nAcme,Bonn\n"Beta,Berlin\nGamma,Graz\nDelta,Dresden\n', "in.csv line 3: a quote opened"),
        (b'Name,City\nAcme,Bonn\n"Beta" GmbH,Berlin\n', "in.csv line 3: text follows a cell's closing quote"),
        # Names with unquoted commas: every row has a cell too many.
        (b"Name,City\nAcme, Inc,Bonn\nBeta, Ltd,Berlin\n", "in.csv line 2: more cells than the header's 2"),
    ],
)
def test_a_malformed_file_is_refused_whole_with_its_line(crm, tmp_path, cli, counts, data, message):
    before = counts()
    result = cli("import", "customers", _file(tmp_path, data))
    assert result.exit_code == 3
    assert result.stderr.startswith("crm: error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert counts() == before


def test_a_malformed_row_far_down_stores_nothing_of_the_rows_before(crm, tmp_path, cli, counts):
    """The file is checked whole before the first batch is stored."""
    rows = "".join(f"Firm {n},Bonn\n" for n in range(5_000))
    before = counts()
    result = cli("import", "customers", _file(tmp_path, ("Name,City\n" + rows + '"Broken,Berlin\n').encode()))
    assert result.exit_code == 3 and "line 5002: a quote opened" in result.stderr
    assert counts() == before


def test_a_rare_row_with_a_cell_too_many_is_refused_alone(crm, tmp_path, cli):
    rows = "".join(f"Firm {n},Bonn\n" for n in range(150))
    source = _file(tmp_path, ("Name,City\n" + rows + "Acme, Inc,Bonn\n").encode())
    result = cli("import", "customers", source)
    assert result.exit_code == 9
    assert "line 152: 3 cells where the header names 2 columns" in result.stderr
    assert "imported 150 customers from 151 rows" in result.stderr
    assert not customers.list_customers(crm, text="Acme").customers


def test_empty_cells_past_the_header_are_no_matter(crm, tmp_path, cli):
    result = cli("import", "customers", _file(tmp_path, b"Name,City\nAcme,Bonn,,\nBeta\n"))
    assert result.exit_code == 0, result.stderr
    assert _names_and_cities(crm) == [("Acme", "Bonn"), ("Beta", None)]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("ab", "the delimiter must be one character"),
        ('"', "the delimiter must be one character"),
        ("x", "the delimiter must be one character"),
    ],
)
def test_a_bad_delimiter_is_refused(crm, tmp_path, cli, counts, given, message):
    before = counts()
    result = cli("import", "customers", _file(tmp_path, b"Name\nAcme\n"), "--delimiter", given)
    assert result.exit_code == 3 and message in result.stderr and result.stderr.count("\n") == 1
    assert counts() == before


def test_the_delimiter_is_the_headers_commonest_outside_quotes():
    assert sniff_delimiter("Name") == ","
    assert sniff_delimiter('"Name; full";City;Zip') == ";"
    assert sniff_delimiter('"a,b,c,d"\tCity\tZip\n') == "\t"
    assert sniff_delimiter("a;b,c;d,e") == ","  # a tie: comma
    assert [delimiter_named(name) for name in ("comma", "TAB", "\\t", ";", "|")] == [
        ",",
        "\t",
        "\t",
        ";",
        "|",
    ]


def test_standard_input_is_read_the_same_way(crm, cli):
    result = cli("import", "customers", "-", input="Name;City\nMüller AG;Köln, Altstadt\n")
    assert result.exit_code == 0, result.stderr
    assert "semicolon-separated" in result.stderr
    assert _names_and_cities(crm) == [("Müller AG", "Köln, Altstadt")]
