"""Cells as spreadsheets write them: dates and times, amounts, and the words other tools
use for crm's values ("Medium" priority is normal)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, tzinfo
from typing import TYPE_CHECKING

from crm_tui.logic.core.errors import Invalid, quoted
from crm_tui.logic.exchange.headers import fold_header

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Work

_MONTHS = {
    name: number
    for number, names in enumerate(
        ["jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july",
         "aug august", "sep sept september", "oct october", "nov november", "dec december"],
        start=1,
    )
    for name in names.split()
}  # fmt: skip
_NUMERIC_DATE = re.compile(r"(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})")
_NAMED_DATE = re.compile(
    r"(?:(\d{1,2})[\s.-]*([a-z]{3,9})\.?[\s,.-]*(\d{4}|\d{2})"
    r"|([a-z]{3,9})\.?\s*(\d{1,2})(?:st|nd|rd|th)?,?\s*(\d{4}))"
)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([ap])?\.?(?:m\.?)?")
_UTC_WORDS = ("z", "utc", "gmt")


def _bad_date(text: str, what: str) -> Invalid:
    return Invalid(
        f"invalid {what} {quoted(text)}: write it like 2025-03-15, 15.03.2025, 03/15/2025 or 15 Mar 2025"
    )


def _year(text: str) -> int:
    # Two-digit years as POSIX reads them: 69 to 99 are 1969 to 1999, the rest 2000 on.
    year = int(text)
    return year + (1900 if year >= 69 else 2000) if len(text) <= 2 else year


def _day_month(first: int, second: int, text: str, what: str, order: str | None) -> tuple[int, int]:
    """(day, month) of a date written 15/03 or 03/15; a date that reads both ways
    needs the file's order (``--date-order``)."""
    if order == "dmy" or (order is None and first > 12):
        return first, second
    if order == "mdy" or (order is None and second > 12) or first == second:
        return second, first
    raise Invalid(
        f"{what} {quoted(text)} reads as day/month and as month/day: "
        "pass --date-order dmy or --date-order mdy"
    )


def _calendar_day(text: str, what: str, order: str | None) -> tuple[date, str]:
    """The day at the start of ``text`` and what follows it (a time, perhaps)."""
    lowered = text.strip().lower()
    numeric = _NUMERIC_DATE.match(lowered)
    named = _NAMED_DATE.match(lowered)
    try:
        if numeric:
            a, separator, b, c = numeric.groups()
            rest = lowered[numeric.end() :]
            if len(a) == 4:  # 2025-03-15, 2025/03/15, 2025.03.15
                return date(int(a), int(b), int(c)), rest
            if separator == ".":  # 15.03.2025: day first wherever dots are written
                return date(_year(c), int(b), int(a)), rest
            day, month = _day_month(int(a), int(b), text, what, order)
            return date(_year(c), month, day), rest
        if named:
            day, month_name, year, month_first, day_second, year_second = named.groups()
            month = _MONTHS.get(month_name or month_first)
            if month is not None:
                if day is not None:
                    return date(_year(year), month, int(day)), lowered[named.end() :]
                return date(int(year_second), month, int(day_second)), lowered[named.end() :]
    except ValueError:
        pass
    raise _bad_date(text, what)


def parse_sheet_date(text: str | None, what: str, order: str | None = None) -> date | None:
    """A calendar day as spreadsheets write it: ISO, 15.03.2025, 03/15/2025, 15 Mar 2025;
    a time after it is allowed and left out."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip()).date()
    except ValueError:
        pass
    return _spreadsheet_moment(text, what, order).date()


def parse_moment(
    text: str | None, what: str, zone: tzinfo | None, order: str | None = None
) -> datetime | None:
    """An instant (UTC) as spreadsheets write it: a day as ``parse_sheet_date`` reads it, with an
    optional time (14:30, 2:30 PM); without an offset it is in ``zone`` (None: this
    machine's), and a day alone is the start of that day."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = _spreadsheet_moment(text, what, order)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone) if zone else moment.astimezone()
    return moment.astimezone(UTC)


def _spreadsheet_moment(text: str, what: str, order: str | None) -> datetime:
    """A day and an optional time of day after it (``T``, a space or a comma between),
    naive unless it ends in Z, UTC or GMT."""
    day, rest = _calendar_day(text, what, order)
    rest = rest.strip().removeprefix("t").strip(" ,")
    utc = False
    for word in _UTC_WORDS:
        if rest.endswith(word):
            rest, utc = rest.removesuffix(word).strip(), True
            break
    clock = time()
    if rest:
        matched = _TIME.fullmatch(rest)
        if not matched:
            raise _bad_date(text, what)
        hour, minute, second, half = matched.groups()
        hour = int(hour)
        if half is not None:
            if not 1 <= hour <= 12:
                raise _bad_date(text, what)
            hour = hour % 12 + (12 if half == "p" else 0)
        try:
            clock = time(hour, int(minute), int(second or 0))
        except ValueError:
            raise _bad_date(text, what) from None
    moment = datetime.combine(day, clock)
    return moment.replace(tzinfo=UTC) if utc else moment


def time_zone(work: Work) -> tzinfo | None:
    """The time zone of times written without an offset: the settings', else this machine's."""
    from zoneinfo import ZoneInfo

    name = work.crm.settings.timezone
    return ZoneInfo(name) if name else None


def amount_and_currency(text: str | None) -> tuple[str | None, str | None]:
    """An amount as spreadsheets write it, as the plain number crm reads (and the ISO
    code written beside it, if any): ``$12,000.50`` is 12000.50, ``EUR 1.200,50`` is
    1200.50 in EUR. With one separator followed by three digits, the English reading
    holds: 1,200 is twelve hundred, 1.200 is one point two."""
    if not text or not text.strip():
        return None, None
    plain = "".join(
        char for char in text if not char.isspace() and unicodedata.category(char) != "Sc" and char != "'"
    )
    code = None
    coded = re.fullmatch(r"([A-Za-z]{3})?([^A-Za-z]*)([A-Za-z]{3})?", plain)
    if coded and (coded.group(1) or coded.group(3)) and not (coded.group(1) and coded.group(3)):
        code, plain = (coded.group(1) or coded.group(3)).upper(), coded.group(2)
    if "," in plain and "." in plain:
        decimal_mark = "," if plain.rfind(",") > plain.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        plain = plain.replace(grouping, "").replace(decimal_mark, ".")
    elif "," in plain:
        grouped = re.fullmatch(r"-?\d{1,3}(,\d{3})+", plain)
        plain = plain.replace(",", "") if grouped else plain.replace(",", ".", 1)
    elif plain.count(".") > 1 and re.fullmatch(r"-?\d{1,3}(\.\d{3})+", plain):
        plain = plain.replace(".", "")
    if not re.fullmatch(r"-?\d+(\.\d+)?([eE][+-]?\d+)?", plain):
        raise Invalid(f"invalid amount {quoted(text)}: write it like 1234.50 or 1,234.50")
    return plain, code


def crm_word(text: str | None, what: str, words: dict[str, str], default: str) -> str:
    """One of crm's words for a value another tool spells its own way ("Medium" is normal)."""
    if not text:
        return default
    known = words.get(fold_header(text))
    if known is None:
        choices = ", ".join(dict.fromkeys(words.values()))
        raise Invalid(f"unknown {what} {quoted(text)}: use {choices}")
    return known


def spellings_of(pairs: dict[str, str]) -> dict[str, str]:
    """crm's word for each folded spelling, from {word: "spelling,spelling,..."}."""
    return {
        fold_header(spelling): word for word, spellings in pairs.items() for spelling in spellings.split(",")
    }
