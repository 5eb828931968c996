"""vCard files: contacts read from vCard 2.1, 3.0 and 4.0 (RFC 2426, RFC 6350), written as 4.0.

Reading is lenient where phones and address books differ, strict where data would be lost:

- a line that starts with a space or tab continues the one before (folding);
- property names and parameters are case-insensitive, a group prefix (``item1.EMAIL``)
  is dropped, a bare parameter (``TEL;CELL``, vCard 2.1) is a TYPE;
- quoted-printable values (older phones and Outlook write them in 3.0) are decoded in
  their CHARSET, their soft line breaks (a trailing ``=``) joined;
- text values are unescaped (``\\n``, ``\\,``, ``\\;``, ``\\\\``);
- every card stands alone: one without END:VCARD, a BEGIN:VCARD inside a card, an
  unknown VERSION or a line that is not a property is that card's error, reported with
  its line, and the cards around it are still read.

Writing them is ``vcard_export``'s.

What a card holds beyond a contact's fields is kept as the contact's custom fields and
written back, so that an address book imported and exported again loses nothing:

- A property the contact's fields do not take (N, NICKNAME, ROLE, ADR, BDAY,
  ANNIVERSARY, NOTE, URL, CATEGORIES, a second EMAIL or TEL, any X- property...) is a
  custom field named ``vCard `` and the property with its parameters, valued as the
  card writes it (``vCard ADR;TYPE=home`` = ``;;Main St 1;Berlin;;10115;DE``); a second
  one of the same name gets `` (2)``. The export writes each back as it came.
- The properties the contact's email, phone and mobile came from keep their TYPEs
  (and other parameters): where the card wrote them otherwise than the export would
  (``EMAIL;TYPE=work``, ``TEL;TYPE=voice``, ``TEL;TYPE=cell``), a custom field
  ``vCard email`` (``phone``, ``mobile``) says how (``EMAIL;TYPE=internet,home``), and
  the export writes them so.
- A custom field crm has that no vCard property holds (a column kept from a CSV import)
  is written as ``X-CRM-FIELD;NAME="VAT ID":DE123`` and read back as that field.
- Pictures, sounds and keys (PHOTO, LOGO, SOUND, KEY) are not kept: they can be
  megabytes; the import's summary names them among the properties ignored.
"""

from __future__ import annotations

import codecs
import quopri
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crm_tui.logic.core.errors import Invalid, quoted

VERSIONS = ("2.1", "3.0", "4.0")
_NOT_PHONES = {"fax", "pager", "textphone"}


@dataclass(frozen=True)
class Property:
    """One property of a card: ``TEL;TYPE=cell:+49 170 1234567``."""

    name: str  # upper case, without a group
    params: dict[str, list[str]]  # upper-case names; TYPE values lower case
    value: str  # decoded, still escaped


@dataclass
class Card:
    """One BEGIN:VCARD ... END:VCARD, or the text that should have been one."""

    line: int  # where it begins
    lines: list[str] = field(default_factory=list)  # as in the file, for the rejects file
    properties: list[Property] = field(default_factory=list)
    error: str | None = None  # why the card cannot be read
    error_line: int | None = None  # the line at fault, when it is not the first

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def all(self, name: str) -> list[Property]:
        return [prop for prop in self.properties if prop.name == name]


# Reading


def looks_like_vcard(first_line: str) -> bool:
    """Whether a file's first non-blank line opens a vCard."""
    return first_line.strip().lstrip("\ufeff").upper() == "BEGIN:VCARD"


def read_cards(lines: Iterable[str], name: str) -> Iterator[Card]:
    """The cards of a vCard file, each with its error if it cannot be read.

    Invalid when the file holds no card at all: it is empty, or it is not a vCard file.
    """
    card: Card | None = None
    stray: Card | None = None
    seen_any = False
    for number, text, raw in _logical_lines(lines):
        command = text.strip().upper()
        if not seen_any:
            if command != "BEGIN:VCARD":
                raise Invalid(
                    f"{name} is not a vCard file: line {number} is {quoted(text)}, expected BEGIN:VCARD"
                )
            seen_any = True
        if command == "BEGIN:VCARD":
            if stray is not None:
                yield stray
                stray = None
            if card is not None:
                card.error = f"no END:VCARD before the next card at line {number}"
                yield card
            card = Card(line=number, lines=list(raw))
            continue
        if card is None:
            # Text between cards: reported once per stretch, from where it starts.
            if stray is None:
                stray = Card(line=number, error="text outside a card (expected BEGIN:VCARD)")
            stray.lines.extend(raw)
            continue
        card.lines.extend(raw)
        if command == "END:VCARD":
            yield _finished(card)
            card = None
            continue
        if card.error is None:
            try:
                card.properties.append(parse_property(text))
            except Invalid as exc:
                card.error = f"{exc} (in the card from line {card.line})"
                card.error_line = number
    if stray is not None:
        yield stray
    if card is not None:
        card.error = "no END:VCARD: the file ends inside the card"
        yield card
    if not seen_any:
        raise Invalid(f"{name} is empty: expected vCards (BEGIN:VCARD ... END:VCARD)")


