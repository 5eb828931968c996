"""Refusals that name the field at fault, so a form shows them beside it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from crm_tui.logic.core.errors import CrmError


@contextmanager
def about(field: str) -> Iterator[None]:
    """A refusal raised inside names ``field``, unless it already names one."""
    try:
        yield
    except CrmError as exc:
        if exc.field is not None:
            raise
        raise type(exc)(str(exc), field=field) from None
