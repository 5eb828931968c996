"""The row table: column widths, what each line shows, keys and the mouse."""

from __future__ import annotations

import pytest
from textual import events
from textual.app import App, ComposeResult

from crm_tui.screens.widgets.row_table import Column, RowTable, widths

COLUMNS = [Column("Ref", 5), Column("Name", 6, grow=2), Column("City", 4, grow=1)]


def test_growing_columns_share_the_spare_width_by_their_shares():
    assert widths(COLUMNS, 5 + 6 + 4 + 2) == [5, 6, 4]
    assert widths(COLUMNS, 5 + 6 + 4 + 2 + 7) == [5, 6 + 5, 4 + 2]  # 7 spare: 4 and 2, one left over
    assert sum(widths(COLUMNS, 80)) + len(COLUMNS) - 1 == 80


def test_a_narrow_line_leaves_out_the_last_columns_whole():
    assert widths(COLUMNS, 16) == [5, 10, 0]  # City does not fit: Name takes the spare
    assert widths(COLUMNS, 12) == [5, 6, 0]
    assert widths(COLUMNS, 8) == [8, 0, 0]
    assert widths(COLUMNS, 3) == [3, 0, 0]


class Rows(App):
    def __init__(self, rows) -> None:
        super().__init__()
        self.rows = rows
        self.opened: list[str] = []
        self.wanted: list[bool] = []

    def compose(self) -> ComposeResult:
        yield RowTable(COLUMNS)

    def on_mount(self) -> None:
        table = self.query_one(RowTable)
        table.set_rows(self.rows)
        table.focus()

    def on_row_table_selected(self, event: RowTable.Selected) -> None:
        self.opened.append(event.key)

    def on_row_table_page_wanted(self, event: RowTable.PageWanted) -> None:
        self.wanted.append(event.forward)


def lines(table: RowTable) -> list[str]:
    return [table.render_line(y).text.rstrip() for y in range(table.size.height)]


ROWS = [(f"C-{n}", (f"C-{n}", f"Firm {n}", "Bern")) for n in range(1, 31)]


@pytest.mark.asyncio
async def test_lines_show_the_header_and_rows_and_cut_long_cells_with_an_ellipsis():
    rows = [("C-1", ("C-1", "Café Zürich Gastronomie AG", "Zürich")), ("C-2", ("C-2", "Beta\nnewline", ""))]
    app = Rows(rows)
    async with app.run_test(size=(30, 6)) as pilot:
        await pilot.pause()
        shown = lines(app.query_one(RowTable))
    # 30 cells: Ref 5, Name 6 + 9, City 4 + 4 (13 to spare: 8 and 4 by shares, 1 left to Name)
    assert shown[0] == "Ref   Name            City"
    assert shown[1] == "C-1   Café Zürich Ga… Zürich"
    assert shown[2] == "C-2   Beta newline"
    assert shown[3:] == ["", "", ""]


@pytest.mark.asyncio
async def test_keys_move_the_cursor_and_scroll_and_ask_for_pages_at_the_ends():
    app = Rows(ROWS)
    async with app.run_test(size=(40, 11)) as pilot:  # a header and 10 rows
        table = app.query_one(RowTable)
        await pilot.press("up")
        assert app.wanted == [False]
        await pilot.press("pagedown")
        assert table.cursor_row == 10 and table.top == 1
        assert lines(table)[1].startswith("C-2 ")
        await pilot.press("end")
        assert table.cursor_row == 29 and lines(table)[-1].startswith("C-30")
        await pilot.press("down")
        await pilot.press("pagedown")
        assert app.wanted == [False, True, True]
        await pilot.press("home", "down", "enter")
        assert app.opened == ["C-2"]


@pytest.mark.asyncio
async def test_a_click_moves_the_cursor_and_a_second_click_opens():
    app = Rows(ROWS)
    async with app.run_test(size=(40, 11)) as pilot:
        table = app.query_one(RowTable)
        await pilot.click(RowTable, offset=(2, 3))  # the third row
        assert table.cursor_row == 2 and app.opened == []
        await pilot.click(RowTable, offset=(2, 3))
        assert app.opened == ["C-3"]
        await pilot.click(RowTable, offset=(2, 0))  # the header opens nothing
        assert app.opened == ["C-3"] and table.cursor_row == 2


@pytest.mark.asyncio
async def test_the_wheel_moves_the_cursor_and_new_rows_start_at_the_top():
    app = Rows(ROWS)
    async with app.run_test(size=(40, 11)) as pilot:
        table = app.query_one(RowTable)
        table.post_message(events.MouseScrollDown(table, 2, 3, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert table.cursor_row == 3
        table.set_rows(ROWS[:4], cursor_last=True)
        await pilot.pause()
        assert table.cursor_row == 3 and table.top == 0
        table.set_rows([])
        await pilot.press("enter", "down")
        assert app.opened == [] and table.cursor_row == 0


@pytest.mark.parametrize("total", range(1, 30))
def test_the_shown_columns_and_their_separators_fill_the_line_exactly(total):
    shown = [width for width in widths(COLUMNS, total) if width]
    assert sum(shown) + len(shown) - 1 == total
