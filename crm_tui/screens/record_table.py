"""A table of records keyed by their references that keeps its place when refilled.

A list that reloads after every action must not throw the cursor back to the first row:
the next key would act on the wrong record. This table puts the cursor back on the
record it was on, or, when that record left the view, on the row that took its place.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.widgets import DataTable

from crm_tui.screens.widgets.row_table import LineTable, cursor_keys, fit

Cell = str | Text


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def _cut(cell: Cell, size: int) -> Cell:
    """``cell`` cut to ``size`` cells with an ellipsis, as the line-drawn tables cut (a
    DataTable crops a cell without a sign that there is more)."""
    if _width(cell) <= size:
        return cell
    if isinstance(cell, Text):
        cut = cell.copy()
        cut.truncate(size, overflow="ellipsis")
        return cut
    return fit(" ".join(cell.split()), size)


class RecordTable(DataTable):
    """Rows of records, one per reference; ``show`` refills them keeping the cursor's place."""

    def __init__(self, *columns: str, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.labels = columns
        self.add_columns(*columns)
        self.keys: list[str] = []
        self._shown: list[tuple[str, Sequence[Cell]]] = []

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
        self._shown = list(rows)
        # Each column as wide as its widest cell, measured here (DataTable measures new
        # rows only when it is next idle, and a picture taken before that has every
        # column cut to its heading), and the widest narrowed until all fit the table's
        # width: a DataTable scrolls sideways instead, and the last columns (a task's
        # assignee) went out of sight behind a long title.
        plain = [[cell.plain if isinstance(cell, Text) else cell for cell in cells] for _, cells in rows]
        room = self.scrollable_content_region.width or 10_000  # not laid out yet: no limit
        sizes = column_widths(self.labels, plain, room)
        self.clear(columns=True)
        for label, size in zip(self.labels, sizes, strict=True):
            self.add_column(label, width=size)
        self.keys = [key for key, _ in rows]
        for key, cells in rows:
            self.add_row(*(_cut(cell, size) for cell, size in zip(cells, sizes, strict=True)), key=key)
        if not self.keys:
            return
        target = self.keys.index(was) if was in self.keys else min(index, len(self.keys) - 1)
        self.move_cursor(row=target, animate=False)

    def on_resize(self) -> None:
        if self.keys:
            self.show(self._shown)  # the columns fitted to the new width

    def go_to(self, key: str) -> None:
        """Put the cursor on the record ``key`` when it is shown."""
        if key in self.keys:
            self.move_cursor(row=self.keys.index(key), animate=False)


def column_widths(labels: Sequence[str], rows: Sequence[Sequence[str]], total: int) -> list[int]:
    """Each column as wide as its widest cell or its heading, as a DataTable sizes them.
    On a line too narrow for them all (with a space each side of each), the widest
    column (the later of equals: the first columns say most) gives up a cell, then the
    widest again, until the line fits, none going below its heading or 3 cells."""
    sizes = [
        max([cell_len(label), *(cell_len(" ".join(cells[index].split())) for cells in rows)])
        for index, label in enumerate(labels)
    ]
    floors = [min(size, max(cell_len(label), 3)) for size, label in zip(sizes, labels, strict=True)]
    excess = sum(sizes) + 2 * len(sizes) - total
    while excess > 0:
        shrinkable = [index for index, size in enumerate(sizes) if size > floors[index]]
        if not shrinkable:
            break
        sizes[max(reversed(shrinkable), key=sizes.__getitem__)] -= 1
        excess -= 1
    return sizes


class SectionTable(LineTable):
    """A few rows of records under a heading line, as one section of a record's screen
    (a customer's contacts, deals, timeline...).

    It looks and moves like a DataTable with a row cursor and zebra stripes, but fills
    in a fraction of the time: a DataTable builds, measures and renders every cell
    through rich. Its columns are as wide as their widest cell (``column_widths``). It
    is as high as its rows (a CSS max-height caps it) and scrolls within them to keep
    the cursor in view; ``show`` refills it keeping the cursor's place.
    """

    DEFAULT_CSS = """
    SectionTable {
        height: auto;
        background: $surface;
        color: $foreground;
    }
    SectionTable:focus {
        background-tint: $foreground 5%;
    }
    SectionTable > .section-table--header {
        text-style: bold;
        background: $panel;
        color: $foreground;
    }
    SectionTable:focus > .section-table--header {
        background-tint: $foreground 5%;
    }
    SectionTable:ansi > .section-table--header {
        background: ansi_bright_blue;
        color: ansi_default;
    }
    SectionTable > .section-table--even {
        background: $surface-lighten-1 50%;
    }
    SectionTable:dark > .section-table--even {
        background: $surface-darken-1 40%;
    }
    SectionTable > .section-table--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    SectionTable:focus > .section-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """
    PARTS = ("section-table--header", "section-table--even", "section-table--cursor")
    COMPONENT_CLASSES = set(PARTS)
    STRIPED = 0
    PAD, SEPARATOR = " ", "  "  # a space each side of each cell, as a DataTable pads
    BINDINGS = [
        Binding("enter", "select", "Open", show=False, id="section.open"),
        *cursor_keys("section"),
    ]

    class Selected(LineTable.Selected):
        """The user opened a row (Enter, or a click on the cursor's row)."""

    def __init__(self, *labels: str, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(labels, id=id, classes=classes)

    def column_sizes(self, width: int) -> list[int]:
        return column_widths(self.labels, [[str(cell) for cell in cells] for cells in self._cells], width)

    def _line_styles(self) -> dict[str, Style]:
        # Whole styles: the parts' see-through colours (50%, a tint on focus) laid over
        # the table's own, which a partial style added to the plain one cannot hold.
        header, striped, cursor = (self.get_component_rich_style(part) for part in self.PARTS)
        return {"header": header, "cursor": cursor, "striped": striped, "plain": self.rich_style}

    def get_row(self, key: str) -> Sequence[str]:
        """The cells of the record ``key``."""
        return self._cells[self.keys.index(key)]

    def show(self, rows: Sequence[tuple[str, Sequence[str]]], *, keep: bool = True) -> None:
        """Show ``rows`` (each a reference and its cells), the cursor on the record it was
        on, else on the row now where that record was, else on the last row; with
        ``keep`` False (another record's rows), on the first row, shown from the top."""
        was, index, before = self.current, self.cursor_row, len(self.keys)
        if not keep:
            was, index, self.top = None, 0, 0
        self._fill([(key, [str(cell) for cell in cells]) for key, cells in rows])
        target = self.keys.index(was) if was in self.keys else min(index, max(len(self.keys) - 1, 0))
        self.set_reactive(SectionTable.cursor_row, target)
        self._follow_cursor()
        # Its height follows its rows: a new layout only when their number changed.
        self.refresh(layout=len(self.keys) != before)

    def _follow_cursor(self) -> None:
        super()._follow_cursor()
        self.top = max(0, min(self.top, self.row_count - self.visible_rows))

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + self.visible_rows)

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - self.visible_rows)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self.top + self.visible_rows < self.row_count:
            event.stop()  # at its last row the page around it scrolls instead
            self.move_cursor(row=max(self.cursor_row, self.top + self.visible_rows))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.top > 0:
            event.stop()
            self.move_cursor(row=min(self.cursor_row, self.top - 1))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1 + len(self.keys)
