"""What `crm import` is asked to do beyond reading the rows: the options of one import.

Kept free of the database and the importers, so the command line can build them
before anything heavy is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crm_tui.logic.core.errors import Invalid, quoted

POLICIES = ("skip", "update", "merge")
DATE_ORDERS = ("dmy", "mdy")
UNKNOWN_COLUMNS = ("keep", "ignore")


@dataclass(frozen=True)
class ImportOptions:
    """The options of one import; each importer reads the ones that concern it.
    An unknown duplicate policy or date order is refused when the options are made."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    """``--map COLUMN=FIELD``: columns of a CSV file whose header says nothing crm knows."""
    unknown_columns: str = "keep"
    """keep: columns crm has no field for are custom fields of each record; ignore: dropped."""
    policy: str = "skip"
    """Customers that duplicate one in crm: skip, update (the file wins) or merge (fill empty fields)."""
    dry_run: bool = False
    """Check every row as an import would, and store nothing."""
    create_users: bool = False
    """Owners and assignees crm does not know become users (admins only)."""
    create_customers: bool = False
    """Companies that contacts, deals and tickets name and crm does not know become customers."""
    rejects_path: Path | None = None
    """Where the refused and skipped rows go, each with its reason."""
    on_reject: Callable[[int, str], None] | None = None
    """Told the line and reason of each refused or skipped row, as the run goes."""
    pipelines: Mapping[str, str] = field(default_factory=dict)
    """Deals: ``--pipeline FROM=TO``, the file's pipeline names as crm's."""
    stages: Mapping[str, str] = field(default_factory=dict)
    """Deals: ``--stage FROM=TO``, the file's stage names as the pipeline's."""
    lost_reason: str | None = None
    """Deals: the reason of lost deals whose row gives none."""
    resolution: str | None = None
    """Tickets: the resolution of resolved or closed tickets whose row gives none."""
    default_customer: str | None = None
    """Deals: the customer of rows that name none (added if crm does not have it)."""
    date_order: str | None = None
    """dmy or mdy: how to read dates like 03/04/2025; None reads only dates that read one way."""

    def __post_init__(self) -> None:
        if self.unknown_columns not in UNKNOWN_COLUMNS:
            raise Invalid(
                f"unknown choice {quoted(self.unknown_columns)} for unknown columns: "
                f"choose {' or '.join(UNKNOWN_COLUMNS)}"
            )
        if self.policy not in POLICIES:
            raise Invalid(f"unknown duplicate policy {quoted(self.policy)}: choose {', '.join(POLICIES)}")
        if self.date_order is not None and self.date_order not in DATE_ORDERS:
            raise Invalid(f"unknown date order {quoted(self.date_order)}: choose {' or '.join(DATE_ORDERS)}")
