"""vCards: reading 3.0 and 4.0 as phones and address books write them, and writing 4.0."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_tui.logic import vcard
from crm_tui.logic.errors import Invalid


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
    }
    assert vcard.unused_properties(card) == {"NOTE"}
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
    }  # fmt: skip


def test_a_card_named_only_by_n_and_vcard_21_bare_parameters():
    [card] = _cards(
        "BEGIN:VCARD\nVERSION:2.1\nN:van der Berg;Anna;Maria;Dr.;\nORG:Berg BV\nTEL;CELL;VOICE:0612345678\n"
        "TITLE;QUOTED-PRINTABLE:Gesch=C3=A4ftsf=C3=BChrerin\nEND:VCARD\n"
    )
    assert vcard.contact_values(card) == {
        "name": "Anna Maria van der Berg", "customer": "Berg BV", "title": "Geschäftsführerin",
        "mobile": "0612345678",
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
        (9, None, "vCard version '5.0' is not supported (3.0 and 4.0 are)"),
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
    text = vcard.card_text(
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
    folded = vcard.fold(line)
    pieces = folded.split("\r\n ")
    assert "".join(pieces) == line
    assert all(len(piece.encode("utf-8")) <= (75 if n == 0 else 74) for n, piece in enumerate(pieces))


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=120
).filter(lambda text: text == text.strip())


@settings(max_examples=200, deadline=None)
@given(name=_TEXT, customer=_TEXT, title=_TEXT | st.none())
def test_any_text_comes_back_as_written(name, customer, title):
    text = vcard.card_text(name=name, customer=customer, title=title, email=None, phone=None, mobile=None)
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))
    [card] = _cards(text)
    expected = {"name": name, "customer": customer} | ({"title": title} if title else {})
    assert vcard.contact_values(card) == expected
