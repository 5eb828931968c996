"""Custom fields: the values a team keeps on a record that crm has no field for (a VAT
number, a product, a helpdesk's ticket number), as a JSON object of name to value.

Customers, contacts, deals and tickets have them; an import keeps the columns crm has
no field for as custom fields, named as the file's header names the column.
"""

from __future__ import annotations

from typing import Any

from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.values.normalise import refuse_control_characters

NAME_LIMIT = 300  # characters in a custom field's name (a vCard property's, parameters included)


def merged_custom(current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Custom fields after an edit: given keys are set, keys given as None (or the empty
    text) are removed; names are trimmed and must hold a character and no control one."""
    merged = dict(current)
    for key, value in given.items():
        key = refuse_control_characters(key.strip(), "a custom field's name")
        if not key:
            raise Invalid("a custom field needs a name")
        if len(key) > NAME_LIMIT:
            raise Invalid(f"a custom field's name must be at most {NAME_LIMIT} characters")
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = refuse_control_characters(value, key) if isinstance(value, str) else value
    return merged


def shown_custom(custom: dict[str, Any]) -> str:
    """Custom fields on one line, as a person reads them: "VAT ID: DE1 · Employees: 40"."""
    return " · ".join(f"{key}: {value}" for key, value in sorted(custom.items()))


def custom_lines(custom: dict[str, Any]) -> str:
    """Custom fields as a form shows them to edit: one a line, "VAT ID: DE123"."""
    return "\n".join(f"{key}: {value}" for key, value in sorted(custom.items()))


def custom_changes(before: str, after: str) -> dict[str, str | None]:
    """What editing the lines of ``custom_lines`` changed: the fields typed anew or
    changed, and None for those whose line was deleted (or left with no value)."""
    old, new = _typed(before), _typed(after)
    changes: dict[str, str | None] = {key: None for key in old if key not in new}
    changes.update({key: value for key, value in new.items() if old.get(key) != value})
    return changes


def _typed(text: str) -> dict[str, str | None]:
    """Lines of "Name: value" as fields; a line with no colon or no name is refused."""
    fields: dict[str, str | None] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon or not key.strip():
            raise Invalid(
                f"custom fields, line {number}: write a name, a colon and the value, like VAT ID: DE123",
                field="custom",
            )
        fields[key.strip()] = value.strip() or None
    return fields
