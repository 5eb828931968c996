"""Cleaning contacts' rows, in a process of its own while the batch before them is written.

A contact's cleaning (its phone numbers read by phonenumbers above all) took more of
an import's time than the database did, and SQLite takes one writer at a time: so the
second core cleans batch n + 1 while the first writes batch n
(``contact_import.ContactCleaning``). This module is all that process loads: it
imports nothing of the database's, so that the process is ready sooner.
"""

from __future__ import annotations

import gc
import json
import signal
from typing import Any

from crm_tui.logic.core.errors import CrmError
from crm_tui.logic.values.custom_fields import merged_custom
from crm_tui.logic.values.normalise import clean_email, clean_phone, clean_text, name_key

# One row's cleaning as the importer takes it: the country its phones were read in,
# and what ``clean_contact`` made of it or why the row is refused; None for a row not
# cleaned here.
Cleaned = tuple[str | None, tuple[dict[str, Any], str] | str] | None
_AUDITED = ("name", "title", "email", "phone", "mobile", "custom")


def clean_contact(values: dict[str, Any], country: str | None) -> tuple[dict[str, Any], str]:
    """A row's contact fields cleaned as one typed in, phone numbers read in ``country``;
    and the audit changes of those fields, as the audit entry's JSON writes them (made
    here since this runs in the cleaning process, which has time to spare)."""
    name = clean_text(values.get("name"), "name", required=True)
    fields = {
        "name": name,
        "name_key": name_key(name, company=False),
        "title": clean_text(values.get("title"), "title"),
        "email": clean_email(values.get("email")),
        "phone": clean_phone(values.get("phone"), country),
        "mobile": clean_phone(values.get("mobile"), country, "mobile"),
        "custom": merged_custom({}, values["custom"]) if values.get("custom") else {},
    }
    # What audit.diff({}, fields) gives for a new record: every field that has a value.
    changes = {key: [None, fields[key]] for key in _AUDITED if fields[key]}
    return fields, json.dumps(changes)


def start() -> None:
    """Set up the cleaning process. Ctrl-C stops the import in the main process, which
    then closes this one. What is loaded by now is left out of the garbage collector's
    full passes, as in the importing process (``runner._run``): they made one batch in
    six take half as long again."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.freeze()


def clean_rows(items: list[tuple[dict[str, Any], str | None] | None]) -> list[Cleaned]:
    """Each row's fields cleaned by ``clean_contact`` with phone numbers read in the
    country given; run in the cleaning process."""
    cleaned: list[Cleaned] = []
    for item in items:
        if item is None:
            cleaned.append(None)
            continue
        values, country = item
        try:
            cleaned.append((country, clean_contact(values, country)))
        except CrmError as exc:
            cleaned.append((country, str(exc)))
    return cleaned
