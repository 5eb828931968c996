"""The pipeline board: a column per stage, deal cards moved with keys or the mouse.

← → walk the stages, ↑ ↓ the cards of one; ↓ past a stage's last loaded card loads its
next cards. Win, lose, reopen and archive act at once and can be undone with ctrl+z; after
any action the cursor stays on the deal, or on its neighbour if the deal left the board.

The columns are built once; a reload gives each its stage's new figures and cards, and a
move reads again only the two stages it touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalScroll, VerticalScroll
from textual.geometry import Region
from textual.markup import escape
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Header, Static

from crm_tui.display import shown
from crm_tui.logic.customers import contacts
from crm_tui.logic.sales import board, deals, orders, schemas
from crm_tui.logic.sales.schemas import Board, BoardColumn, DealPage, DealRead, OrderCreate, StageTotal
from crm_tui.logic.values import money
from crm_tui.logic.values.custom_fields import shown_custom
from crm_tui.screens.base import Calls, CrmModal, CrmScreen
from crm_tui.screens.deal_forms import deal_form, edit_deal_form
from crm_tui.screens.widgets.dialogs import TextPrompt
from crm_tui.screens.widgets.keys_footer import KeysFooter
from crm_tui.screens.widgets.row_table import fit

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm

COLUMN_WIDTH = 20  # as in app.tcss: a card's title, customer and amount stay readable
SELECTED = "▶ "  # the selected card is marked in text too, for terminals without colour
UNDO = "ctrl+z undo"
CARD_HEIGHT = 3  # a card's lines: title, customer, amount
HEAD_LINES = 2  # a stage's name and probability; its count and money


class StageStrip(HorizontalScroll, can_focus=False, inherit_bindings=False):
    """The stages side by side. Its arrow keys are the screen's (between stages), not
    sideways scrolling: focusing a stage scrolls it into view instead. It takes no focus
    itself, so a click on a stage's head leaves the selected card selected."""


