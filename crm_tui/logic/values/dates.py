"""Dates as users write them: 2026-12-01, today, tomorrow, +3d, +2w, monday."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from crm_tui.logic.core.errors import Invalid, quoted

_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_OFFSET = re.compile(r"^\+(\d{1,4})([dw])$")
_DURATION_PART = re.compile(r"(\d+)\s*([wdhm])")
_UNIT_SECONDS = {"w": 7 * 86_400, "d": 86_400, "h": 3_600, "m": 60}
# The longest span crm reads: a ten-year SLA target or "due within" means no limit, and
# a longer one could not be added to a date (dates end in the year 9999).
MAX_DURATION = timedelta(days=3650)


def local_today() -> date:
    """Today in the user's local time zone (due dates are the user's calendar days)."""
    return datetime.now().astimezone().date()


def parse_relative_day(text: str, today: date | None = None) -> date:
    """A calendar day from an ISO date, ``today``, ``tomorrow``, ``+Nd``, ``+Nw`` or a weekday.

    A weekday means the next one after today (``friday`` on a Friday is a week away).
    """
    today = today or local_today()
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    offset = _OFFSET.match(word)
    if offset:
        count, unit = int(offset.group(1)), offset.group(2)
        return today + timedelta(days=count * (7 if unit == "w" else 1))
    for index, name in enumerate(_DAYS):
        if len(word) >= 3 and name.startswith(word):
            ahead = (index - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise Invalid(
            f"invalid date {quoted(text)}: use YYYY-MM-DD, today, tomorrow, +3d, +2w or a weekday"
        ) from None


def parse_duration(text: str) -> timedelta:
    """A span like ``90m``, ``2h``, ``1h30m``, ``3d`` or ``1w``; more than zero, at most
    ``MAX_DURATION``."""
    word = text.strip().lower().replace(" ", "")
    parts = _DURATION_PART.findall(word)
    if not word or "".join(f"{n}{unit}" for n, unit in parts) != word:
        raise Invalid(
            f"invalid duration {quoted(text)}: use minutes, hours, days or weeks, like 90m, 2h, 1h30m, 3d"
        )
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in parts)
    if seconds <= 0:
        raise Invalid(f"a duration must be more than zero, not {quoted(text)}")
    if seconds > MAX_DURATION.total_seconds():
        raise Invalid(f"a duration must be at most {MAX_DURATION.days} days, not {quoted(text)}")
    return timedelta(seconds=seconds)


def duration_text(seconds: float) -> str:
    """A span for people: ``1d 2h``, ``3h 15m``, ``45m``."""
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{mins}m" if mins or not (days or hours) else "",
    ]
    return " ".join(part for part in parts if part)
