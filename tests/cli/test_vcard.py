"""vCards: reading 3.0 and 4.0 as phones and address books write them, writing 4.0, and
contacts that survive the trip out and back in."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crm_tui.cli import GROUPS, app
from crm_tui.config import load_settings
from crm_tui.logic.core import users
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import contacts, customers
from crm_tui.logic.customers.schemas import ContactCreate, CustomerCreate
from crm_tui.logic.exchange import imports, vcard, vcard_export


@pytest.fixture(autouse=True)
def wired(monkeypatch):
    monkeypatch.setitem(GROUPS, "export", ("crm_tui.cli.exchange:export_app", "Export."))
    monkeypatch.setitem(GROUPS, "import", ("crm_tui.cli.exchange:import_app", "Import."))


def _cards(text: str) -> list[vcard.Card]:
    return list(vcard.read_cards(io.StringIO(text, newline=""), "test.vcf"))


# Reading

PHONE_EXPORT_30 = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:M=C3=BCller;J=C3=BCrgen;;;\r\n"
    "FN;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:J=C3=BCrgen M=C3=BC=\r\n"
    "ller\r\n"
    "ORG:Smith\\, Jones \\; Partners;Sales\r\n"
    "TITLE:Head of Sales\\, EMEA\r\n"
    "item1.EMAIL;TYPE=INTERNET:other@sjp.example\r\n"
    "EMAIL;TYPE=INTERNET,PREF:Juergen@SJP.example\r\n"
    "TEL;TYPE=CELL:+49 170 1234567\r\n"
    "TEL;TYPE=FAX:+49 30 999\r\n"
    "TEL;TYPE=WORK,VOICE:+49 30 1234567\r\n"
    "NOTE:A long note that a phone folded\r\n"
    "  across two lines\r\n"
    "END:VCARD\r\n"
)


def test_a_vcard_30_as_phones_write_it():
    [card] = _cards(PHONE_EXPORT_30)
    assert card.error is None and card.line == 1
    assert vcard.contact_values(card) == {
        "name": "Jürgen Müller",
        "customer": "Smith, Jones ; Partners",
        "title": "Head of Sales, EMEA",
        "email": "Juergen@SJP.example",
        "phone": "+49 30 1234567",
        "mobile": "+49 170 1234567",
        "custom": {  # the rest of the card, kept as it is written
            "vCard N": "M=C3=BCller;J=C3=BCrgen;;;",  # no ENCODING: not quoted-printable, as written
            "vCard EMAIL;TYPE=internet": "other@sjp.example",
            "vCard TEL;TYPE=fax": "+49 30 999",
            "vCard NOTE": "A long note that a phone folded across two lines",
            # How the card wrote the email and phone crm's fields took: their TYPEs.
            "vCard email": "EMAIL;TYPE=internet,pref",
            "vCard phone": "TEL;TYPE=work,voice",
        },
    }
    assert vcard.unused_properties(card) == set()
    [note] = card.all("NOTE")
    assert note.value == "A long note that a phone folded across two lines"


def test_a_vcard_40_with_uris_quoted_types_and_pref():
    [card] = _cards(
        "BEGIN:VCARD\nVERSION:4.0\nFN:Ann Lee\nORG:Acme\n"
        'TEL;VALUE=uri;TYPE="voice,cell";PREF=2:tel:+1-555-555-0100\n'
        "TEL;VALUE=uri;TYPE=cell;PREF=1:tel:+1-555-555-0199\n"
        "TEL;VALUE=uri;TYPE=work:tel:+1-555-555-0000;ext=42\n"
        "EMAIL;PREF=2:second@acme.example\nEMAIL;PREF=1:first@acme.example\nEND:VCARD\n"
    )
    assert vcard.contact_values(card) == {
        "name": "Ann Lee", "customer": "Acme", "email": "first@acme.example",
        "phone": "+1-555-555-0000 ext. 42", "mobile": "+1-555-555-0199",
        "custom": {"vCard TEL;PREF=2;TYPE=voice,cell;VALUE=uri": "tel:+1-555-555-0100",
                   "vCard EMAIL;PREF=2": "second@acme.example",
                   # How the card wrote those crm's fields took: their TYPEs and PREFs.
                   "vCard email": "EMAIL;PREF=1", "vCard phone": "TEL;TYPE=work",
                   "vCard mobile": "TEL;PREF=1;TYPE=cell"},
    }  # fmt: skip


def test_a_card_named_only_by_n_and_vcard_21_bare_parameters():
    [card] = _cards(
        "BEGIN:VCARD\nVERSION:2.1\nN:van der Berg;Anna;Maria;Dr.;\nORG:Berg BV\nTEL;CELL;VOICE:0612345678\n"
        "TITLE;QUOTED-PRINTABLE:Gesch=C3=A4ftsf=C3=BChrerin\nEND:VCARD\n"
    )
    assert vcard.contact_values(card) == {
        "name": "Anna Maria van der Berg", "customer": "Berg BV", "title": "Geschäftsführerin",
        "mobile": "0612345678", "custom": {"vCard mobile": "TEL;TYPE=cell,voice"},  # a bare VOICE kept
    }  # fmt: skip


def test_quoted_printable_in_another_charset():
    [card] = _cards(
        "BEGIN:VCARD\nVERSION:3.0\nFN;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:Bj=F6rn\nORG:X\nEND:VCARD\n"
    )
    assert vcard.contact_values(card)["name"] == "Björn"


def test_each_bad_card_is_reported_with_its_line_and_the_others_are_read():
    text = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:Good One\nORG:A\nEND:VCARD\n"  # 1
        "BEGIN:VCARD\nVERSION:3.0\nFN:No End\n"  # 6: the next card begins first
        "BEGIN:VCARD\nVERSION:5.0\nFN:Future\nEND:VCARD\n"  # 9
        "stray text\n"  # 13
        "BEGIN:VCARD\nVERSION:4.0\nFN:Broken\nthis is not a property\nEND:VCARD\n"  # 14
        "BEGIN:VCARD\nVERSION:4.0\nFN;CHARSET=nope;ENCODING=QUOTED-PRINTABLE:x\nEND:VCARD\n"  # 19
        "BEGIN:VCARD\nVERSION:4.0\nFN:Good Two\nORG:B\nEND:VCARD\n"  # 23
        "BEGIN:VCARD\nVERSION:4.0\nFN:Cut short\n"  # 28: the file ends
    )
    cards = _cards(text)
    assert [(card.line, card.error_line, card.error) for card in cards] == [
        (1, None, None),
        (6, None, "no END:VCARD before the next card at line 9"),
        (9, None, "vCard version '5.0' is not supported (2.1, 3.0 and 4.0 are)"),
        (13, None, "text outside a card (expected BEGIN:VCARD)"),
        (14, 17, "not a vCard property (NAME:value): 'this is not a property' (in the card from line 14)"),
        (19, 21, "unknown CHARSET 'nope' (in the card from line 19)"),
        (23, None, None),
        (28, None, "no END:VCARD: the file ends inside the card"),
    ]
    assert cards[1].text == "BEGIN:VCARD\nVERSION:3.0\nFN:No End"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty: expected vCards"),
        ("\n\n", "is empty: expected vCards"),
        ("Name,Email\nAnn,a@x.example\n", "is not a vCard file: line 1 is 'Name,Email'"),
    ],
)
def test_a_file_without_cards_is_refused(text, message):
    with pytest.raises(Invalid, match=message):
        _cards(text)


def test_a_card_without_a_name_is_refused():
    [card] = _cards("BEGIN:VCARD\nVERSION:4.0\nORG:Acme\nEMAIL:a@acme.example\nEND:VCARD\n")
    with pytest.raises(Invalid, match="no name"):
        vcard.contact_values(card)


# Writing


def test_a_written_card_is_vcard_40_with_crlf_escaping_and_folding():
    long_title = "Directrice générale adjointe, responsable des ventes; Europe du Nord " * 2
    text = vcard_export.card_text(
        name="Åsa Öberg", customer="Nord; Syd AB", title=long_title.strip(), email="asa@nord.example",
        phone="+4681234567 ext. 12", mobile="0701234567",
    )  # fmt: skip
    lines = text.split("\r\n")
    assert lines[:3] == ["BEGIN:VCARD", "VERSION:4.0", "FN:Åsa Öberg"]
    assert lines[-2:] == ["END:VCARD", ""]
    assert "\n" not in text.replace("\r\n", "")
    assert "ORG:Nord\\; Syd AB" in lines
    assert "TEL;TYPE=voice;VALUE=uri:tel:+4681234567;ext=12" in lines
    assert "TEL;TYPE=cell;VALUE=text:0701234567" in lines
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    title_lines = [i for i, line in enumerate(lines) if line.startswith("TITLE:")]
    assert lines[title_lines[0] + 1].startswith(" ")  # folded
    [card] = _cards(text)
    assert vcard.contact_values(card)["title"] == long_title.strip()


def test_folding_never_cuts_a_character_in_two():
    line = "FN:" + "ü" * 100 + "😀" * 30
    folded = vcard_export.fold(line)
    pieces = folded.split("\r\n ")
    assert "".join(pieces) == line
    assert all(len(piece.encode("utf-8")) <= (75 if n == 0 else 74) for n, piece in enumerate(pieces))


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=120
).filter(lambda text: text == text.strip())


@settings(max_examples=200, deadline=None)
@given(name=_TEXT, customer=_TEXT, title=_TEXT | st.none())
def test_any_text_comes_back_as_written(name, customer, title):
    text = vcard_export.card_text(
        name=name, customer=customer, title=title, email=None, phone=None, mobile=None
    )
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))
    [card] = _cards(text)
    expected = {"name": name, "customer": customer} | ({"title": title} if title else {})
    assert vcard.contact_values(card) == expected


# Import and export


def _vcf(tmp_path, text: str, name: str = "cards.vcf", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_importing_vcards_links_contacts_to_their_company_and_makes_people_of_the_others(crm, tmp_path, cli):
    customers.add_customer(crm, CustomerCreate(name="Smith, Jones ; Partners", country="DE"))
    source = _vcf(
        tmp_path,
        PHONE_EXPORT_30
        + "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Lone Wolf\r\nEND:VCARD\r\n"
        + "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bad Mail\r\nORG:Smith\\, Jones \\; Partners\r\nEMAIL:bad@\r\nEND:VCARD\r\n",
    )
    result = cli("import", "contacts", str(source))
    assert result.exit_code == 9, result.stderr
    assert "line 20: invalid email 'bad@'" in result.stderr
    assert (
        "imported 2 contacts (1 of them as person customers: no company named) from 3 cards" in result.stderr
    )
    [juergen] = contacts.list_contacts(crm, "C-1")
    assert (juergen.name, juergen.title, juergen.email, juergen.phone, juergen.mobile) == (
        "Jürgen Müller", "Head of Sales, EMEA", "juergen@sjp.example", "+49301234567", "+491701234567"
    )  # fmt: skip
    [wolf] = customers.list_customers(crm, text="Lone Wolf").customers  # a card with no ORG: a person
    assert (wolf.kind.value, wolf.name) == ("person", "Lone Wolf")
    rejected = list(csv.reader((tmp_path / "cards.rejected.csv").open(encoding="utf-8")))
    assert rejected[0] == ["line", "reason", "card"]
    assert [row[0] for row in rejected[1:]] == ["20"]


def test_vcards_are_recognised_by_their_content_and_from_stdin(crm, tmp_path, cli):
    card = "BEGIN:VCARD\nVERSION:3.0\nFN:Ann Lee\nORG:Acme\nEND:VCARD\n"
    result = cli("import", "contacts", str(_vcf(tmp_path, "\n" + card, "cards.txt")), "--create-customers")
    assert result.exit_code == 0, result.stderr
    result = cli("import", "contacts", "-", input=card.replace("Ann Lee", "Bo Chen"))
    assert result.exit_code == 0, result.stderr
    assert [c.name for c in contacts.list_contacts(crm, "C-1")] == ["Ann Lee", "Bo Chen"]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"", (), "cards.vcf is empty: expected vCards"),
        (b"BEGIN:VCARD\nFN:M\xfcller\nORG:X\nEND:VCARD\n", ("--encoding", "utf-8"), "is not UTF-8 text"),
        (b"Name,Company\nAnn,X\n", (), "is not a vCard file"),
        (b"BEGIN:VCARD\nFN:A\nORG:X\nEND:VCARD\n", ("--map", "FN=name"), "--map names CSV columns"),
    ],
)
def test_vcard_files_that_cannot_be_imported_change_nothing(
    crm, tmp_path, cli, counts, content, args, message
):
    before = counts()
    source = tmp_path / "cards.vcf"
    source.write_bytes(content)
    result = cli("import", "contacts", str(source), "--create-customers", *args)
    assert result.exit_code == 3 and message in result.stderr
    assert result.stderr.startswith("crm: error: ") and result.stderr.count("\n") == 1
    assert counts() == before


def test_a_vcard_in_another_encoding_can_be_named(crm, tmp_path, cli):
    source = _vcf(
        tmp_path, "BEGIN:VCARD\nVERSION:3.0\nFN:Jürgen\nORG:Köln AG\nEND:VCARD\n", encoding="cp1252"
    )
    result = cli("import", "contacts", str(source), "--create-customers", "--encoding", "cp1252")
    assert result.exit_code == 0, result.stderr
    assert contacts.list_contacts(crm, "C-1")[0].name == "Jürgen"


def test_a_dry_run_of_vcards_changes_nothing(crm, tmp_path, cli, counts):
    before = counts()
    source = _vcf(tmp_path, "BEGIN:VCARD\nVERSION:4.0\nFN:Ann\nORG:New Co\nEND:VCARD\n")
    result = cli("import", "contacts", str(source), "--create-customers", "--dry-run")
    assert result.exit_code == 0 and "would import 1 contacts from 1 cards" in result.stderr
    assert counts() == before


def test_vcards_hold_contacts_only(crm, tmp_path, cli, counts):
    before = counts()
    source = _vcf(tmp_path, "BEGIN:VCARD\nVERSION:4.0\nFN:Ann\nORG:X\nEND:VCARD\n")
    result = cli("import", "deals", str(source))
    assert result.exit_code == 3 and "holds vCards, which are contacts" in result.stderr
    result = cli("export", "customers", "--format", "vcard")
    assert result.exit_code == 2 and "vCards hold contacts" in result.stderr
    assert counts() == before


def _contacts_of(url: str) -> list[tuple]:
    crm = open_crm(load_settings(db=url))
    try:
        return sorted(
            (c.customer_name, c.name, c.title, c.email, c.phone, c.mobile)
            for c in contacts.list_contacts(crm, limit=1000)
        )
    finally:
        crm.close()


def test_contacts_exported_as_vcards_come_back_the_same_in_an_empty_database(crm, db_url, tmp_path, cli):
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    acme = customers.add_customer(crm, CustomerCreate(name="Acme, Inc.; Europe", country="DE"))
    nord = customers.add_customer(crm, CustomerCreate(name="Nörd Ståhl AB", country="SE"))
    made = [
        ContactCreate(customer=acme.ref, name="Ann Smith", title="CEO, founder; board", email="ann@acme.example",
                      phone="+49 30 1234567", mobile="+49 170 1234567"),
        ContactCreate(customer=acme.ref, name="Bob \\ Backslash", title="x" * 150, phone="+49 30 555 ext. 12"),
        ContactCreate(customer=nord.ref, name="Åsa Öberg-Ljungqvist 李小龍 😀", email="asa@nord.example"),
        ContactCreate(customer=nord.ref, name="Colon: Line Break"),  # names hold no line breaks
    ]  # fmt: skip
    for data in made:
        contacts.add_contact(crm, data)
    out = tmp_path / "out"
    out.mkdir()
    exported = cli("export", "contacts", "--format", "vcard", "--out", str(out))
    assert exported.exit_code == 0, exported.stderr
    assert "exported 4 contacts and 0 person customers as vCards" in exported.stderr
    raw = (out / "contacts.vcf").read_bytes()
    assert raw.count(b"BEGIN:VCARD\r\nVERSION:4.0\r\n") == 4 and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    loaded = CliRunner().invoke(
        app, ["--db", target, "import", "contacts", str(out / "contacts.vcf"), "--create-customers"]
    )
    assert loaded.exit_code == 0, loaded.stderr
    assert "imported 4 contacts from 4 cards" in loaded.stderr
    assert _contacts_of(target) == _contacts_of(db_url)
    to_stdout = cli("export", "contacts", "--format", "vcard")
    assert to_stdout.stdout_bytes == raw  # CRLF on stdout too


def test_exporting_vcards_needs_an_admin(crm, db_url, cli):
    users.add_user(crm, UserCreate(username="bob", role="manager"))
    result = cli("export", "contacts", "--format", "vcard", user="bob")
    assert result.exit_code == 7 and result.stdout == ""


def test_an_import_reports_vcards_as_the_logic_reads_them(crm):
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    summary = imports.import_file(
        crm, "contacts", io.StringIO("BEGIN:VCARD\nFN:A\nORG:Acme\nEND:VCARD\n", newline=""), "standard input"
    )
    assert (summary.format, summary.created, summary.mapping["ORG"]) == ("vcard", 1, "customer")


def test_address_book_people_become_person_customers_once(crm, tmp_path, cli):
    """Cards from a phone's address book name no company: each is a person customer
    with the card's email and phone, and importing the file again adds nobody twice."""
    cards = (
        "begin:vcard\nversion:2.1\nn:Berg;Bo\nfn:Bo Berg\ntel;cell:+46 70 123 45 67\nemail;internet:bo@mail.example\nend:vcard\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Carla Diaz\nitem1.EMAIL;TYPE=INTERNET:carla@mail.example\nEND:VCARD\n"
    )
    source = _vcf(tmp_path, cards)
    result = cli("import", "contacts", str(source))
    assert result.exit_code == 0, result.stderr
    assert "imported 2 contacts (2 of them as person customers" in result.stderr
    people = {c.name: c for c in customers.list_customers(crm).customers}
    assert (people["Bo Berg"].kind.value, people["Bo Berg"].email, people["Bo Berg"].phone) == (
        "person", "bo@mail.example", "+46701234567"
    )  # fmt: skip
    assert people["Carla Diaz"].email == "carla@mail.example"
    again = cli("import", "contacts", str(source))
    assert again.exit_code == 0 and "2 duplicates skipped" in again.stderr
    assert len(customers.list_customers(crm).customers) == 2


