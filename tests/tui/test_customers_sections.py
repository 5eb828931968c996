"""The customer's sections: tables drawn line by line that look and move like the
DataTables they replace, and a customer screen that appears with its data."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from crm_tui.app import make_app
from crm_tui.logic.customers import customers, timeline
from crm_tui.logic.customers.schemas import ActivityCreate
from crm_tui.screens.customers import CustomerDetailScreen
from crm_tui.screens.record_table import SectionTable, column_widths
from crm_tui.screens.widgets.row_table import RowTable
from tests.tui.customer_steps import settle

LABELS = ("Ref", "Name", "City")
ROWS = [(f"P-{n}", (f"P-{n}", f"Person {n}", "Bern")) for n in range(1, 13)]


def test_columns_are_as_wide_as_their_widest_cell_or_heading():
    rows = [("P-1", "Anna Schmidt", ""), ("P-22", "Tom", "Kiel")]
    assert column_widths(LABELS, rows, 80) == [4, 12, 4]


def test_on_a_narrow_line_the_widest_column_gives_up_cells_first():
    rows = [("P-1", "Anna Schmidt-Lindqvist", "Berlin-Charlottenburg")]
    # 3 + 22 + 21, a space each side: 52; at 40 the widest give up 12 cells in turns,
    # the later of two equal ones first.
    assert column_widths(LABELS, rows, 40) == [3, 16, 15]
    assert column_widths(LABELS, rows, 10) == [3, 4, 4]  # no column below its heading


class Section(App):
    CSS = "SectionTable { max-height: 6; }"

    def __init__(self, rows) -> None:
        super().__init__()
        self.rows = rows
        self.opened: list[str] = []

    def compose(self) -> ComposeResult:
        yield SectionTable(*LABELS, id="people")
        yield Static("below")

    def on_mount(self) -> None:
        table = self.query_one(SectionTable)
        table.show(self.rows)
        table.focus()

    def on_section_table_selected(self, event: SectionTable.Selected) -> None:
        self.opened.append(event.key)


def lines(table: SectionTable) -> list[str]:
    return [table.render_line(y).text.rstrip() for y in range(table.size.height)]


@pytest.mark.asyncio
async def test_lines_show_the_heading_and_rows_with_a_space_each_side_of_each_cell():
    rows = [("P-1", ("P-1", "Anna   Schmidt", "")), ("P-2", ("P-2", "Tom\nBecker", "Kiel"))]
    app = Section(rows)
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        table = app.query_one(SectionTable)
        assert table.size.height == 3  # as high as its rows
        assert lines(table) == [" Ref  Name          City", " P-1  Anna Schmidt", " P-2  Tom Becker    Kiel"]
        assert table.get_row("P-2") == ["P-2", "Tom\nBecker", "Kiel"]  # the cells as given


@pytest.mark.asyncio
async def test_a_cut_cell_ends_in_an_ellipsis():
    rows = [("P-1", ("P-1", "Anna Schmidt-Lindqvist", "Berlin-Charlottenburg"))]
    app = Section(rows)
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        assert lines(app.query_one(SectionTable))[1] == " P-1  Anna Schmidt-Li…  Berlin-Charlot…"


@pytest.mark.asyncio
async def test_keys_move_the_cursor_and_the_rows_scroll_to_keep_it_in_view():
    app = Section(ROWS)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(SectionTable)
        assert table.size.height == 6  # a heading and 5 of the 12 rows
        await pilot.press("up")  # at the first row: it stays
        assert table.current == "P-1"
        await pilot.press("end")
        assert table.current == "P-12" and lines(table)[1].startswith(" P-8 ")
        await pilot.press("pageup")
        assert table.current == "P-7" and lines(table)[1].startswith(" P-7 ")
        await pilot.press("down", "home")
        assert table.current == "P-1" and lines(table)[1].startswith(" P-1 ")
        await pilot.press("pagedown", "enter")
        assert table.current == "P-6" and app.opened == ["P-6"]


@pytest.mark.asyncio
async def test_a_click_moves_the_cursor_and_a_click_on_it_opens_the_row():
    app = Section(ROWS)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(SectionTable)
        await pilot.click(SectionTable, offset=(2, 3))
        assert table.current == "P-3" and app.opened == []
        await pilot.click(SectionTable, offset=(2, 3))
        assert app.opened == ["P-3"]
        await pilot.click(SectionTable, offset=(2, 0))  # the heading opens nothing
        assert app.opened == ["P-3"]


@pytest.mark.asyncio
async def test_a_refill_keeps_the_cursor_on_its_record_or_where_it_was():
    app = Section(ROWS)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(SectionTable)
        table.go_to("P-4")
        table.show([ROWS[-1], *ROWS[:-1]])  # a new first row: the cursor follows P-4
        assert table.current == "P-4" and table.cursor_row == 4
        table.show([row for row in ROWS if row[0] != "P-4"])  # P-4 left: the row now in its place
        assert table.current == "P-6" and table.cursor_row == 4
        table.show(ROWS[:2])
        assert table.current == "P-2"  # past the end: the last row
        table.show([])
        assert table.current is None and lines(table)[0].startswith(" Ref ")


@pytest.mark.asyncio
async def test_the_customer_screen_appears_with_its_data(team):
    """Opened from the list, the screen is drawn once, whole: never empty first."""
    crm = team
    acme = customers.list_customers(crm, text="acme").customers[0]
    app = make_app(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        table = app.screen.query_one(RowTable)
        table.move_cursor(row=table.keys.index(acme.ref))
        await pilot.press("enter")
        while not isinstance(app.screen, CustomerDetailScreen):
            await pilot.pause(0.001)
        screen = app.screen
        assert acme.name in str(screen.query_one("#record", Static).render())
        assert screen.query_one("#contacts", SectionTable).keys
        await settle(pilot)
        assert screen.focused is screen.query_one("#contacts", SectionTable)


@pytest.mark.asyncio
async def test_rows_of_another_record_start_at_the_first_row():
    app = Section(ROWS)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(SectionTable)
        await pilot.press("end")
        table.show(ROWS, keep=False)
        assert table.current == "P-1" and lines(table)[1].startswith(" P-1 ")


async def open_from_the_list(app, pilot, reference: str) -> CustomerDetailScreen:
    table = app.screen.query_one(RowTable)
    table.move_cursor(row=table.keys.index(reference))
    await pilot.press("enter")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, CustomerDetailScreen) and screen.reference == reference
    return screen


@pytest.mark.asyncio
async def test_each_customer_opened_from_the_list_shows_as_on_a_new_screen(team):
    crm = team
    first, second = customers.list_customers(crm, limit=2).customers
    for number in range(25):
        timeline.add_activity(crm, ActivityCreate(customer=first.ref, body=f"Entry {number}"))
    app = make_app(crm)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        screen = await open_from_the_list(app, pilot, first.ref)
        entries = screen.query_one("#timeline", SectionTable)
        entries.focus()
        await pilot.press("plus")
        await settle(pilot)
        await pilot.press("end")
        assert entries.row_count > 20 and entries.cursor_row > 0
        await pilot.press("escape")
        await settle(pilot)
        again = await open_from_the_list(app, pilot, second.ref)
        assert again is screen  # the list's screen, filled anew
        assert second.name in str(screen.query_one("#record", Static).render())
        assert screen.focused is screen.query_one("#contacts", SectionTable)
        assert all(table.cursor_row == 0 and table.top == 0 for table in screen.query(SectionTable))
        assert screen.query_one("#centre").scroll_y == 0
        await pilot.press("escape")
        await settle(pilot)
        await open_from_the_list(app, pilot, first.ref)
        shown = screen.query_one("#timeline", SectionTable).keys
        assert shown == [a.ref for a in timeline.timeline(crm, first.ref, limit=20)]
