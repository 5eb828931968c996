"""References: integer ids shown with a prefix that tells the kind (C-12, P-7, D-45, ...).

Users may type ``C-12``, ``c12`` or plain ``12``; a prefix of the wrong kind is an error
rather than a guess, so ``crm customer show P-7`` never shows customer 7.
"""

from __future__ import annotations

import re

from crm_tui.logic.core.errors import Invalid, quoted

PREFIXES = {
    "customer": "C",
    "contact": "P",
    "deal": "D",
    "order": "O",
    "ticket": "T",
    "task": "K",
    "activity": "N",
    "user": "U",
    "product": "PR",
    "pipeline": "PL",
    "stage": "ST",
    "sla": "SLA",  # one per priority: 1 low, 2 normal, 3 high, 4 urgent
}
_KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}
_PATTERN = re.compile(r"^\s*(?:([A-Za-z]+)-?)?(\d{1,18})\s*$")


def ref(kind: str, record_id: int) -> str:
    """The reference shown for a record: ``ref("customer", 12) == "C-12"``."""
    return f"{PREFIXES[kind]}-{record_id}"


def parse_ref(kind: str, text: str | int) -> int:
    """The id in a reference to a record of ``kind``; Invalid if it is not one."""
    if isinstance(text, int) and not isinstance(text, bool):
        if not 1 <= text < 10**18:  # as many digits as a written reference may have
            raise Invalid(f"{quoted(text)} is not a {kind} reference")
        return text
    match = _PATTERN.match(str(text))
    if not match:
        raise Invalid(f"{quoted(text)} is not a {kind} reference (like {PREFIXES[kind]}-12)")
    prefix, digits = match.groups()
    if prefix and prefix.upper() != PREFIXES[kind]:
        other = _KINDS.get(prefix.upper())
        what = f"a {other} reference" if other else f"not a {kind} reference"
        raise Invalid(f"{str(text).strip()} is {what}; a {kind} looks like {PREFIXES[kind]}-12")
    record_id = int(digits)
    if record_id < 1:
        raise Invalid(f"{quoted(text)} is not a {kind} reference")
    return record_id
