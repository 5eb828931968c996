"""Values as people read them on screen."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any


def shown(value: Any) -> str:
    """Local times to the minute, dates as ISO, enums by value, blanks for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)
