"""The pipeline board: a column per stage, deal cards moved with keys or the mouse.

← → walk the stages, ↑ ↓ the cards of one; ↓ past a stage's last loaded card loads its
next cards. Win, lose, reopen and archive act at once and can be undone with ctrl+z; after
any action the cursor stays on the deal, or on its neighbour if the deal left the board.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalScroll, Vertical, VerticalScroll
from textual.events import Click, DescendantBlur, DescendantFocus
from textual.markup import escape
from textual.widgets import Footer, Header, Label, ListItem, ListView, Static

from crm_tui.display import shown
from crm_tui.logic.customers import contacts
from crm_tui.logic.sales import board, deals, orders, schemas
from crm_tui.logic.sales.schemas import Board, BoardColumn, DealPage, DealRead, OrderCreate, StageTotal
from crm_tui.logic.values import money
from crm_tui.screens.base import Calls, CrmModal, CrmScreen
from crm_tui.screens.deal_forms import deal_form, edit_deal_form
from crm_tui.screens.widgets.dialogs import TextPrompt

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm

COLUMN_WIDTH = 20  # as in app.tcss: a card's title, customer and amount stay readable
SELECTED = "▶ "  # the selected card is marked in text too, for terminals without colour
UNDO = "ctrl+z undo"


class DealCard(ListItem):
    def __init__(self, deal: DealRead) -> None:
        super().__init__(Label(self._text(deal, selected=False)))
        self.deal = deal

    @staticmethod
    def _text(deal: DealRead, *, selected: bool) -> str:
        amount = money.format_amount(deal.amount_minor, deal.currency)
        mark = SELECTED if selected else ""
        return f"{mark}[b]{escape(deal.title)}[/b]\n{escape(deal.customer_name)}\n{amount}"

    def mark(self, selected: bool) -> None:
        self.query_one(Label).update(self._text(self.deal, selected=selected))


class StageStrip(HorizontalScroll, inherit_bindings=False):
    """The stages side by side. Its arrow keys are the screen's (between stages), not
    sideways scrolling: focusing a stage scrolls it into view instead."""


CARD_HEIGHT = 3  # as in app.tcss: title, customer, amount


class StageCards(ListView):
    """A stage's cards. ↓ on the last card loaded asks the board for the stage's next cards."""

    DEFAULT_CSS = """
    StageCards {
        scrollbar-size-vertical: 1;  /* a narrow column keeps its text */
    }
    """

    def action_cursor_down(self) -> None:
        column = self.parent
        last = self.index is not None and self.index >= len(self) - 1
        if last and isinstance(column, StageColumn) and column.unloaded:
            screen = self.screen
            if isinstance(screen, PipelineScreen):
                screen.load_more(column, step=True)
            return
        super().action_cursor_down()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._tell_column()

    def on_resize(self) -> None:
        self._tell_column()

    def _tell_column(self) -> None:
        column = self.parent
        if isinstance(column, StageColumn):
            column.say_more()


def _whole(total: StageTotal) -> str:
    """A stage total in whole units (``255,000 EUR``): a narrow column's head has room for it."""
    return f"{round(money.as_decimal(total.amount_minor, total.currency)):,} {total.currency}"


