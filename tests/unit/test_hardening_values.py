"""The one place each kind of value is bounded or cleaned: amounts and quantities
(money), free text (normalise), quoted values in messages (errors), durations (dates),
settings (config), and what the command line prints (output)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_tui.cli.output import json_line, json_text, visible
from crm_tui.config import SettingsError, load_settings
from crm_tui.logic.core.errors import Invalid, quoted, shortened
from crm_tui.logic.core.refs import parse_ref
from crm_tui.logic.values import money
from crm_tui.logic.values.dates import MAX_DURATION, parse_duration
from crm_tui.logic.values.normalise import clean_text, clean_website

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


# Amounts


@pytest.mark.parametrize(
    ("code", "largest", "over"),
    [
        ("EUR", "10000000000000.00", "10000000000000.01"),
        ("JPY", "1000000000000000", "1000000000000001"),
        ("BHD", "1000000000000.000", "1000000000000.001"),
    ],
)
def test_the_largest_amount_is_the_same_number_of_minor_units_in_every_currency(code, largest, over):
    assert money.to_minor(largest, code) == money.MAX_MINOR
    with pytest.raises(Invalid, match=re.escape(f"price {over} is too large: at most ")):
        money.to_minor(over, code, what="price")


@pytest.mark.parametrize(
    "text", ["1e309", "9223372036854775807", "92233720368547758.07", "1e999999", "-1e999999", "9" * 5000]
)
def test_amounts_past_the_largest_are_invalid_not_an_overflow(text):
    with pytest.raises(Invalid, match=r"amount .* is too large: at most 10,000,000,000,000\.00 EUR"):
        money.to_minor(text, "EUR")


def test_digits_past_the_precision_are_not_rounded_away():
    with pytest.raises(Invalid, match="has more than 2 decimal places"):
        money.to_minor("1." + "0" * 100 + "1", "EUR")
    assert money.to_minor("1." + "0" * 100, "EUR") == 100


@given(st.decimals(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=40))
def test_an_amount_is_either_within_its_bounds_or_invalid(value):
    try:
        minor = money.to_minor(value if isinstance(value, int) else str(value), "EUR")
    except Invalid:
        return
    assert 0 <= minor <= money.MAX_MINOR


def test_a_report_can_add_up_thousands_of_the_largest_amounts():
    assert 9_223 * money.MAX_MINOR <= 2**63 - 1 < 9_224 * money.MAX_MINOR + 2**60


def test_an_order_line_past_the_largest_amount_is_refused():
    quantity = money.to_quantity(str(money.MAX_QUANTITY))
    price = money.to_minor("10000000000000", "EUR")
    with pytest.raises(
        Invalid, match=re.escape("the line's amount is too large: at most 10,000,000,000,000.00 EUR")
    ):
        money.line_amounts(quantity, price, 0, 0, "EUR")
    assert money.line_amounts(1000, price, 0, 0, "EUR") == (money.MAX_MINOR, 0)
    with pytest.raises(Invalid, match="the line's amount"):  # the tax takes it past
        money.line_amounts(1000, price, 0, 1900, "EUR")


def test_quantities_fit_a_32_bit_column():
    assert money.to_quantity(str(money.MAX_QUANTITY)) <= 2**31 - 1
    with pytest.raises(Invalid, match=re.escape("quantity 1000000.001 is too large: at most 1,000,000")):
        money.to_quantity("1000000.001")


def test_percentages_far_out_of_range_are_invalid():
    with pytest.raises(Invalid, match="tax rate"):
        money.to_basis_points("1e999999", "tax rate")
    with pytest.raises(Invalid, match="between 0 and 100 percent"):
        money.to_basis_points("150", "discount")


# Free text


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\t", "\n", "\r", "\x7f", "\x85", "\x9b"])
def test_a_single_line_field_takes_no_control_character(char):
    with pytest.raises(Invalid, match="name must not hold control characters: ") as refused:
        clean_text(f"Acme{char}Corp", "name")
    assert refused.value.field == "name"
    assert char not in str(refused.value)


def test_multi_line_text_keeps_line_breaks_and_tabs_with_unix_line_ends():
    assert clean_text("one\r\ntwo\rthree\n\tfour", "body", multiline=True) == "one\ntwo\nthree\n\tfour"
    for char in ("\x00", "\x1b", "\x07", "\x9b"):
        with pytest.raises(Invalid, match="other than line breaks and tabs"):
            clean_text(f"one{char}two", "body", multiline=True)


def test_a_website_with_a_control_character_is_invalid():
    with pytest.raises(Invalid, match=re.escape("invalid website 'evil\\x1b.example'")):
        clean_website("evil\x1b.example")


@given(st.text(max_size=80))
def test_clean_text_never_lets_a_control_character_through(text):
    for multiline in (False, True):
        try:
            cleaned = clean_text(text, "field", limit=100, multiline=multiline)
        except Invalid:
            continue
        if multiline:
            assert CONTROL.search((cleaned or "").replace("\n", "").replace("\t", "")) is None
        else:
            assert CONTROL.search(cleaned or "") is None


# Quoting values in messages


def test_a_short_value_is_quoted_as_repr_writes_it():
    assert quoted("it's") == repr("it's")
    assert quoted("a\x1bb") == "'a\\x1bb'"
    assert quoted(42) == "42"
    assert shortened("12.5") == "12.5"


def test_a_long_value_is_quoted_short_with_its_length():
    assert quoted("x" * 1_000_000) == "'" + "x" * 60 + "'... (1,000,000 characters)"
    assert len(shortened("9" * 1_000_000)) < 100
    assert shortened("bad\x1bvalue") == "'bad\\x1bvalue'"


def test_a_reference_past_the_database_integers_is_invalid():
    with pytest.raises(Invalid, match="is not a customer reference"):
        parse_ref("customer", 10**30)
    with pytest.raises(Invalid, match=r"'C-99999999999999999999' is not a customer reference"):
        parse_ref("customer", "C-99999999999999999999")
    assert parse_ref("customer", 10**18 - 1) == 10**18 - 1


# Durations


def test_a_duration_longer_than_the_longest_is_invalid():
    assert parse_duration("3650d") == MAX_DURATION
    for text in ("3651d", "99999999999999999999w"):
        with pytest.raises(Invalid, match=f"a duration must be at most 3650 days, not '{text}'"):
            parse_duration(text)


# Settings


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"page_size = [", "the settings file {path} is not valid TOML: "),
        (b'page_size = "a lot"', "setting page_size (in {path}): Input should be a valid integer"),
        (
            b"desk_panels = 3\npage_size = 0",
            "setting desk_panels (in {path}): Input should be a valid list; ",
        ),
        (b"\xff = 1", "the settings file {path} is not UTF-8 text"),
    ],
)
def test_settings_that_cannot_be_read_are_one_line_naming_the_file(tmp_path, monkeypatch, content, message):
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    monkeypatch.setenv("CRM_CONFIG", str(path))
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert message.format(path=path) in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_bad_setting_names_where_it_came_from(monkeypatch):
    monkeypatch.setenv("CRM_PAGE_SIZE", "0")
    with pytest.raises(SettingsError, match=r"setting page_size \(from CRM_PAGE_SIZE\)"):
        load_settings()
    monkeypatch.delenv("CRM_PAGE_SIZE")
    with pytest.raises(SettingsError, match=r"setting page_size \(given on the command line\)"):
        load_settings(page_size=-1)


# What the command line prints


def test_printed_text_shows_control_characters_instead_of_obeying_them():
    assert visible("Evil \x1b]0;pwned\x07 Co") == "Evil \\x1b]0;pwned\\x07 Co"
    assert visible("a\r\nb\tc\x9b") == "a\\r\nb\tc\\x9b"
    assert visible("a\nb\tc", one_line=True) == "a\\nb\\tc"


@given(st.text())
def test_nothing_printed_holds_a_control_character_but_line_breaks_and_tabs(text):
    assert CONTROL.search(visible(text).replace("\n", "").replace("\t", "")) is None
    assert CONTROL.search(visible(text, one_line=True)) is None


@given(st.dictionaries(st.text(max_size=5), st.text() | st.integers() | st.none(), max_size=4))
def test_json_output_escapes_every_control_character_and_means_the_same(data):
    import json

    for text in (json_line(data), json_text(data, indent=2)):
        assert CONTROL.search(text.replace("\n", "")) is None
        assert "\u2028" not in text and "\u2029" not in text
        assert json.loads(text) == data
    assert "\n" not in json_line(data)


def test_decimal_amounts_of_the_report_stay_exact():
    assert money.as_decimal(money.MAX_MINOR * 9_000, "EUR") == Decimal("90000000000000000.00")
