"""A table of one page of rows, drawn line by line.

Textual's DataTable measures and renders every cell through rich on each change, which
costs tens of milliseconds for a screenful; a list that refills on every keystroke of a
filter cannot afford that. This table draws each visible line as one run of text cut
to the column widths, so a new page is on screen in a few milliseconds. It holds one
page (the screen's logic pages through the rest) and scrolls within it by moving its
top line to keep the cursor in view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget


@dataclass(frozen=True)
class Column:
    """A column's heading, its narrowest width, and its share of any width to spare."""

    label: str
    width: int
    grow: int = 0


def widths(columns: Sequence[Column], total: int) -> list[int]:
    """Each column's width for a line of ``total`` cells, one space between columns.

    Columns get their own width first, and what is left goes to the growing ones by
    their shares (the remainder to the first). On a line too narrow for all, the last
    columns are left out whole (width 0) and the spare goes to those shown.
    """
    shown = len(columns)
    while shown > 1 and sum(c.width for c in columns[:shown]) + shown - 1 > total:
        shown -= 1
    result = [column.width if index < shown else 0 for index, column in enumerate(columns)]
    if sum(result) > total:  # not even the first column fits
        result[0] = max(total, 0)
        return result
    spare = total - sum(result) - (shown - 1)
    growing = [index for index in range(shown) if columns[index].grow] or [shown - 1]
    shares = sum(columns[index].grow or 1 for index in growing)
    for index in growing:
        result[index] += spare * (columns[index].grow or 1) // shares
    result[growing[0]] += total - sum(result) - (shown - 1)
    return result


def _fit(text: str, size: int) -> str:
    """``text`` padded or cut to ``size`` cells, a cut shown by an ellipsis."""
    if cell_len(text) <= size:
        return set_cell_size(text, size)
    return set_cell_size(text, size - 1) + "…"


