"""The SLA clock: calendar time, or business hours on business days in one time zone.

``add`` finds when a span of working time ends; ``between`` measures the working time
between two instants. Both work in UTC instants and compute each day's window in the
configured zone, so daylight-saving changes move the window with the wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_tui.logic.core.errors import Invalid

DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class WorkingTime:
    """When the clock runs: always (``hours`` None), or from ``hours[0]`` to ``hours[1]``
    on ``days`` (0 is Monday) in ``zone``."""

    hours: tuple[time, time] | None = None
    days: frozenset[int] = frozenset(range(5))
    zone: tzinfo = UTC

    @classmethod
    def from_settings(cls, hours: str | None, days: str, zone: str | None) -> WorkingTime:
        """Read the settings; Invalid names the setting that is wrong."""
        if not hours:
            return cls()
        return cls(hours=parse_hours(hours), days=parse_days(days), zone=_zone(zone))

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of working time after ``start``."""
        if self.hours is None:
            return start + timedelta(seconds=seconds)
        remaining = seconds
        for opens, closes in self._windows(start):
            if closes <= start:
                continue
            begin = max(opens, start)
            available = (closes - begin).total_seconds()
            if remaining <= available:
                return begin + timedelta(seconds=remaining)
            remaining -= available
        raise AssertionError("unreachable: windows never end")

    def between(self, start: datetime, end: datetime) -> float:
        """Seconds of working time from ``start`` to ``end`` (0 if end is not later)."""
        if end <= start:
            return 0.0
        if self.hours is None:
            return (end - start).total_seconds()
        total = 0.0
        for opens, closes in self._windows(start):
            if opens >= end:
                break
            overlap = (min(closes, end) - max(opens, start)).total_seconds()
            total += max(overlap, 0.0)
        return total

    def _windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Each working day's window as UTC instants, from the day of ``start`` on."""
        assert self.hours is not None
        day: date = start.astimezone(self.zone).date() - timedelta(days=1)
        while True:
            if day.weekday() in self.days:
                opens = datetime.combine(day, self.hours[0], self.zone).astimezone(UTC)
                closes = datetime.combine(day, self.hours[1], self.zone).astimezone(UTC)
                yield opens, closes
            day += timedelta(days=1)


def parse_hours(text: str) -> tuple[time, time]:
    match = _HOURS.match(text)
    if not match:
        raise Invalid(f'business_hours must look like "09:00-17:00", not {text!r}')
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    try:
        opens, closes = time(h1, m1), time(h2, m2)
    except ValueError:
        raise Invalid(f"business_hours {text!r} is not a time of day") from None
    if closes <= opens:
        raise Invalid(f"business_hours {text!r} must end after they start, on the same day")
    return opens, closes


def parse_days(text: str) -> frozenset[int]:
    """``mon-fri``, ``mon,wed,fri`` or ``sun-thu`` as weekday numbers (0 is Monday)."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        try:
            a = DAY_NAMES.index(first[:3])
            b = DAY_NAMES.index(last[:3]) if last else a
        except ValueError:
            raise Invalid(f'business_days must look like "mon-fri" or "mon,wed,fri", not {text!r}') from None
        days.update((a + step) % 7 for step in range((b - a) % 7 + 1))
    return frozenset(days)


def _zone(name: str | None) -> tzinfo:
    if not name:
        return datetime.now().astimezone().tzinfo or UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"timezone {name!r} is not a known IANA zone such as Europe/Berlin") from None
