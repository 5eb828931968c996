"""Values as people read them, the same on the command line and on screen."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any


def shown(value: Any) -> str:
    """A value as text for a person: local times to the minute, dates as ISO, enums by
    value, yes/no, lists joined by commas, blanks for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return ", ".join(shown(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}={shown(item)}" for key, item in value.items())
    return str(value)