class RowTable(Widget, can_focus=True):
    """Rows with a cursor; moving past either end asks for the next or previous page."""

    DEFAULT_CSS = """
    RowTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
    }
    RowTable > .rowtable--header {
        text-style: bold;
        background: $panel;
        color: $foreground;
    }
    RowTable > .rowtable--even {
        background: $surface-lighten-1;
    }
    RowTable > .rowtable--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
    }
    RowTable:focus > .rowtable--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """
    COMPONENT_CLASSES = {"rowtable--header", "rowtable--even", "rowtable--cursor"}
    BINDINGS = [
        Binding("down", "cursor_down", "Down", show=False, id="rows.down"),
        Binding("up", "cursor_up", "Up", show=False, id="rows.up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="rows.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="rows.page_up"),
        Binding("home", "first", "First row", show=False, id="rows.first"),
        Binding("end", "last", "Last row", show=False, id="rows.last"),
        Binding("enter", "select", "Open", id="rows.open", tooltip="Open the row under the cursor"),
    ]

    cursor_row: reactive[int] = reactive(0, repaint=False)

    class Selected(Message):
        """The user opened a row (enter, or a click on the cursor's row)."""

        def __init__(self, table: RowTable, key: str) -> None:
            super().__init__()
            self.table, self.key = table, key

        @property
        def control(self) -> RowTable:
            """The table, so that ``@on(RowTable.Selected, "#id")`` picks one table's rows."""
            return self.table

    class PageWanted(Message):
        """The user moved past the last row (forward) or the first (back)."""

        def __init__(self, table: RowTable, forward: bool) -> None:
            super().__init__()
            self.table, self.forward = table, forward

        @property
        def control(self) -> RowTable:
            return self.table

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = list(columns)
        self.keys: list[str] = []
        self._cells: list[Sequence[str]] = []
        self._lines: list[str] = []  # each row's text, cut to the widths of _laid_for
        self._laid_for = -1
        self._styles: dict[str, Style] = {}  # by line kind, as drawn last (see render_lines)
        self._header = ""
        self.top = 0  # the row shown on the first line under the header

    # What the screen and tests read

    @property
    def row_count(self) -> int:
        return len(self.keys)

    def get_row_at(self, index: int) -> Sequence[str]:
        return self._cells[index]

    @property
    def visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    # Filling and moving

    def set_rows(self, rows: Sequence[tuple[str, Sequence[str]]], *, cursor_last: bool = False) -> None:
        """Show ``rows`` (each a key and its cells), the cursor on the first or last."""
        self.keys = [key for key, _ in rows]
        self._cells = [cells for _, cells in rows]
        self._laid_for = -1
        self.top = 0
        self.cursor_row = max(0, len(self.keys) - 1) if cursor_last else 0
        self._follow_cursor()
        self.refresh()

    def refill(self, rows: Sequence[tuple[str, Sequence[str]]], *, select: str | None = None) -> None:
        """Show ``rows`` keeping the place: the cursor on ``select`` if it is shown, else on
        the record it was on, else on the row where that record was (its neighbour), so
        the next key never acts on a record the user did not choose."""
        was_row = self.cursor_row
        wanted = select or self.current
        self.set_rows(rows)
        if wanted in self.keys:
            self.move_cursor(row=self.keys.index(wanted))
        else:
            self.move_cursor(row=min(was_row, self.row_count - 1))

    @property
    def current(self) -> str | None:
        """The key of the row under the cursor (None with no rows)."""
        return self.keys[self.cursor_row] if self.keys else None

    def move_cursor(self, *, row: int) -> None:
        self.cursor_row = min(max(row, 0), max(0, self.row_count - 1))
        self._follow_cursor()
        self.refresh()

    def _follow_cursor(self) -> None:
        if self.cursor_row < self.top:
            self.top = self.cursor_row
        elif self.cursor_row >= self.top + self.visible_rows:
            self.top = self.cursor_row - self.visible_rows + 1

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.PageWanted(self, True))
        else:
            self.move_cursor(row=self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        if self.cursor_row == 0:
            self.post_message(self.PageWanted(self, False))
        else:
            self.move_cursor(row=self.cursor_row - 1)

    def action_page_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.PageWanted(self, True))
        else:
            self.move_cursor(row=self.cursor_row + self.visible_rows)

    def action_page_up(self) -> None:
        if self.cursor_row == 0:
            self.post_message(self.PageWanted(self, False))
        else:
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
        event.stop()
        self.move_cursor(row=self.cursor_row + 3)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.move_cursor(row=self.cursor_row - 3)

    def on_resize(self) -> None:
        self._follow_cursor()

    # Drawing

    def _lay_out(self, width: int) -> None:
        """Cut every row's cells to the column widths for ``width`` (once per page and width)."""
        sizes = widths(self.columns, width)

        def line(cells: Sequence[str]) -> str:
            pairs = zip(cells, sizes, strict=True)
            parts = [_fit(" ".join(str(cell).split()), size) for cell, size in pairs if size]
            return set_cell_size(" ".join(parts), width)

        self._header = line([column.label for column in self.columns])
        self._lines = [line(cells) for cells in self._cells]
        self._laid_for = width

    def render_lines(self, crop: Region) -> list[Strip]:
        # The styles once for all the lines drawn now: each costs a walk up the widgets
        # (a third of the time a list spent drawing a page).
        self._styles = self._line_styles()
        return super().render_lines(crop)

    def _line_styles(self) -> dict[str, Style]:
        plain = self.rich_style
        return {
            name: plain + self.get_component_rich_style(f"rowtable--{name}", partial=True)
            for name in ("header", "cursor", "even")
        } | {"plain": plain}

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._laid_for != width:
            self._lay_out(width)
        styles = self._styles or self._line_styles()
        if y == 0:
            return Strip([Segment(self._header, styles["header"])], width)
        row = self.top + y - 1
        if row >= len(self._lines):
            return Strip.blank(width, styles["plain"])
        if row == self.cursor_row:
            style = styles["cursor"]
        elif row % 2:
            style = styles["even"]
        else:
            style = styles["plain"]
        return Strip([Segment(self._lines[row], style)], width)