class StageColumn(Vertical):
    """One stage: its name, the count and sum of all its deals, and its cards loaded so far
    (the newest first), with how many more there are below them."""

    def __init__(self, column: BoardColumn) -> None:
        stage = column.stage
        totals = ", ".join(_whole(total) for total in column.totals)
        head = Static(
            f"{stage.name} {stage.probability}%\n{column.count} · {totals or '-'}", classes="column-head"
        )
        below = Static("", classes="hint column-more")
        super().__init__(
            head, StageCards(*[DealCard(deal) for deal in column.cards]), below, classes="column"
        )
        self.stage, self.kind, self.count = stage.name, stage.kind, column.count
        self.cards = list(column.cards)
        self.fetching = False  # the stage's next cards are being loaded
        self.below = below
        self.say_more()

    @property
    def refs(self) -> list[str]:
        return [deal.ref for deal in self.cards]

    @property
    def unloaded(self) -> int:
        """How many of the stage's deals are not loaded yet."""
        return max(self.count - len(self.cards), 0)

    def below_view(self) -> int:
        """How many of the stage's deals are below the cards in view, loaded or not."""
        listing = self.query_one(StageCards)
        if not listing.size.height:
            return self.unloaded  # not laid out yet
        seen = (round(listing.scroll_y) + listing.size.height) // CARD_HEIGHT
        return max(self.count - min(seen, len(self.cards)), 0)

    def say_more(self) -> None:
        if not self.cards:
            self.below.update("No deals")
        else:
            below = self.below_view() if self.is_mounted else self.unloaded
            self.below.update(f"+{below} more" if below else "")

    def on_mount(self) -> None:
        self.call_after_refresh(self.say_more)

    async def add_cards(self, page: DealPage) -> None:
        """Put the next cards loaded under the ones shown (a card shown already is skipped)."""
        known = set(self.refs)
        new = [deal for deal in page.deals if deal.ref not in known]
        self.cards += new
        if page.next_after is None:
            self.count = len(self.cards)  # the stage holds no more than were loaded now
        await self.query_one(StageCards).extend([DealCard(deal) for deal in new])
        self.call_after_refresh(self.say_more)

    def select(self, index: int) -> None:
        """Focus this stage with its card at ``index`` (the nearest one if out of range)."""
        listing = self.query_one(StageCards)
        if self.cards:
            listing.index = min(max(index, 0), len(self.cards) - 1)
        listing.focus()

    @on(ListView.Highlighted)
    @on(DescendantFocus)
    @on(DescendantBlur)
    def mark_selected(self) -> None:
        """Mark the highlighted card while this stage has the focus: the one card keys act on."""
        listing = self.query_one(StageCards)
        chosen = listing.highlighted_child if listing.has_focus else None
        for card in self.query(DealCard):
            card.mark(card is chosen)

    @on(Click, ".column-head")
    def clicked(self) -> None:
        screen = self.screen
        if isinstance(screen, PipelineScreen):  # the one screen with stage columns
            screen.move_selected_to(self.stage)


@dataclass(frozen=True)
class Place:
    """Where the cursor was: a stage, the deal on it and its row, and how many of the
    stage's cards were loaded (a reload loads as many again to find the deal)."""

    stage: str
    deal: str | None
    row: int
    loaded: int


def _make_order(crm: Crm, deal: DealRead):
    """A draft order from a won deal, for its customer."""
    return orders.add_order(crm, OrderCreate(customer=deal.customer, deal=deal.ref))


