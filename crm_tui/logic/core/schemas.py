"""Data-only models: what front ends send in (Create/Update) and get back (Read).

Input models forbid unknown fields, so a typo in a JSON Lines record is an error and
not a silently dropped value. Read models are plain objects, detached from the database.
Field names here are the stable names of ``--format json|jsonl|csv``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from crm_tui.logic.core.errors import Invalid, quoted, shortened
from crm_tui.logic.core.vocabulary import Role

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _one_line(text: str) -> str:
    """Text of a single-line field: no control characters (as values.normalise cleans it)."""
    found = _CONTROL.search(text)
    if found is not None:
        raise ValueError(f"must not hold control characters: {quoted(found.group())}")
    return text


OneLine = Annotated[str, AfterValidator(_one_line)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(frozen=True)


In = TypeVar("In", bound=Input)


class UserCreate(Input):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: OneLine = Field(default="", max_length=200)
    role: Role = Role.sales


class UserUpdate(Input):
    display_name: OneLine | None = Field(default=None, max_length=200)
    role: Role | None = None


class UserRead(Output):
    id: int
    ref: str
    username: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime
    version: int


class AuditRead(Output):
    id: int
    at: datetime
    actor: str | None
    record: str
    action: str
    changes: dict[str, Any]


def describe_validation(exc: ValidationError) -> str:
    """A pydantic error as one line in the user's words: ``field: problem; ...``."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "record"
        if error["type"] == "extra_forbidden":
            parts.append(f"unknown field {quoted(field)}")
        elif error["type"] == "missing":
            parts.append(f"{shortened(field)} is required")
        else:
            parts.append(f"{shortened(field)}: {error['msg']}")
    return "; ".join(parts)


def validated(model: type[In], data: Any) -> In:
    """``data`` checked against ``model``; Invalid (not a pydantic error) naming the
    first field at fault when it fails."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(describe_validation(exc), field=_first_field(exc)) from None


def _first_field(exc: ValidationError) -> str | None:
    """The top-level field of the first problem, so a form can show it there."""
    for error in exc.errors():
        if error["loc"]:
            return str(error["loc"][0])
    return None
