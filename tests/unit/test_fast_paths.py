"""The fast paths of clean_email and clean_phone agree with the libraries they stand in for.

clean_email checks plain ASCII addresses with one regular expression instead of
email_validator; whatever that expression accepts, email_validator must accept with
the same normalised (lower-cased) value. clean_phone caches phonenumbers' reading of
each distinct (text, country); the cached answer must be the uncached one.
"""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.values import normalise
from crm_tui.logic.values.normalise import _plain_email, clean_email, clean_phone

PROFILE = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ATEXT = "abcxyzABCXYZ0189!#$%&'*+-/=?^_`{|}~"
NEAR = ATEXT + '."@ ()<>[]\\,;:é\u00a0\u0301ß\u200b'
LDH = "abzAZ09-"

atoms = st.text(alphabet=ATEXT, min_size=0, max_size=12)
local_parts = st.one_of(
    st.lists(atoms, min_size=1, max_size=6).map(".".join),  # empty atoms give .. and end dots
    st.text(alphabet=NEAR, min_size=0, max_size=20),
    atoms.map(lambda atom: f'"{atom}"'),  # quoted strings
    st.text(alphabet=ATEXT + ".", min_size=60, max_size=70),  # about the 64 limit
    st.text(min_size=1, max_size=10),  # any unicode
)
labels = st.one_of(
    st.text(alphabet=LDH, min_size=0, max_size=10),  # hyphens at the ends, empty labels
    st.sampled_from(["xn--bcher-kva", "xn--abc", "ab--cd", "example", "EXAMPLE", "mail", "a", "0"]),
    st.text(alphabet="ab-", min_size=60, max_size=66),  # about the 63 limit
    st.text(alphabet=LDH + "é_.ü", min_size=1, max_size=8),
)
tlds = st.one_of(
    st.sampled_from(["com", "de", "org", "COM", "c", "c0m", "123", "local", "test", "onion", "arpa"]),
    st.sampled_from(["invalid", "localhost", "museum", "xn--p1ai", "co", "example"]),
    st.text(alphabet="abZ9-", min_size=0, max_size=6),
)
domains = st.one_of(
    st.tuples(st.lists(labels, min_size=0, max_size=5), tlds).map(lambda p: ".".join([*p[0], p[1]])),
    st.sampled_from(["[127.0.0.1]", "[IPv6:::1]", "localhost", "example.com.", ".example.com"]),
    st.text(alphabet=NEAR + LDH, min_size=0, max_size=15),
)
addresses = st.one_of(
    st.tuples(local_parts, domains).map(lambda p: f"{p[0]}@{p[1]}"),
    st.tuples(local_parts, domains, domains).map(lambda p: f"{p[0]}@{p[1]}@{p[2]}"),
    st.tuples(st.text(alphabet="ab", min_size=1, max_size=64), st.integers(150, 200)).map(
        lambda p: f"{p[0]}@{'.'.join(['a' * 60] * 3)}.{'b' * (p[1] - 182 if p[1] > 185 else 2)}.com"
    ),  # about the 254 limit
    st.text(max_size=30),
)


def _library(text: str) -> str | None:
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@PROFILE
@given(addresses)
@example("Anna.Schmidt@Example.COM")
@example("a@b.local")
@example("a@x.Test")
@example("info@example.com")
@example("a" * 64 + "@" + ".".join(["b" * 63] * 2) + "." + "c" * 61 + ".de")
def test_email_fast_path_accepts_only_what_email_validator_accepts(text: str) -> None:
    fast = _plain_email(text)
    if fast is not None:
        assert _library(text) == fast, text


@PROFILE
@given(addresses)
def test_clean_email_is_email_validator(text: str) -> None:
    expected = _library(text.strip()) if text.strip() else None
    try:
        got = clean_email(text)
    except Invalid:
        assert expected is None, text
    else:
        assert got == expected, text


@pytest.mark.parametrize(
    "text",
    [
        "anna@example.com",
        "Anna.Schmidt@Example.COM",
        "o'brien+crm@mail.example.co.uk",
        "a-b_c@x-y.example.de",
    ],
)
def test_email_fast_path_takes_the_common_addresses(text: str) -> None:
    assert _plain_email(text) == text.lower()


@pytest.mark.parametrize(
    "text",
    ['"a b"@example.com', "a@[127.0.0.1]", "anna@bücher.de", "a@xn--bcher-kva.de", "a..b@x.com",
     "a@x.local", "a@-x.com", "a@x.c", "a@x.123", "ä@x.com", "a" * 65 + "@x.com"],
)  # fmt: skip
def test_email_fast_path_leaves_the_rest_to_email_validator(text: str) -> None:
    assert _plain_email(text) is None


phones = st.one_of(
    st.text(alphabet="0123456789 +()-./", min_size=0, max_size=20),
    st.tuples(
        st.sampled_from(["+", "00", "0", "", "+1 ", "+49 ", "+39 0", "(0", "+44 (0)"]),
        st.text(alphabet="0123456789", min_size=0, max_size=14),
        st.sampled_from(["", " ext. 12", " x 7", "#3", " ext 0", " x"]),
    ).map("".join),
    st.text(max_size=12),
)
countries = st.sampled_from([None, "DE", "US", "GB", "IT", "FR", "CH", "AT", "ZZ", "BR", "IN"])


def _reference_phone(value: str | None, country: str | None) -> str | None:
    """clean_phone as it was before the cache (its reading part, for text it accepts)."""
    import phonenumbers

    text = " ".join((value or "").split())
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


@PROFILE
@given(st.lists(st.tuples(phones, countries), min_size=1, max_size=6))
def test_cached_phone_reading_is_the_uncached_one(calls: list[tuple[str, str | None]]) -> None:
    for text, country in [*calls, *reversed(calls)]:  # the second round comes from the cache
        try:
            got = clean_phone(text, country)
        except Invalid:
            continue
        if got is not None:
            assert got == _reference_phone(text, country), (text, country)


def test_phone_cache_is_bounded() -> None:
    assert normalise._read_phone.cache_info().maxsize is not None