class DealActions(Calls):
    """What the board and a deal's view both do to a deal. Win, lose, reopen and archive
    act at once and say how to undo; each screen shows the result in ``deal_changed``."""

    def selected_deal(self) -> DealRead | None:
        raise NotImplementedError

    def deal_changed(self, reference: str) -> None:
        raise NotImplementedError

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

    def __init__(self) -> None:
        super().__init__()
        self.pipeline: str | None = None
        self.owner: str | None = None
        self.pipeline_names: list[str] = []
        self.stages: list[tuple[str, str]] = []
        self.awaited: Place | None = None  # where a load on its way puts the cursor

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="board-status", classes="hint")
        yield StageStrip(id="board")  # a narrow terminal scrolls the stages sideways
        yield Footer()

    def on_screen_resume(self) -> None:
        # Sent on first display too, so this is also the first load; after a dialog it
        # shows what the dialog changed, with the cursor where it was.
        self.reload()

    def records_changed(self) -> None:
        self.reload()

    def deal_changed(self, reference: str) -> None:
        self.reload(reference)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Stages share the width when they fit; otherwise they keep a readable width and scroll."""
        room = self.size.width // max(len(self.stages), 1)
        self.query_one(StageStrip).set_class(room < COLUMN_WIDTH, "-narrow")

    # Loading, keeping the place

    def _place(self) -> Place | None:
        column, deal = self._current()
        if column is None:
            return None
        row = column.query_one(StageCards).index or 0
        return Place(column.stage, deal.ref if deal else None, row, len(column.cards))

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
        self.call(
            board.board,
            self.pipeline,
            owner=self.owner,
            then=lambda result: self.show(result, place),
            key="board",
        )

    async def show(self, found: Board, place: Place | None = None) -> None:
        self.awaited = None
        self.pipeline, self.pipeline_names = found.pipeline, found.pipelines
        self.stages = [(c.stage.name, c.stage.kind) for c in found.columns]
        area = self.query_one(StageStrip)
        columns = [StageColumn(column) for column in found.columns]
        self._fit()
        with self.app.batch_update():  # the old board stays on screen until the new one is ready
            await area.remove_children()
            await area.mount(*columns)
        who = "my deals" if self.owner else "everyone's deals"
        self.query_one("#board-status", Static).update(
            f"{found.pipeline} pipeline · {who} · ←→ ↑↓ choose · Enter open · shift+←→ move"
        )
        if place is None:
            if columns:
                columns[0].select(0)
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

    async def _found_further(self, column: StageColumn, page: DealPage, place: Place) -> None:
        await column.add_cards(page)
        row = column.refs.index(place.deal) if place.deal in column.refs else place.row
        self._focus(column, row)

    def _focus(self, column: StageColumn, row: int) -> None:
        column.select(row)
        # After the next refresh: a column mounted just now has no place to scroll to yet.
        self.call_after_refresh(self.query_one(StageStrip).scroll_to_widget, column, animate=False)

    def load_more(self, column: StageColumn, *, step: bool = False) -> None:
        """Load the stage's next cards under the last one; with ``step`` the cursor goes on
        to the first of them."""
        if column.fetching or not column.cards:
            return
        column.fetching = True
        row = len(column.cards)

        async def loaded(page: DealPage) -> None:
            column.fetching = False
            await column.add_cards(page)
            if step and column.query_one(StageCards).has_focus:
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
        if isinstance(focused, StageCards) and isinstance(focused.parent, StageColumn):
            item = focused.highlighted_child
            return focused.parent, item.deal if isinstance(item, DealCard) else None
        return None, None

    def selected_deal(self) -> DealRead | None:
        return self._current()[1]

    # Actions

    def action_column(self, step: int) -> None:
        columns = list(self.query(StageColumn))
        if not columns:
            return
        column, _ = self._current()
        index = columns.index(column) if column in columns else 0
        target = columns[(index + step) % len(columns)]
        target.query_one(StageCards).focus()

    def action_new(self) -> None:
        """A new deal in the stage selected (or the pipeline's first, for a won or lost one)."""
        column, _ = self._current()
        stage = column.stage if column is not None and column.kind == "open" else None
        self.app.push_screen(
            deal_form(pipeline=self.pipeline, stage=stage),
            self.saved,
        )

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
        if kind == "won":
            self.action_win()
        elif kind == "lost":
            self.action_lose()
        elif deal.status != "open":
            self.notify(f"{deal.ref} is {deal.status}; reopen it first (r).", severity="warning")
        else:
            self.call(
                deals.move_deal,
                deal.ref,
                stage,
                expected_version=deal.version,
                then=lambda moved: self.deal_changed(moved.ref),
            )

    def action_mine(self) -> None:
        self.owner = None if self.owner else "me"
        self.reload()

    def action_next_pipeline(self) -> None:
        if len(self.pipeline_names) > 1:
            index = self.pipeline_names.index(self.pipeline) if self.pipeline in self.pipeline_names else -1
            self.pipeline = self.pipeline_names[(index + 1) % len(self.pipeline_names)]
            self.reload()

    @on(ListView.Selected)
    def open_deal(self, event: ListView.Selected) -> None:
        if isinstance(event.item, DealCard):
            self.app.push_screen(DealDetail(event.item.deal.ref))


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
        yield Footer()

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