ADDRESS_BOOK = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lee;Ann;;Dr.;\r\nFN:Ann Lee\r\nNICKNAME:Annie\r\nORG:Acme GmbH;Sales\r\n"
    "TITLE:Head of Sales\r\nROLE:Decision maker\r\nitem1.EMAIL;TYPE=INTERNET,WORK:ann@acme.example\r\n"
    "EMAIL;TYPE=INTERNET,HOME:ann.lee@mail.example\r\nTEL;TYPE=WORK,VOICE:+49 30 1234567\r\n"
    "TEL;TYPE=CELL:+49 170 7654321\r\nTEL;TYPE=HOME:+49 30 7777777\r\n"
    "ADR;TYPE=WORK:;;Hauptstr. 1;Berlin;;10115;Germany\r\nBDAY:1980-04-02\r\nANNIVERSARY:2005-06-10\r\n"
    "NOTE:Met at the fair\\, wants a quote\\nCall back in May\r\nURL:https://acme.example\r\n"
    "CATEGORIES:VIP,Trade fair\r\nX-SKYPE:ann.lee.acme\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bo Berg\r\nORG:Acme GmbH\r\nEMAIL;TYPE=work;PREF=1:bo@acme.example\r\n"
    'TEL;VALUE=uri;TYPE=cell:tel:+46701234567\r\nADR;TYPE=home;LABEL="Storgatan 2, Malmö":;;Storgatan 2;Malmö;;21122;Sweden\r\n'
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:J=FCrgen Wei=DF\r\nORG:Acme GmbH\r\n"
    "NOTE;ENCODING=QUOTED-PRINTABLE:First line=0D=0ASecond line\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Carla Diaz\r\nTEL;CELL:+34 600 123 456\r\n"
    "EMAIL;INTERNET:carla@mail.example\r\nBDAY:1990-01-01\r\nEND:VCARD\r\n"  # a phone's: no company
)


