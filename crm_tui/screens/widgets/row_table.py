"""Tables of rows drawn line by line: ``LineTable``, and ``RowTable``, one page of a list.

Textual's DataTable measures and renders every cell through rich on each change, which
costs tens of milliseconds for a screenful; a list that refills on every keystroke of a
filter cannot afford that. These tables draw each visible line as one run of text cut
to the column widths, so a new page is on screen in a few milliseconds. RowTable holds
one page (the screen's logic pages through the rest) and scrolls within it by moving its
top line to keep the cursor in view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

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


def fit(text: str, size: int) -> str:
    """``text`` padded or cut to ``size`` cells, a cut shown by an ellipsis."""
    if size <= 0:
        return ""
    if cell_len(text) <= size:
        return set_cell_size(text, size)
    return set_cell_size(text, max(size - 1, 0)) + "…"


def cursor_keys(prefix: str) -> list[Binding]:
    """The keys that move a table's cursor, not shown in the footer; their ids begin with
    ``prefix`` (each kind of table keeps its own, for the keymap)."""
    return [
        Binding("down", "cursor_down", "Down", show=False, id=f"{prefix}.down"),
        Binding("up", "cursor_up", "Up", show=False, id=f"{prefix}.up"),
        Binding("pagedown", "page_down", "Page down", show=False, id=f"{prefix}.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id=f"{prefix}.page_up"),
        Binding("home", "first", "First row", show=False, id=f"{prefix}.first"),
        Binding("end", "last", "Last row", show=False, id=f"{prefix}.last"),
    ]


class LineTable(Widget, can_focus=True):
    """Rows of records under a heading line, with a row cursor, drawn line by line: each
    row is cut to the column widths once per fill and width and drawn as one run of
    text. Keys: the records' references, in order. It scrolls within its rows by moving
    its top line to keep the cursor in view.

    A subclass names its component classes (``PARTS``: heading, striped rows, cursor),
    which rows are striped, how wide its columns are for a width (``column_sizes``),
    and its own ``Selected`` message.
    """

    PARTS: ClassVar[tuple[str, str, str]]  # component classes: heading, striped row, cursor
    STRIPED: ClassVar[int] = 1  # rows with row % 2 == STRIPED take the striped style
    PAD: ClassVar[str] = ""  # before the first cell and after the last
    SEPARATOR: ClassVar[str] = " "  # between two cells

    cursor_row: reactive[int] = reactive(0, repaint=False)

    class Selected(Message):
        """The user opened a row (Enter, or a click on the cursor's row)."""

        def __init__(self, table: LineTable, key: str) -> None:
            super().__init__()
            self.table, self.key = table, key

        @property
        def control(self) -> LineTable:
            """The table, so that ``@on(<Table>.Selected, "#id")`` picks one table's rows."""
            return self.table

    def __init__(self, labels: Sequence[str], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.labels = list(labels)
        self.keys: list[str] = []
        self._cells: list[Sequence[str]] = []
        self._lines: list[str] = []  # each row's text, cut to the widths of _laid_for
        self._laid_for = -1
        self._styles: dict[str, Style] = {}  # by line kind, as drawn last (see render_lines)
        self._header = ""
        self.top = 0  # the row shown on the first line under the heading

    def column_sizes(self, width: int) -> list[int]:
        """Each column's width on a line of ``width`` cells (0 leaves it out)."""
        raise NotImplementedError

    # What the screen and tests read

    @property
    def row_count(self) -> int:
        return len(self.keys)

    @property
    def current(self) -> str | None:
        """The key of the row under the cursor (None with no rows)."""
        return self.keys[min(self.cursor_row, len(self.keys) - 1)] if self.keys else None

    def get_row_at(self, index: int) -> Sequence[str]:
        return self._cells[index]

    @property
    def visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    # Filling and moving

    def _fill(self, rows: Sequence[tuple[str, Sequence[str]]]) -> None:
        self.keys = [key for key, _ in rows]
        self._cells = [cells for _, cells in rows]
        self._laid_for = -1

    def go_to(self, key: str) -> None:
        """Put the cursor on the record ``key`` when it is shown."""
        if key in self.keys:
            self.move_cursor(row=self.keys.index(key))

    def move_cursor(self, *, row: int) -> None:
        self.cursor_row = min(max(row, 0), max(0, self.row_count - 1))
        self._follow_cursor()
        self.refresh()

    def _follow_cursor(self) -> None:
        if self.cursor_row < self.top:
            self.top = self.cursor_row
        elif self.cursor_row >= self.top + self.visible_rows:
            self.top = self.cursor_row - self.visible_rows + 1

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
            return  # the heading, or below the rows: nothing to open
        if row == self.cursor_row or event.chain > 1:
            self.move_cursor(row=row)
            self.action_select()
        else:
            self.move_cursor(row=row)

    def on_resize(self) -> None:
        self._follow_cursor()

    # Drawing

    def _lay_out(self, width: int) -> None:
        """Cut every row's cells to the column widths for ``width`` (once per fill and width)."""
        sizes = self.column_sizes(width)

        def line(cells: Sequence[object]) -> str:
            pairs = zip(cells, sizes, strict=True)
            parts = [fit(" ".join(str(cell).split()), size) for cell, size in pairs if size]
            return set_cell_size(self.PAD + self.SEPARATOR.join(parts) + self.PAD, width)

        self._header = line(self.labels)
        self._lines = [line(cells) for cells in self._cells]
        self._laid_for = width

    def render_lines(self, crop: Region) -> list[Strip]:
        # The styles once for all the lines drawn now: each costs a walk up the widgets
        # (a third of the time a list spent drawing a page).
        self._styles = self._line_styles()
        return super().render_lines(crop)

    def _line_styles(self) -> dict[str, Style]:
        plain = self.rich_style
        header, striped, cursor = self.PARTS
        return {
            "header": plain + self.get_component_rich_style(header, partial=True),
            "cursor": plain + self.get_component_rich_style(cursor, partial=True),
            "striped": plain + self.get_component_rich_style(striped, partial=True),
            "plain": plain,
        }

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
        elif row % 2 == self.STRIPED:
            style = styles["striped"]
        else:
            style = styles["plain"]
        return Strip([Segment(self._lines[row], style)], width)


class RowTable(LineTable):
    """One page of rows with a cursor; moving past either end asks for the next or
    previous page. Its columns have a narrowest width and a share of the spare
    (``Column``); on a narrow line the last ones are left out."""

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
    PARTS = ("rowtable--header", "rowtable--even", "rowtable--cursor")
    COMPONENT_CLASSES = set(PARTS)
    BINDINGS = [
        *cursor_keys("rows"),
        Binding("enter", "select", "Open", id="rows.open", tooltip="Open the row under the cursor"),
    ]

    class Selected(LineTable.Selected):
        """The user opened a row (Enter, or a click on the cursor's row)."""

    class PageWanted(Message):
        """The user moved past the last row (forward) or the first (back)."""

        def __init__(self, table: RowTable, forward: bool) -> None:
            super().__init__()
            self.table, self.forward = table, forward

        @property
        def control(self) -> RowTable:
            return self.table

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__([column.label for column in columns], id=id)
        self.columns = list(columns)

    def column_sizes(self, width: int) -> list[int]:
        return widths(self.columns, width)

    def set_rows(self, rows: Sequence[tuple[str, Sequence[str]]], *, cursor_last: bool = False) -> None:
        """Show ``rows`` (each a key and its cells), the cursor on the first or last."""
        self._fill(rows)
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

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.move_cursor(row=self.cursor_row + 3)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.move_cursor(row=self.cursor_row - 3)
