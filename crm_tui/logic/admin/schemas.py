"""Data-only models of the database as a whole.

Field names here are the stable names of ``--format json|jsonl|csv``.
"""

from __future__ import annotations

from crm_tui.logic.core.schemas import Output


class DatabaseStatus(Output):
    location: str
    backend: str
    schema_version: str | None
    code_schema_version: str
    state: str
    message: str