def test_an_address_book_goes_in_and_out_and_in_again_without_loss(crm, db_url, tmp_path, cli):
    """Every property of every card is kept: the first export holds them, and importing
    that export into a new database and exporting again gives the same file. An
    independent parser (vobject) reads each exported card with the source's values."""
    vobject = pytest.importorskip("vobject")
    source = _vcf(tmp_path, ADDRESS_BOOK, "book.vcf")
    result = cli("import", "contacts", str(source), "--create-customers")
    assert result.exit_code == 0, result.stderr
    assert (
        "imported 4 contacts (1 of them as person customers: no company named) from 4 cards" in result.stderr
    )
    assert "ignored" not in result.stderr
    first = cli("export", "contacts", "--format", "vcard").stdout_bytes
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    (tmp_path / "first.vcf").write_bytes(first)
    loaded = CliRunner().invoke(
        app, ["--db", target, "import", "contacts", str(tmp_path / "first.vcf"), "--create-customers"]
    )
    assert loaded.exit_code == 0, loaded.stderr
    second = CliRunner().invoke(app, ["--db", target, "export", "contacts", "--format", "vcard"]).stdout_bytes
    assert second == first

    # The email and phones crm's fields took go back out with the TYPEs they came with.
    for line in (
        "EMAIL;TYPE=internet,work:ann@acme.example", "TEL;TYPE=work,voice;VALUE=uri:tel:+49301234567",
        "EMAIL;PREF=1;TYPE=work:bo@acme.example", "TEL;TYPE=cell;VALUE=uri:tel:+46701234567",
        "EMAIL;TYPE=internet:carla@mail.example", "TEL;TYPE=cell;VALUE=uri:tel:+34600123456",
    ):  # fmt: skip
        assert f"\r\n{line}\r\n".encode() in first, line
    cards = {card.fn.value: card for card in vobject.readComponents(first.decode("utf-8"))}
    ann = cards["Ann Lee"]
    assert ann.org.value == ["Acme GmbH"] and ann.title.value == "Head of Sales"
    assert ann.nickname.value == "Annie" and ann.role.value == "Decision maker"
    assert sorted(email.value for email in ann.contents["email"]) == [
        "ann.lee@mail.example",
        "ann@acme.example",
    ]
    assert (
        ann.adr.value.street == "Hauptstr. 1"
        and ann.adr.value.city == "Berlin"
        and ann.adr.value.code == "10115"
    )
    assert ann.bday.value == "1980-04-02" and ann.contents["anniversary"][0].value == "2005-06-10"
    assert ann.note.value == "Met at the fair, wants a quote\nCall back in May"
    assert ann.url.value == "https://acme.example" and ann.categories.value == ["VIP", "Trade fair"]
    assert ann.contents["x-skype"][0].value == "ann.lee.acme"
    assert ann.n.value.family == "Lee" and ann.n.value.given == "Ann" and ann.n.value.prefix == "Dr."
    assert len(ann.contents["tel"]) == 3
    bo = cards["Bo Berg"]
    assert bo.adr.value.city == "Malmö" and bo.adr.params["LABEL"] == ["Storgatan 2, Malmö"]
    juergen = cards["Jürgen Weiß"]
    assert juergen.note.value == "First line\nSecond line"
    carla = cards["Carla Diaz"]  # a person customer: a card with no company, as it came
    assert "org" not in carla.contents and carla.bday.value == "1990-01-01"
    assert carla.email.value == "carla@mail.example" and carla.tel.value == "tel:+34600123456"


def test_custom_fields_of_crm_travel_in_the_card(crm, db_url, tmp_path, cli):
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    contacts.add_contact(
        crm, ContactCreate(customer="C-1", name="Ann", custom={"VAT ID": "DE1", "Shoe size": 42})
    )
    exported = cli("export", "contacts", "--format", "vcard").stdout_bytes.decode("utf-8")
    assert (
        'X-CRM-FIELD;NAME="Shoe size":42\r\n' in exported and 'X-CRM-FIELD;NAME="VAT ID":DE1\r\n' in exported
    )
    (tmp_path / "out.vcf").write_text(exported, encoding="utf-8", newline="")
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    loaded = CliRunner().invoke(
        app, ["--db", target, "import", "contacts", str(tmp_path / "out.vcf"), "--create-customers"]
    )
    assert loaded.exit_code == 0, loaded.stderr
    again = open_crm(load_settings(db=target))
    try:
        assert contacts.list_contacts(again, "C-1")[0].custom == {"VAT ID": "DE1", "Shoe size": "42"}
    finally:
        again.close()
