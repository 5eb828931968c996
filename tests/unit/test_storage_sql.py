"""The SQL functions storage adds, on each database: what they compute from stored values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import literal, select

from crm_tui.storage.sql import seconds_between
from crm_tui.storage.types import UTCDateTime


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        ("2024-01-01 00:00:00", "2024-01-01 00:00:10.999700", 10.9997),
        ("2024-01-01 00:00:00.999900", "2024-01-01 00:00:01.000100", 0.0002),
        ("2024-01-01 23:59:59.999999", "2024-01-02 00:00:00", 0.000001),
        ("2024-03-01 08:00:00.999500", "2024-02-28 08:00:00.000500", -2 * 86_400 - 0.999),
        ("2001-02-03 04:05:06.999999", "2031-08-09 10:11:12.000001", 962_863_565.000002),
    ],
)
def test_seconds_between_keeps_every_microsecond(crm, start, end, seconds):
    """A fraction of a second close to a whole one is not rounded into the next second."""
    query = select(seconds_between(literal(_at(start), UTCDateTime), literal(_at(end), UTCDateTime)))
    with crm.database.connection() as conn:
        assert conn.execute(query).scalar_one() == pytest.approx(seconds, abs=1e-6)