def _finished(card: Card) -> Card:
    """A complete card, with an error if its VERSION is one this reader does not know."""
    versions = card.all("VERSION")
    version = versions[0].value.strip() if versions else "3.0"  # often left out by hand
    if card.error is None and version not in VERSIONS:
        card.error = f"vCard version {quoted(version)} is not supported (2.1, 3.0 and 4.0 are)"
    return card


def _logical_lines(lines: Iterable[str]) -> Iterator[tuple[int, str, list[str]]]:
    """(line number, unfolded text, the file's lines) for each content line; blank lines
    are skipped. A quoted-printable value ending in ``=`` continues on the next line."""
    start, parts, raw = 0, [], []
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if number == 1:
            text = text.lstrip("\ufeff")
        if parts and text[:1] in (" ", "\t"):
            parts.append(text[1:])
            raw.append(text)
            continue
        if parts and _soft_break(parts):
            parts[-1] = parts[-1][:-1]
            parts.append(text)
            raw.append(text)
            continue
        if parts:
            yield start, "".join(parts), raw
            start, parts, raw = 0, [], []
        if text.strip():
            start, parts, raw = number, [text], [text]
    if parts:
        yield start, "".join(parts), raw


def _soft_break(parts: list[str]) -> bool:
    if not parts[-1].endswith("="):
        return False
    head = parts[0].split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head


def _split_outside_quotes(text: str, separator: str, limit: int = -1) -> list[str]:
    pieces, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted and limit != 0:
            pieces.append("".join(current))
            current = []
            limit -= 1
            continue
        current.append(char)
    pieces.append("".join(current))
    return pieces


def parse_property(text: str) -> Property:
    """One unfolded content line: ``[group.]NAME[;PARAM=VALUE...]:VALUE``."""
    head_and_value = _split_outside_quotes(text, ":", limit=1)
    if len(head_and_value) != 2:
        raise Invalid(f"not a vCard property (NAME:value): {quoted(text)}")
    head, value = head_and_value
    name, *param_texts = _split_outside_quotes(head, ";")
    name = name.rpartition(".")[2].strip().upper()
    if not name or not re.fullmatch(r"[A-Z0-9-]+", name):
        raise Invalid(f"not a vCard property name: {quoted(name or head)}")
    params: dict[str, list[str]] = {}
    for param in param_texts:
        key, sep, values = param.partition("=")
        key = key.strip().upper()
        if not sep:  # vCard 2.1: TEL;CELL;VOICE, EMAIL;INTERNET, FN;QUOTED-PRINTABLE
            key, values = ("ENCODING", key) if key in ("QUOTED-PRINTABLE", "BASE64", "B") else ("TYPE", key)
        items = [item.strip().strip('"') for item in _split_outside_quotes(values, ",")]
        if key == "TYPE":  # TYPE="work,voice" (4.0) is a list as well
            items = [part.strip().lower() for item in items for part in item.split(",")]
        params.setdefault(key, []).extend(item for item in items if item)
    return Property(name=name, params=params, value=_decoded(value, params))


def _decoded(value: str, params: dict[str, list[str]]) -> str:
    encoding = {item.upper() for item in params.get("ENCODING", [])}
    if "QUOTED-PRINTABLE" not in encoding:
        return value
    charset = (params.get("CHARSET") or ["utf-8"])[0]
    try:
        codecs.lookup(charset)
    except LookupError:
        raise Invalid(f"unknown CHARSET {quoted(charset)}") from None
    try:
        return quopri.decodestring(value.encode("utf-8")).decode(charset)
    except UnicodeDecodeError:
        raise Invalid(f"a quoted-printable value is not valid {charset}") from None


_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\"}


