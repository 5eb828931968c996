"""A table of records keyed by their references that keeps its place when refilled.

A list that reloads after every action must not throw the cursor back to the first row:
the next key would act on the wrong record. This table puts the cursor back on the
record it was on, or, when that record left the view, on the row that took its place.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


class RecordTable(DataTable):
    """Rows of records, one per reference; ``show`` refills them keeping the cursor's place."""

    def __init__(self, *columns: str, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.labels = columns
        self.add_columns(*columns)
        self.keys: list[str] = []

    @property
    def current(self) -> str | None:
        """The reference of the record under the cursor (None when there are no rows)."""
        if not self.keys:
            return None
        return self.keys[min(self.cursor_row, len(self.keys) - 1)]

    def show(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Show ``rows`` (each a reference and its cells), the cursor on the record it was
        on, else on the row now where that record was, else on the last row."""
        was, index = self.current, self.cursor_row
        # Each column as wide as its widest cell, measured here: DataTable measures new
        # rows only when it is next idle, and a picture taken before that has every
        # column cut to its heading.
        self.clear(columns=True)
        for place, label in enumerate(self.labels):
            self.add_column(label, width=max([len(label), *(_width(cells[place]) for _, cells in rows)]))
        self.keys = [key for key, _ in rows]
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if not self.keys:
            return
        target = self.keys.index(was) if was in self.keys else min(index, len(self.keys) - 1)
        self.move_cursor(row=target, animate=False)

    def go_to(self, key: str) -> None:
        """Put the cursor on the record ``key`` when it is shown."""
        if key in self.keys:
            self.move_cursor(row=self.keys.index(key), animate=False)
