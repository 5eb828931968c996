"""A table of records keyed by their references that keeps its place when refilled.

A list that reloads after every action must not throw the cursor back to the first row:
the next key would act on the wrong record. This table puts the cursor back on the
record it was on, or, when that record left the view, on the row that took its place.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget
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


def _cut(text: str, size: int) -> str:
    """``text`` on one line, padded or cut to ``size`` cells, a cut shown by an ellipsis."""
    text = " ".join(text.split())
    if cell_len(text) <= size:
        return set_cell_size(text, size)
    return set_cell_size(text, max(size - 1, 0)) + "…"


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


class SectionTable(Widget, can_focus=True):
    """A few rows of records under a heading line, drawn line by line, as one section
    of a record's screen (a customer's contacts, deals, timeline...).

    It looks and moves like a DataTable with a row cursor and zebra stripes, but fills
    in a fraction of the time: a DataTable builds, measures and renders every cell
    through rich, while this table cuts each row to the column widths once per fill and
    width and draws it as one run of text. It is as high as its rows (a CSS max-height
    caps it) and scrolls within them to keep the cursor in view. Keys: the records'
    references, in order; ``show`` refills it keeping the cursor's place.
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
    COMPONENT_CLASSES = {"section-table--header", "section-table--even", "section-table--cursor"}
    BINDINGS = [
        Binding("enter", "select", "Open", show=False, id="section.open"),
        Binding("down", "cursor_down", "Down", show=False, id="section.down"),
        Binding("up", "cursor_up", "Up", show=False, id="section.up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="section.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="section.page_up"),
        Binding("home", "first", "First row", show=False, id="section.first"),
        Binding("end", "last", "Last row", show=False, id="section.last"),
    ]

    cursor_row: reactive[int] = reactive(0, repaint=False)

    class Selected(Message):
        """The user opened a row (Enter, or a click on the cursor's row)."""

        def __init__(self, table: SectionTable, key: str) -> None:
            super().__init__()
            self.table, self.key = table, key

        @property
        def control(self) -> SectionTable:
            """The table, so that ``@on(SectionTable.Selected, "#id")`` picks one table's rows."""
            return self.table

    def __init__(self, *labels: str, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.labels = labels
        self.keys: list[str] = []
        self._rows: list[list[str]] = []
        self._lines: list[str] = []  # each row's text, cut to the widths of _laid_for
        self._header = ""
        self._laid_for = -1
        self.top = 0  # the row shown on the first line under the heading

    # What the screen and tests read

    @property
    def row_count(self) -> int:
        return len(self.keys)

    @property
    def current(self) -> str | None:
        """The reference of the record under the cursor (None when there are no rows)."""
        if not self.keys:
            return None
        return self.keys[min(self.cursor_row, len(self.keys) - 1)]

    def get_row(self, key: str) -> list[str]:
        """The cells of the record ``key``."""
        return self._rows[self.keys.index(key)]

    def get_row_at(self, index: int) -> list[str]:
        return self._rows[index]

    @property
    def visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    # Filling and moving

    def show(self, rows: Sequence[tuple[str, Sequence[str]]], *, keep: bool = True) -> None:
        """Show ``rows`` (each a reference and its cells), the cursor on the record it was
        on, else on the row now where that record was, else on the last row; with
        ``keep`` False (another record's rows), on the first row, shown from the top."""
        was, index, before = self.current, self.cursor_row, len(self.keys)
        if not keep:
            was, index, self.top = None, 0, 0
        self.keys = [key for key, _ in rows]
        self._rows = [[str(cell) for cell in cells] for _, cells in rows]
        self._laid_for = -1
        target = self.keys.index(was) if was in self.keys else min(index, max(len(self.keys) - 1, 0))
        self.set_reactive(SectionTable.cursor_row, target)
        self._follow_cursor()
        # Its height follows its rows: a new layout only when their number changed.
        self.refresh(layout=len(self.keys) != before)

    def go_to(self, key: str) -> None:
        """Put the cursor on the record ``key`` when it is shown."""
        if key in self.keys:
            self.move_cursor(row=self.keys.index(key))

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        self.cursor_row = min(max(row, 0), max(0, self.row_count - 1))
        self._follow_cursor()
        self.refresh()

    def _follow_cursor(self) -> None:
        if self.cursor_row < self.top:
            self.top = self.cursor_row
        elif self.cursor_row >= self.top + self.visible_rows:
            self.top = self.cursor_row - self.visible_rows + 1
        self.top = max(0, min(self.top, self.row_count - self.visible_rows))

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + self.visible_rows)

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - self.visible_rows)

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=self.row_count - 1)

    def action_select(self) -> None:
        if self.keys:
            self.post_message(self.Selected(self, self.keys[self.cursor_row]))

    # The mouse

    def on_click(self, event: events.Click) -> None:
        row = self.top + event.y - 1
        if event.y == 0 or row >= self.row_count:
            return
        if row == self.cursor_row or event.chain > 1:
            self.move_cursor(row=row)
            self.action_select()
        else:
            self.move_cursor(row=row)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self.top + self.visible_rows < self.row_count:
            event.stop()  # at its last row the page around it scrolls instead
            self.move_cursor(row=max(self.cursor_row, self.top + self.visible_rows))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.top > 0:
            event.stop()
            self.move_cursor(row=min(self.cursor_row, self.top - 1))

    def on_resize(self) -> None:
        self._follow_cursor()

    # Size and drawing

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1 + len(self.keys)

    def _lay_out(self, width: int) -> None:
        """Cut every row's cells to the column widths for ``width`` (once per fill and width)."""
        sizes = column_widths(self.labels, self._rows, width)

        def line(cells: Sequence[str]) -> str:
            parts = [f" {_cut(cell, size)} " for cell, size in zip(cells, sizes, strict=True)]
            return set_cell_size("".join(parts), width)

        self._header = line(self.labels)
        self._lines = [line(cells) for cells in self._rows]
        self._laid_for = width

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._laid_for != width:
            self._lay_out(width)
        if y == 0:
            return Strip([Segment(self._header, self._style("section-table--header"))], width)
        row = self.top + y - 1
        if row >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        if row == self.cursor_row:
            style = self._style("section-table--cursor")
        elif row % 2 == 0:
            style = self._style("section-table--even")
        else:
            style = self.rich_style
        return Strip([Segment(self._lines[row], style)], width)

    def _style(self, component: str) -> Style:
        # The whole style: its colours with their transparency laid over the table's own.
        return self.get_component_rich_style(component)