def unescape(text: str) -> str:
    """A text value as written: ``\\,`` is a comma, ``\\n`` a new line."""
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            out.append(_ESCAPES.get(following, following))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def components(text: str) -> list[str]:
    """The fields of a compound value (N, ORG), split at unescaped semicolons, unescaped."""
    pieces, current, index = [], [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == ";":
            pieces.append(unescape("".join(current)))
            current = []
        else:
            current.append(char)
        index += 1
    pieces.append(unescape("".join(current)))
    return pieces


def _preferred(props: list[Property]) -> list[Property]:
    """Preferred first: TYPE=pref (3.0) or the lowest PREF (4.0); otherwise file order."""

    def rank(prop: Property) -> int:
        if "pref" in prop.params.get("TYPE", []):
            return 1
        try:
            return int((prop.params.get("PREF") or ["101"])[0])
        except ValueError:
            return 101

    return sorted(props, key=rank)


def _phone_text(prop: Property) -> str:
    """A TEL value as a phone number: ``tel:+49301234567;ext=5`` is ``+49301234567 ext. 5``."""
    text = unescape(prop.value).strip()
    if text.lower().startswith("tel:"):
        number, _, extension = text[4:].partition(";ext=")
        text = number.split(";", 1)[0] + (f" ext. {extension}" if extension else "")
    return text


def contact_values(card: Card) -> dict[str, Any]:
    """The contact a card describes, as the fields a contact import fills: name (FN,
    else N), customer (ORG), title, email, phone and mobile; the rest of the card as
    custom fields (see the module's rules)."""
    used: list[Property] = []
    name = _first(used, card.all("FN"), lambda prop: unescape(prop.value).strip())
    if not name:
        name = _first(used, card.all("N"), _name_of_n)
    if not name:
        raise Invalid("the card has no name (FN or N)")
    values: dict[str, Any] = {"name": name}
    phones = [p for p in _preferred(card.all("TEL")) if not _NOT_PHONES & set(p.params.get("TYPE", []))]
    found = {
        "customer": _first(used, card.all("ORG"), lambda prop: components(prop.value)[0].strip()),
        "title": _first(used, card.all("TITLE"), lambda prop: unescape(prop.value).strip()),
        "email": _first(used, _preferred(card.all("EMAIL")), lambda prop: unescape(prop.value).strip()),
        "mobile": _first(used, [p for p in phones if "cell" in p.params.get("TYPE", [])], _phone_text),
        "phone": _first(used, [p for p in phones if "cell" not in p.params.get("TYPE", [])], _phone_text),
    }
    values.update({key: value for key, value in found.items() if value})
    custom = kept_fields(card, used) | _shapes(used, found)
    if custom:
        values["custom"] = custom
    return values


def _first(used: list[Property], props: list[Property], read: Any) -> str:
    """The first non-empty value ``read`` gives of ``props``; the property is ``used``."""
    for prop in props:
        value = read(prop)
        if value:
            used.append(prop)
            return value
    return ""


def _name_of_n(prop: Property) -> str:
    family, given, additional = ([*components(prop.value), "", "", ""])[:3]
    name = " ".join(" ".join(part.replace(",", " ").split()) for part in (given, additional, family))
    return " ".join(name.split())


def unused_properties(card: Card) -> set[str]:
    """The properties of a card that are not kept: pictures, sounds and keys."""
    return {prop.name for prop in card.properties if prop.name in BINARY}


# Kept as custom fields

PREFIX = "vCard "
CRM_FIELD = "X-CRM-FIELD"
_ABOUT_THE_FILE = {"BEGIN", "END", "VERSION", "PRODID", "REV"}
BINARY = {"PHOTO", "LOGO", "SOUND", "KEY"}
_READ_ONLY_PARAMS = {"ENCODING", "CHARSET"}  # the value is kept decoded, in UTF-8


def kept_fields(card: Card, used: list[Property]) -> dict[str, str]:
    """The custom fields of the card's properties the contact's fields did not take."""
    taken = {id(prop) for prop in used}
    kept: dict[str, str] = {}
    for prop in card.properties:
        if id(prop) in taken or prop.name in _ABOUT_THE_FILE or prop.name in BINARY:
            continue
        if prop.name == CRM_FIELD and prop.params.get("NAME"):
            kept[prop.params["NAME"][0]] = unescape(prop.value)
            continue
        key, copy = PREFIX + prop.name + _params_text(prop.params), 1
        while key in kept:
            copy += 1
            key = f"{PREFIX}{prop.name}{_params_text(prop.params)} ({copy})"
        # Line breaks a quoted-printable value decoded to are written escaped, as 4.0 has them.
        kept[key] = prop.value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    return kept


def _params_text(params: dict[str, list[str]]) -> str:
    shown = []
    for name, values in sorted(params.items()):
        if name in _READ_ONLY_PARAMS or not values:
            continue
        quoted = [f'"{value}"' if re.search(r"[;:,\s]", value) else value for value in values]
        shown.append(f";{name}={','.join(quoted)}")
    return "".join(shown)


# The contact's email, phone and mobile as the export writes them when the card did not
# say otherwise; otherwise how the card wrote them is kept as ``vCard email`` (and so on).
WRITTEN_AS = {"email": "EMAIL;TYPE=work", "phone": "TEL;TYPE=voice", "mobile": "TEL;TYPE=cell"}
SHAPES = {f"{PREFIX}{target}": target for target in WRITTEN_AS}


def _shapes(used: list[Property], found: dict[str, str]) -> dict[str, str]:
    """How the card wrote the properties the contact's email, phone and mobile came
    from (``EMAIL;TYPE=internet,work``), where the export would write them otherwise:
    their TYPEs go back out with them. A card naming no company is a person customer,
    whose one phone is the mobile when the card has no other."""
    if not found["customer"] and not found["phone"]:
        found = {**found, "phone": found["mobile"], "mobile": ""}
    shapes = {}
    for target, written_as in WRITTEN_AS.items():
        name = written_as.split(";")[0]
        value = found[target]
        if not value:
            continue
        prop = next((prop for prop in used if prop.name == name and _phone_or_email(prop) == value), None)
        if prop is None:
            continue
        written = name + _params_text({key: values for key, values in prop.params.items() if key != "VALUE"})
        if written != written_as:
            shapes[f"{PREFIX}{target}"] = written
    return shapes


def _phone_or_email(prop: Property) -> str:
    return _phone_text(prop) if prop.name == "TEL" else unescape(prop.value).strip()
