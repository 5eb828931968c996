"""Column types shared by the tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones, so values are stored as naive UTC there and given back
    aware; a naive value handed in is a programming error, not something to guess at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; crm stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@dataclass
class ServerClock:
    """How far ahead of this machine's clock the database server's runs: measured on
    PostgreSQL as each connection opens (``database._follow_server_clock``), zero on
    SQLite, whose clock is this machine's."""

    ahead: timedelta = timedelta(0)


SERVER_CLOCK = ServerClock()


def utcnow() -> datetime:
    """The current time, aware, in UTC, by the database server's clock: a team whose
    machines' clocks differ stamps its records, timelines and SLA clocks with one."""
    return datetime.now(UTC) + SERVER_CLOCK.ahead
