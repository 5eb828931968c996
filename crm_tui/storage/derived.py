"""Tables of data derived from the records and kept by triggers: the search index and
the stage totals. They are storage's own, not table models: schema comparisons, dumps
and table counts leave them out, and a rebuild makes them again from the records."""

from __future__ import annotations

from crm_tui.storage.deal_totals import is_totals_table
from crm_tui.storage.search import is_index_table


def is_derived_table(name: str) -> bool:
    """Whether ``name`` is a table of derived data (the search index's, or the totals)."""
    return is_index_table(name) or is_totals_table(name)