class StageColumn(Widget, can_focus=True):
    """One stage, drawn whole by one widget: its head (name and probability; the count and
    sum of all its deals), its cards loaded so far (the newest first, three lines each)
    with a cursor, and how many more there are above and below those in view. The card under the
    cursor is marked "▶ " while the stage has the focus (the one card the keys act on).

    Drawn line by line, as RowTable draws rows: with a widget per card, the board's 240
    cards (532 widgets) took half a second to build and as long again to draw; with a
    box of three widgets per stage, drawing the board after a change still took 50 ms,
    most of it spent joining the widgets' pieces of each line. The cards are data here,
    so a reload or a move only hands over new cards. It scrolls by whole cards to keep
    the cursor in view; ↓ on the last card loaded says so (``PastLast``), for the
    stage's next cards.
    """

    DEFAULT_CSS = """
    StageColumn {
        width: 1fr;
        min-width: 20;
        height: 1fr;
        border: round $primary;
        background: $surface;
        color: $foreground;
    }
    StageColumn:focus {
        background-tint: $foreground 5%;
    }
    StageColumn > .stagecolumn--head {
        text-style: bold;
    }
    StageColumn > .stagecolumn--more {
        color: $text-muted;
    }
    StageColumn > .stagecolumn--title {
        text-style: bold;
    }
    StageColumn > .stagecolumn--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    StageColumn:focus > .stagecolumn--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """
    COMPONENT_CLASSES = {
        *("stagecolumn--head", "stagecolumn--more", "stagecolumn--title", "stagecolumn--cursor")
    }
    BINDINGS = [
        Binding("down", "cursor_down", "Next card", show=False, id="board.down", tooltip="The card below"),
        Binding("up", "cursor_up", "Card above", show=False, id="board.up", tooltip="The card above"),
        Binding(
            "enter", "open", "Open", show=False, id="board.open", tooltip="Open the deal with its history"
        ),
    ]

    class Said(Message):
        """Something a stage tells the board; ``control`` is the stage."""

        def __init__(self, column: StageColumn) -> None:
            super().__init__()
            self.column = column

        @property
        def control(self) -> StageColumn:
            return self.column

    class Opened(Said):
        """Enter, or a click on the card under the cursor: open ``deal``."""

        def __init__(self, column: StageColumn, deal: DealRead) -> None:
            super().__init__(column)
            self.deal = deal

    class PastLast(Said):
        """↓ on the last card loaded: the stage's next cards are wanted, if it has more."""

    class HeadClicked(Said):
        """A click on the stage's head: the selected deal is to move here."""

    def __init__(self, column: BoardColumn) -> None:
        super().__init__()
        self.cards: list[DealRead] = []
        self.cursor = 0  # the card under the cursor
        self.top = 0  # the card on the first line of the cards
        self.fetching = False  # the stage's next cards are being loaded
        self._styles = (Style(),) * 5  # plain, head, more, cursor and title, as drawn last
        self.fill(column)

    def fill(self, column: BoardColumn) -> None:
        """Show the stage as now read: its head, and its cards with the cursor kept on
        its deal (or at its place, the neighbour of a deal that left)."""
        stage = column.stage
        self.stage, self.kind, self.count = stage.name, stage.kind, column.count
        totals = ", ".join(_whole(total) for total in column.totals)
        self.head = (f"{stage.name} {stage.probability}%", f"{column.count} · {totals or '-'}")
        was = self.deal.ref if self.deal else None
        self.cards = list(column.cards)
        refs = self.refs
        self.move_to(refs.index(was) if was in refs else self.cursor)

    # What the screen reads

    @property
    def deal(self) -> DealRead | None:
        """The deal under the cursor."""
        return self.cards[self.cursor] if self.cards else None

    @property
    def refs(self) -> list[str]:
        return [deal.ref for deal in self.cards]

    @property
    def unloaded(self) -> int:
        """How many of the stage's deals are not loaded yet."""
        return max(self.count - len(self.cards), 0)

    @property
    def in_view(self) -> int:
        """How many whole cards the column has room for."""
        return max(1, (self.size.height - HEAD_LINES - 1) // CARD_HEIGHT)

    @property
    def below(self) -> int:
        """How many of the loaded cards are below the last one in view."""
        if not self.size.height:
            return 0  # not laid out yet: said once it is
        return max(len(self.cards) - self.top - self.in_view, 0)

    @property
    def head_text(self) -> str:
        """The head's two lines, as drawn."""
        return "\n".join(self.head)

    @property
    def more_text(self) -> str:
        """How many deals are above and below those in view (the last line: "↑4 · +12
        more", short enough for the narrowest column), or that there are none (the line
        under the head)."""
        if not self.cards:
            return "No deals"
        below = self.below + self.unloaded
        above = f"↑{self.top}" if self.top and self.size.height else ""
        more = f"+{below} more" if below else ""
        if above and not more:
            return f"{above} above"
        return " · ".join(part for part in (above, more) if part)

    # Filling and moving

    def add_cards(self, page: DealPage) -> None:
        """Put the next cards loaded under the ones shown (a card shown already is skipped)."""
        known = set(self.refs)
        if page.next_after is None:
            # The stage holds no more than were loaded now.
            self.count = len(self.cards) + sum(deal.ref not in known for deal in page.deals)
        self.cards += [deal for deal in page.deals if deal.ref not in known]
        self.move_to(self.cursor)

    def select(self, index: int) -> None:
        """Focus this stage with its card at ``index`` (the nearest one if out of range).
        The board brings it into view itself (``_bring_into_view``), at once: Textual's
        own scrolling to a focused widget is animated, and two scrolls raced."""
        self.move_to(index)
        self.focus(scroll_visible=False)

    def move_to(self, index: int) -> None:
        self.cursor = min(max(index, 0), max(len(self.cards) - 1, 0))
        self._follow_cursor()
        self.refresh()

    def _follow_cursor(self) -> None:
        self.top = min(self.top, max(len(self.cards) - self.in_view, 0))  # no empty room below
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + self.in_view:
            self.top = self.cursor - self.in_view + 1

    def action_cursor_down(self) -> None:
        if self.cursor >= len(self.cards) - 1:
            self.post_message(self.PastLast(self))
        else:
            self.move_to(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor - 1)

    def action_open(self) -> None:
        if self.deal is not None:
            self.post_message(self.Opened(self, self.deal))

    # The focus and the mouse

    def on_focus(self) -> None:
        self.refresh()  # the mark appears

    def on_blur(self) -> None:
        self.refresh()  # the mark goes

    def on_resize(self) -> None:
        self._follow_cursor()

    def focus_on_click(self) -> bool:
        # A click on the head moves the deal selected elsewhere to this stage: the focus,
        # which says which deal is selected, moves only for a click on a card.
        return False

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y < HEAD_LINES:
            self.post_message(self.HeadClicked(self))
            return
        index = self.top + (offset.y - HEAD_LINES) // CARD_HEIGHT
        if offset.y >= HEAD_LINES + self.in_view * CARD_HEIGHT or index >= len(self.cards):
            self.focus()
            return
        if (index == self.cursor and self.has_focus) or event.chain > 1:
            self.move_to(index)
            self.action_open()
        else:
            self.select(index)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.action_cursor_down()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.action_cursor_up()

    # Drawing

    def render_lines(self, crop: Region) -> list[Strip]:
        # The styles once for all the lines drawn now: each costs a walk up the widgets.
        plain = self.rich_style
        self._styles = (
            plain,
            plain + self.get_component_rich_style("stagecolumn--head", partial=True),
            plain + self.get_component_rich_style("stagecolumn--more", partial=True),
            self._cursor_style(),
            self.get_component_rich_style("stagecolumn--title", partial=True),
        )
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        plain, head, more, cursor, title = self._styles
        if y < HEAD_LINES:
            return self._line(self.head[y], width, head)
        if not self.cards and y == HEAD_LINES:
            # Under the head, where a card would be; marked too when the stage is selected.
            return self._line((SELECTED if self.has_focus else "") + self.more_text, width, more)
        if y == self.size.height - 1:
            return self._line(self.more_text if self.cards else "", width, more)
        card, line = divmod(y - HEAD_LINES, CARD_HEIGHT)
        index = self.top + card
        if card >= self.in_view or index >= len(self.cards):
            return Strip.blank(width, plain)
        deal = self.cards[index]
        chosen = index == self.cursor
        style = cursor if chosen else plain
        if line == 0:
            text = (SELECTED if chosen and self.has_focus else "") + deal.title
            style += title
        elif line == 1:
            text = deal.customer_name
        else:
            text = money.format_amount(deal.amount_minor, deal.currency)
        return self._line(text, width, style)

    @staticmethod
    def _line(text: str, width: int, style: Style) -> Strip:
        padded = " " + fit(" ".join(text.split()), width - 2) + " " if width > 2 else fit(text, width)
        return Strip([Segment(padded, style)], width)

    def _cursor_style(self) -> Style:
        """The cursor's colours laid over the column's: the theme gives an unfocused
        cursor a see-through background, which a rich style cannot hold."""
        cursor = self.get_component_styles("stagecolumn--cursor")
        background = self.background_colors[1] + cursor.background
        foreground = background + cursor.color
        colours = Style(color=foreground.rich_color, bgcolor=background.rich_color)
        return self.rich_style + colours + cursor.text_style


def _whole(total: StageTotal) -> str:
    """A stage total in whole units (``255,000 EUR``): a narrow column's head has room for it."""
    return f"{round(money.as_decimal(total.amount_minor, total.currency)):,} {total.currency}"


@dataclass(frozen=True)
class Place:
    """Where the cursor was: a stage, the deal on it and its row, and how many of the
    stage's cards were loaded (a reload loads as many again to find the deal)."""

    stage: str
    deal: str | None
    row: int
    loaded: int


@dataclass(frozen=True)
class Moved:
    """A deal moved on the board, and the two stages it left and entered, read anew."""

    deal: DealRead
    columns: list[BoardColumn]


def _move(crm: Crm, deal: DealRead, stage: str, *, owner: str | None) -> Moved:
    """Move ``deal`` to ``stage`` of its pipeline and read the two stages again."""
    moved = deals.move_deal(crm, deal.ref, stage, expected_version=deal.version)
    read = board.stage_columns(crm, [deal.stage, moved.stage], pipeline=moved.pipeline, owner=owner)
    return Moved(moved, read)


def _make_order(crm: Crm, deal: DealRead):
    """A draft order from a won deal, for its customer."""
    return orders.add_order(crm, OrderCreate(customer=deal.customer, deal=deal.ref))


class DealActions(Calls):
    """What the board and a deal's view both do to a deal. Win, lose, reopen and archive
    act at once and say how to undo; each screen shows the result in ``deal_changed``."""

    # The deal's steps that depend on its status (deals.open_steps names those open).
    STEPS = frozenset({"move", "win", "lose", "reopen", "order"})

    def selected_deal(self) -> DealRead | None:
        raise NotImplementedError

    def deal_changed(self, reference: str) -> None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only the steps the selected deal's status allows are offered (footer, F1,
        # palette): on the board, cards of one stage share a status, so a change of
        # stage (of focus) is when they change.
        if action not in self.STEPS:
            return True
        deal = self.selected_deal()
        return deal is not None and action in deals.open_steps(deal.status)

    def saved(self, deal: DealRead | None) -> None:
        """A form's result: the deal as saved, or None if the form was cancelled."""
        if deal is not None:
            self.deal_changed(deal.ref)

    def _done(self, verb: str, deal: DealRead) -> None:
        self.notify(f"{verb} {deal.ref} · {UNDO}")
        self.deal_changed(deal.ref)

    def action_edit(self) -> None:
        deal = self.selected_deal()
        if deal is not None:
            self.app.push_screen(edit_deal_form(deal), self.saved)

    def action_win(self) -> None:
        deal = self.selected_deal()
        if deal is not None:
            self.call(
                deals.win_deal,
                deal.ref,
                expected_version=deal.version,
                then=lambda result: self._done("Won", result[0]),
            )

    def action_lose(self) -> None:
        deal = self.selected_deal()
        if deal is None:
            return

        def lose(reason: str | None) -> None:
            if reason:
                self.call(
                    deals.lose_deal,
                    deal.ref,
                    reason,
                    expected_version=deal.version,
                    then=lambda lost: self._done("Lost", lost),
                )

        self.app.push_screen(TextPrompt(f"Lose {deal.ref} {deal.title}", "Why was it lost? (required)"), lose)

    def action_reopen(self) -> None:
        deal = self.selected_deal()
        if deal is not None:
            self.call(
                deals.reopen_deal,
                deal.ref,
                expected_version=deal.version,
                then=lambda opened: self._done("Reopened", opened),
            )

    def action_archive(self) -> None:
        """Archive the deal, or restore it if it is archived."""
        deal = self.selected_deal()
        if deal is None:
            return
        if deal.archived_at is None:
            self.call(deals.archive_deal, deal.ref, then=lambda done: self._done("Archived", done))
        else:
            self.call(deals.restore_deal, deal.ref, then=lambda done: self._done("Restored", done))

    def action_order(self) -> None:
        deal = self.selected_deal()
        if deal is None:
            return
        if deal.status != "won":
            self.notify(f"{deal.ref} is {deal.status}; only a won deal becomes an order.", severity="warning")
            return
        self.call(_make_order, deal, then=self._order_made)

    def _order_made(self, order) -> None:
        self.notify(f"Draft order {order.ref} from its deal {order.deal}")
        self.deal_changed(order.deal)
        self.app.open_record(order.ref)


def _deal_bindings(area: str) -> list[Binding]:
    """The keys of a deal's actions, the same on the board and in the deal's view."""
    return [
        Binding(
            "e", "edit", "Edit", id=f"{area}.edit", tooltip="Edit title, amount, close date, owner, contact"
        ),
        Binding("w", "win", "Win", id=f"{area}.win", tooltip=f"Mark the deal won ({UNDO})"),
        Binding(
            "l", "lose", "Lose", id=f"{area}.lose", tooltip=f"Mark the deal lost, with a reason ({UNDO})"
        ),
        Binding(
            "o",
            "order",
            "Order",
            id=f"{area}.order",
            tooltip="Make a draft order from a won deal and open it",
        ),
        Binding("r", "reopen", "Reopen", id=f"{area}.reopen", tooltip=f"Reopen a won or lost deal ({UNDO})"),
        Binding(
            "a",
            "archive",
            "Archive",
            id=f"{area}.archive",
            tooltip=f"Archive the deal, or restore it ({UNDO})",
        ),
    ]


class PipelineScreen(DealActions, CrmScreen):
    """Deals by stage; add, edit, move, win and lose them without leaving the keyboard."""

    BINDINGS = [
        Binding("n", "new", "New", id="pipeline.new", tooltip="A new deal in the stage selected"),
        *_deal_bindings("pipeline"),
        Binding(
            "shift+right,greater_than_sign",
            "move(1)",
            "Move right",
            id="pipeline.move_right",
            tooltip="Move the deal to the next stage",
        ),
        Binding(
            "shift+left,less_than_sign",
            "move(-1)",
            "Move left",
            id="pipeline.move_left",
            tooltip="Move the deal to the stage before",
        ),
        Binding("m", "mine", "Mine/all", id="pipeline.mine", tooltip="Only my deals, or everyone's"),
        Binding("p", "next_pipeline", "Pipeline", id="pipeline.next", tooltip="Show the next pipeline"),
        Binding(
            "left", "column(-1)", "Prev stage", id="pipeline.left", show=False, tooltip="The stage before"
        ),
        Binding(
            "right", "column(1)", "Next stage", id="pipeline.right", show=False, tooltip="The next stage"
        ),
    ]

    def __init__(self, first: Board | None = None) -> None:
        """``first``: the board as read just now, shown at once instead of read on mount."""
        super().__init__()
        self.first = first
        self.pipeline: str | None = None
        self.owner: str | None = None
        self.pipeline_names: list[str] = []
        self.stages: list[tuple[str, str]] = []
        self.heading = ""  # the status line's start: the pipeline and whose deals
        self.awaited: Place | None = None  # where a load on its way puts the cursor
        self.reading = False  # a load of the board is on its way
        self.away = False  # another screen was shown over this one since the last load began

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="board-status", classes="hint")
        # A narrow terminal scrolls the stages sideways.
        with StageStrip(id="board"):
            for column in self.first.columns if self.first else []:
                yield StageColumn(column)
        yield KeysFooter()

    async def on_mount(self) -> None:
        # Scrolled sideways (by the keys, the mouse or a resize): say what is out of view.
        self.watch(self.query_one(StageStrip), "scroll_x", self._say_where, init=False)
        if self.first is not None:
            found, self.first = self.first, None
            await self.show(found)  # the stages are there already: this fills in the rest
        else:
            self.reload()  # at once: the screen is laid out and drawn while the board is read

    def on_screen_suspend(self) -> None:
        self.away = True

    def on_screen_resume(self) -> None:
        # Back from a dialog or another screen: show what changed meanwhile, with the
        # cursor where it was. Not on the first showing, which the load begun on mount
        # brings (Textual says "resumed" twice then, on a mode's first showing).
        if self.away:
            self.reload()

    def records_changed(self) -> None:
        self.reload()

    def deal_changed(self, reference: str) -> None:
        self.reload(reference)

    def on_resize(self) -> None:
        self._fit()
        column, _ = self._current()
        if column is not None:
            self.call_after_refresh(self._bring_into_view, column)

    def _fit(self) -> None:
        """Stages share the width when they fit; otherwise they keep a readable width and scroll."""
        room = self.size.width // max(len(self.stages), 1)
        self.query_one(StageStrip).set_class(room < COLUMN_WIDTH, "-narrow")

    def _columns(self) -> list[StageColumn]:
        return list(self.query_one(StageStrip).query_children(StageColumn))

    def _column(self, stage: str) -> StageColumn | None:
        return next((column for column in self._columns() if column.stage == stage), None)

    # Loading, keeping the place

    def _place(self) -> Place | None:
        column, deal = self._current()
        if column is None:
            return None
        return Place(column.stage, deal.ref if deal else None, column.cursor, len(column.cards))

    def reload(self, focus_deal: str | None = None) -> None:
        """Load the board anew; the cursor goes to ``focus_deal`` if given, else stays
        on the deal it is on (or its neighbour if that deal left the stage)."""
        place = self._place()
        if focus_deal is not None:
            place = self.awaited = Place(
                place.stage if place else "", focus_deal, place.row if place else 0, 0
            )
        elif self.awaited is not None:
            place = self.awaited  # a newer load must not lose the deal an earlier one went to
        self.reading, self.away = True, False
        self.call(
            board.board,
            self.pipeline,
            owner=self.owner,
            then=lambda result: self.show(result, place),
            failed=self._not_loaded,
            key="board",
        )

    def _not_loaded(self, error) -> None:
        self.reading = False
        self.notify(str(error), title="Not done", severity="error", timeout=8)

    async def show(self, found: Board, place: Place | None = None) -> None:
        self.awaited = None
        self.reading = False
        self.pipeline, self.pipeline_names = found.pipeline, found.pipelines
        self.stages = [(c.stage.name, c.stage.kind) for c in found.columns]
        self._fit()
        columns = self._columns()
        if len(columns) == len(found.columns):
            # The columns stay; each shows its stage as now read.
            for shown_now, column in zip(columns, found.columns, strict=True):
                shown_now.fill(column)
        else:  # the first load, or a pipeline with other stages
            area = self.query_one(StageStrip)
            columns = [StageColumn(column) for column in found.columns]
            with self.app.batch_update():  # the old board stays on screen until the new one is ready
                await area.remove_children()
                await area.mount_all(columns)
        who = "my deals" if self.owner else "everyone's deals"
        self.heading = f"{found.pipeline} pipeline · {who}"
        self._say_where()
        if place is None:
            if columns:
                self._focus(columns[0], 0)
            return
        target = next((c for c in columns if place.deal in c.refs), None)
        if target is not None and place.deal is not None:
            self._focus(target, target.refs.index(place.deal))
            return
        stage = next((c for c in columns if c.stage == place.stage), columns[0] if columns else None)
        if stage is None:
            return
        if place.loaded > len(stage.cards) and stage.unloaded:
            # The deal was further down than the first cards: load as many as were loaded.
            self.call(
                board.stage_cards,
                stage.stage,
                pipeline=self.pipeline,
                owner=self.owner,
                after=stage.cards[-1] if stage.cards else None,
                cards=place.loaded - len(stage.cards),
                then=lambda page: self._found_further(stage, page, place),
            )
        self._focus(stage, place.row)

    def _found_further(self, column: StageColumn, page: DealPage, place: Place) -> None:
        column.add_cards(page)
        row = column.refs.index(place.deal) if place.deal in column.refs else place.row
        self._focus(column, row)

    def _focus(self, column: StageColumn, row: int) -> None:
        column.select(row)
        # After the next refresh: a column mounted just now has no place to scroll to yet.
        self.call_after_refresh(self._bring_into_view, column)

    def _bring_into_view(self, column: StageColumn) -> None:
        self.query_one(StageStrip).scroll_to_widget(column, animate=False)
        self._say_where()

    def _say_where(self, *_scrolled: float) -> None:
        """The status line: the pipeline and whose deals, then the stages out of view on
        either side when the terminal is too narrow for all (else the keys to use)."""
        strip = self.query_one(StageStrip)
        seen_from, seen_to = strip.scroll_x, strip.scroll_x + strip.size.width
        left = [c.stage for c in self._columns() if c.virtual_region.x < seen_from]
        right = [c.stage for c in self._columns() if c.virtual_region.right > seen_to]
        where = [f"◀ {', '.join(left)}"] if left else []
        where += [f"{', '.join(right)} ▶"] if right else []
        hint = " · ".join(where) if where else "←→ ↑↓ choose · Enter open · shift+←→ move"
        self.query_one("#board-status", Static).update(f"{self.heading} · {hint}")

    @on(StageColumn.PastLast)
    def load_more(self, event: StageColumn.PastLast) -> None:
        """Load the stage's next cards under the last one; the cursor goes on to the
        first of them."""
        column = event.column
        if column.fetching or not column.cards or not column.unloaded:
            return
        column.fetching = True
        row = len(column.cards)

        def loaded(page: DealPage) -> None:
            column.fetching = False
            column.add_cards(page)
            if column.has_focus:
                column.select(row)

        def failed(error) -> None:
            column.fetching = False
            self.notify(str(error), title="Not done", severity="error")

        self.call(
            board.stage_cards,
            column.stage,
            pipeline=self.pipeline,
            owner=self.owner,
            after=column.cards[-1],
            then=loaded,
            failed=failed,
        )

    # The selection

    def _current(self) -> tuple[StageColumn | None, DealRead | None]:
        focused = self.focused
        if isinstance(focused, StageColumn):
            return focused, focused.deal
        return None, None

    def selected_deal(self) -> DealRead | None:
        return self._current()[1]

    # Actions

    def action_column(self, step: int) -> None:
        columns = self._columns()
        if not columns:
            return
        column, _ = self._current()
        index = columns.index(column) if column in columns else 0
        target = columns[(index + step) % len(columns)]
        self._focus(target, target.cursor)

    def action_new(self) -> None:
        """A new deal in the stage selected (or the pipeline's first, for a won or lost one)."""
        column, _ = self._current()
        stage = column.stage if column is not None and column.kind == "open" else None
        self.app.push_screen(deal_form(pipeline=self.pipeline, stage=stage), self.added)

    def added(self, deal: DealRead | None) -> None:
        if deal is not None:
            self.notify(f"Added {deal.ref} {deal.title} in {deal.stage}")
        self.saved(deal)

    def action_move(self, step: int) -> None:
        column, deal = self._current()
        if deal is None or column is None:
            return
        names = [name for name, _ in self.stages]
        index = names.index(column.stage) + step
        if 0 <= index < len(names):
            self.move_selected_to(names[index])

    def move_selected_to(self, stage: str) -> None:
        """Move the selected deal; into a won or lost stage it is won or lost."""
        deal = self.selected_deal()
        if deal is None:
            self.notify("Select a deal first.", severity="warning")
            return
        kind = dict(self.stages).get(stage)
        if deal.status != "open":  # a won deal is not lost by a key meant to move it
            self.notify(f"{deal.ref} is {deal.status}; reopen it first (r).", severity="warning")
        elif kind == "won":
            self.action_win()
        elif kind == "lost":
            self.action_lose()
        else:
            self.call(_move, deal, stage, owner=self.owner, then=self._moved)

    def _moved(self, moved: Moved) -> None:
        """Show the two stages the deal left and entered, the cursor on it in the new one."""
        self.notify(f"Moved {moved.deal.ref} to {moved.deal.stage} · {UNDO}")
        if self.reading or any(self._column(read.stage.name) is None for read in moved.columns):
            self.deal_changed(moved.deal.ref)  # the board is being read again, or shows another pipeline
            return
        for read in moved.columns:
            column = self._column(read.stage.name)
            if column is not None:
                column.fill(read)
        target = self._column(moved.deal.stage)
        if target is not None and moved.deal.ref in target.refs:
            self._focus(target, target.refs.index(moved.deal.ref))
        else:
            self.deal_changed(moved.deal.ref)

    def action_mine(self) -> None:
        self.owner = None if self.owner else "me"
        self.reload()

    def action_next_pipeline(self) -> None:
        if len(self.pipeline_names) > 1:
            index = self.pipeline_names.index(self.pipeline) if self.pipeline in self.pipeline_names else -1
            self.pipeline = self.pipeline_names[(index + 1) % len(self.pipeline_names)]
            self.reload()

    @on(StageColumn.Opened)
    def open_deal(self, event: StageColumn.Opened) -> None:
        self.app.push_screen(DealDetail(event.deal.ref))

    @on(StageColumn.HeadClicked)
    def head_clicked(self, event: StageColumn.HeadClicked) -> None:
        self.move_selected_to(event.column.stage)


