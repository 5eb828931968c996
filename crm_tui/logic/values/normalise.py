"""Cleaning what users type: names, emails, phones, tags, countries, free text.

Each cleaner returns the value to store or raises Invalid with a sentence that says
what is wrong with the input, so the same message serves the CLI, the TUI and imports.
Free text holds no control characters: none in a single-line field (a name, a title, a
subject), only line breaks and tabs in a multi-line one (a note, a description, a reply).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Literal, overload

from crm_tui.logic.core.errors import Invalid, quoted

# Legal forms that do not tell two companies apart: "Acme GmbH" and "ACME" are one firm.
_LEGAL_FORMS = {
    "ag", "bv", "co", "company", "corp", "corporation", "gmbh", "inc", "incorporated",
    "kg", "limited", "llc", "llp", "ltd", "nv", "oy", "plc", "pty", "sa", "sarl", "sas",
    "se", "spa", "srl", "ug",
}  # fmt: skip
_NON_WORD = re.compile(r"[^\w]+")
# Letters that no Unicode decomposition turns into plain ones: Søren is Soren, Yılmaz is
# Yilmaz, Łódź is Lodz to anyone typing on another keyboard.
_PLAIN_LETTERS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "ı": "i",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ħ": "h",
        "ŧ": "t",
    }
)
_PHONE_TEXT = re.compile(r"^[\d\s()+\-./]+((ext\.?|x|#)\s*\d+)?$", re.IGNORECASE)
# Control characters (C0, DEL and C1): escape sequences that retitle a terminal, recolour
# it or write its clipboard when a record is printed, carriage returns that overwrite a
# line, and NUL, which PostgreSQL cannot store. Multi-line text keeps line breaks and tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def fold(text: str) -> str:
    """Case-folded text without accents or punctuation, words separated by one space."""
    if text.isascii():  # most names: nothing to decompose, and casefold is lower
        return " ".join(_NON_WORD.sub(" ", text.lower()).split())
    # Decompose before and after case-folding: compatibility forms (script letters,
    # ligatures) become plain letters only on decomposition, and folding can yield
    # letters that decompose again.
    folded = unicodedata.normalize("NFKD", text).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_PLAIN_LETTERS)
    return " ".join(_NON_WORD.sub(" ", plain).split())


def name_key(name: str, *, company: bool) -> str:
    """The key two names match on; a company's legal form is left out."""
    words = fold(name).split()
    if company:
        kept = [word for word in words if word not in _LEGAL_FORMS]
        words = kept or words
    return " ".join(words)


@overload
def clean_text(
    value: str | None, field: str, *, required: Literal[True], limit: int = 200, multiline: bool = False
) -> str: ...


@overload
def clean_text(
    value: str | None, field: str, *, required: bool = False, limit: int = 200, multiline: bool = False
) -> str | None: ...


def clean_text(
    value: str | None, field: str, *, required: bool = False, limit: int = 200, multiline: bool = False
) -> str | None:
    """Trimmed text, None when blank; Invalid when required and blank, too long, or
    holding a control character (``multiline`` text may hold line breaks and tabs;
    its line ends are kept as \\n)."""
    text = (value or "").strip()
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        if required:
            raise Invalid(f"{field} must not be empty", field=field)
        return None
    if len(text) > limit:
        raise Invalid(f"{field} is {len(text)} characters long; at most {limit} are allowed", field=field)
    refuse_control_characters(text, field, multiline=multiline)
    return text


def refuse_control_characters(text: str, field: str, *, multiline: bool = False) -> str:
    """``text`` as it is; Invalid naming ``field`` when it holds a control character
    (other than a line break or a tab, in ``multiline`` text)."""
    found = (_CONTROL_BUT_LINES if multiline else _CONTROL).search(text)
    if found is not None:
        allowed = " other than line breaks and tabs" if multiline else ""
        raise Invalid(
            f"{field} must not hold control characters{allowed}: "
            f"{quoted(found.group())} at character {found.start() + 1}",
            field=field,
        )
    return text


# The common case of an email address, checked without email_validator (about 80 µs a
# call): a dot-atom local part of ASCII atext (at most 64 characters), one @, and a
# domain of letter-digit-hyphen labels (1 to 63 characters, no hyphen at either end, no
# two hyphens in a row, so no Punycode "xn--") ending in an alphabetic TLD of 2+ letters;
# the whole address at most 254 characters. Everything it accepts email_validator accepts
# too, with the same normalised form (tests/test_fast_paths.py proves it on generated
# input); anything else goes to email_validator.
_ATEXT = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]"
_LABEL = r"(?=[A-Za-z0-9-]{1,63}\.)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\."
_PLAIN_EMAIL = re.compile(
    rf"(?=.{{1,254}}\Z)(?={_ATEXT[:-1]}.]{{1,64}}@){_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL})+[A-Za-z]{{2,63}}",
    re.ASCII,
)