@dataclass(frozen=True)
class _Shown:
    detail: schemas.DealDetail
    contact: str | None  # the contact's name


def _deal_with_contact(crm: Crm, reference: str) -> _Shown:
    detail = deals.deal_detail(crm, reference)
    contact = detail.deal.contact
    return _Shown(detail, contacts.get_contact(crm, contact).name if contact else None)


class DealDetail(DealActions, CrmModal[None]):
    """A deal with its stage history and orders, and the keys that act on it."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="deal.close", tooltip="Back to where the deal was opened"),
        *_deal_bindings("deal"),
    ]

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference
        self.deal: DealRead | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog deal-view"):
            yield Static("Loading…", id="deal-text")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.records_changed()

    def records_changed(self) -> None:
        self.call(_deal_with_contact, self.reference, then=self.show)

    def deal_changed(self, reference: str) -> None:
        self.records_changed()

    def selected_deal(self) -> DealRead | None:
        return self.deal

    def show(self, shown_now: _Shown) -> None:
        detail = shown_now.detail
        d = self.deal = detail.deal
        self.refresh_bindings()  # the steps open to the deal now
        status = d.status + (", archived" if d.archived_at else "")
        lines = [
            f"[b]{escape(d.title)}[/b]  {d.ref}  ({status})",
            f"{escape(d.customer_name)} ({d.customer})"
            + (f" · contact {escape(shown_now.contact)}" if shown_now.contact else ""),
            f"{money.format_amount(d.amount_minor, d.currency)} · {d.pipeline}: {d.stage} {d.probability}%",
            f"Owner {d.owner or '-'} · expected close {shown(d.expected_close) or '-'}"
            + (f" · {d.status} {shown(d.closed_at)}" if d.closed_at else ""),
        ]
        if d.lost_reason:
            lines.append(f"Lost: {escape(d.lost_reason)}")
        if d.custom:
            lines.append(escape(f"Custom fields: {shown_custom(d.custom)}"))
        lines += [
            "",
            "History:",
            *[
                f"  {shown(h.at)}  {h.from_stage or '(new)'} → {h.to_stage}  by {h.actor or '-'}"
                for h in detail.history
            ],
        ]
        if detail.orders:
            lines.append(f"Orders: {', '.join(detail.orders)}")
        self.query_one("#deal-text", Static).update("\n".join(lines))

    def action_close(self) -> None:
        self.dismiss(None)