@functools.cache
def _special_use_domains() -> tuple[str, ...]:
    """The domains email_validator refuses as special-use (local, test, onion, ...)."""
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    return tuple(name.lower() for name in SPECIAL_USE_DOMAIN_NAMES)


def _plain_email(text: str) -> str | None:
    """The normalised address when ``text`` is a plain ASCII address, else None."""
    if _PLAIN_EMAIL.fullmatch(text) is None:
        return None
    lowered = text.lower()
    domain = lowered.rpartition("@")[2]
    for special in _special_use_domains():
        if domain == special or domain.endswith("." + special):
            return None
    return lowered


def clean_email(value: str | None) -> str | None:
    """A syntactically valid email address, lower-cased; None when blank."""
    text = (value or "").strip()
    if not text:
        return None
    plain = _plain_email(text)
    if plain is not None:
        return plain
    from email_validator import (
        EmailNotValidError,
        validate_email,
    )  # costly import: only when needed

    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid(f"invalid email {quoted(text)}: {exc}", field="email") from exc
    return checked.normalized.lower()


def clean_phone(value: str | None, country: str | None, field: str = "phone") -> str | None:
    """A phone number in E.164 (+4930123456) when it can be read, else as typed.

    Numbers without a leading + are read as numbers of ``country``. Text that is not
    made of digits and phone punctuation is refused.
    """
    text = " ".join((value or "").split())
    if not text:
        return None
    digits = sum(ch.isdigit() for ch in text)
    if not _PHONE_TEXT.match(text) or digits < 3:
        raise Invalid(f"invalid phone number {quoted(text)}: use digits, spaces, + ( ) - . /", field=field)
    if len(text) > 64:
        raise Invalid(f"phone number {quoted(text)} is too long", field=field)
    return _read_phone(text, country)


@functools.lru_cache(maxsize=8192)
def _read_phone(text: str, country: str | None) -> str:
    """``text`` (already checked) in E.164 when phonenumbers can read it, else as typed.

    A pure function of its arguments (phonenumbers' metadata does not change while
    running), so it is cached: an import repeats a company's switchboard number on
    many rows, and phonenumbers takes about 35 µs a number.
    """
    import phonenumbers  # costly import: only when a phone is given

    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.extension:
        formatted += f" ext. {number.extension}"
    return formatted


def dialled_from_abroad(digits: str, country: str | None) -> str | None:
    """The digits of a number written the national way as they are dialled from abroad,
    without the +: in Germany "01701234" is "491701234". None when ``digits`` does not
    start with ``country``'s trunk prefix (or no country is known)."""
    trunk = _trunk_and_code(country.upper()) if country else None
    if trunk is None or not digits.startswith(trunk[0]):
        return None
    return trunk[1] + digits.removeprefix(trunk[0])


@functools.cache
def _trunk_and_code(country: str) -> tuple[str, str] | None:
    """The trunk prefix and calling code of ``country`` ("0" and "49" for DE), or None."""
    import phonenumbers  # costly import: only when a number is looked for

    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    if metadata is None or not metadata.national_prefix:
        return None
    return metadata.national_prefix, str(metadata.country_code)


def clean_country(value: str | None) -> str | None:
    """An ISO 3166 alpha-2 country code, upper-cased; None when blank."""
    text = (value or "").strip().upper()
    if not text:
        return None
    import phonenumbers

    if len(text) != 2 or not text.isalpha() or text not in phonenumbers.SUPPORTED_REGIONS:
        raise Invalid(
            f"invalid country {quoted(value)}: use a two-letter ISO code such as DE or US", field="country"
        )
    return text


def clean_website(value: str | None) -> str | None:
    """A web address; ``example.com`` becomes ``https://example.com``."""
    text = (value or "").strip()
    if not text:
        return None
    if " " in text or "." not in text or _CONTROL.search(text):
        raise Invalid(f"invalid website {quoted(text)}", field="website")
    if not re.match(r"^https?://", text, re.IGNORECASE):
        text = "https://" + text
    return text[:300]


def clean_tag(value: str) -> str:
    """A tag: lower case, words joined by '-', letters, digits, '-' and '_' only."""
    tag = "-".join(value.strip().lower().split())
    if not tag:
        raise Invalid("a tag must not be empty", field="tags")
    if len(tag) > 64 or not re.fullmatch(r"[\w\-]+", tag):
        raise Invalid(f"invalid tag {quoted(value)}: use letters, digits, '-' and '_'", field="tags")
    return tag
