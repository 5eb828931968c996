"""The pipeline board: a column per stage, deal cards moved with keys or the mouse."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalScroll, Vertical
from textual.events import Click, DescendantBlur, DescendantFocus
from textual.markup import escape
from textual.widgets import Footer, Header, Label, ListItem, ListView, Static

from crm_tui.display import shown
from crm_tui.logic.sales import board, deals, orders
from crm_tui.logic.sales.schemas import Board, BoardColumn, DealRead, StageTotal
from crm_tui.logic.values import money
from crm_tui.screens.base import CrmModal, CrmScreen
from crm_tui.screens.widgets.dialogs import TextPrompt

COLUMN_WIDTH = 20  # as in app.tcss: a card's title, customer and amount stay readable
SELECTED = "▶ "  # the selected card is marked in text too, for terminals without colour


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


def _whole(total: StageTotal) -> str:
    """A stage total in whole units (``255,000 EUR``): a narrow column's head has room for it."""
    return f"{round(money.as_decimal(total.amount_minor, total.currency)):,} {total.currency}"


class StageColumn(Vertical):
    """One stage: its name, the count and sum of all its deals, and its newest cards, built
    whole before mounting."""

    def __init__(self, column: BoardColumn) -> None:
        stage = column.stage
        totals = ", ".join(_whole(total) for total in column.totals)
        head = Static(
            f"{stage.name} {stage.probability}%\n{column.count} · {totals or '-'}", classes="column-head"
        )
        parts = [head, ListView(*[DealCard(deal) for deal in column.cards])]
        if column.count > len(column.cards):
            # The board loads the newest cards; the rest are a list away.
            more = column.count - len(column.cards)
            parts.append(Static(f"+{more} more", classes="hint column-more"))
        super().__init__(*parts, classes="column")
        self.stage, self.kind = stage.name, stage.kind
        self.refs = [deal.ref for deal in column.cards]

    @on(ListView.Highlighted)
    @on(DescendantFocus)
    @on(DescendantBlur)
    def mark_selected(self) -> None:
        """Mark the highlighted card while this stage has the focus: the one card keys act on."""
        listing = self.query_one(ListView)
        chosen = listing.highlighted_child if listing.has_focus else None
        for card in self.query(DealCard):
            card.mark(card is chosen)

    @on(Click, ".column-head")
    def clicked(self) -> None:
        screen = self.screen
        if isinstance(screen, PipelineScreen):  # the one screen with stage columns
            screen.move_selected_to(self.stage)


class PipelineScreen(CrmScreen):
    """Deals by stage; move, win and lose them without leaving the keyboard."""

    BINDINGS = [
        Binding("left", "column(-1)", "Prev stage", id="pipeline.left", show=False),
        Binding("right", "column(1)", "Next stage", id="pipeline.right", show=False),
        Binding("shift+right,greater_than_sign", "move(1)", "Move right", id="pipeline.move_right"),
        Binding("shift+left,less_than_sign", "move(-1)", "Move left", id="pipeline.move_left"),
        Binding("w", "win", "Win", id="pipeline.win"),
        Binding("l", "lose", "Lose", id="pipeline.lose"),
        Binding("o", "order", "Order", id="pipeline.order", tooltip="Draft an order from a won deal"),
        Binding("m", "mine", "Mine/all", id="pipeline.mine"),
        Binding("p", "next_pipeline", "Pipeline", id="pipeline.next"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pipeline: str | None = None
        self.owner: str | None = None
        self.pipeline_names: list[str] = []
        self.stages: list[tuple[str, str]] = []
        self.focus_stage: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="board-status", classes="hint")
        yield StageStrip(id="board")  # a narrow terminal scrolls the stages sideways
        yield Footer()

    def on_screen_resume(self) -> None:
        # Sent on first display too, so this is also the first load.
        self.reload()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Stages share the width when they fit; otherwise they keep a readable width and scroll."""
        room = self.size.width // max(len(self.stages), 1)
        self.query_one(StageStrip).set_class(room < COLUMN_WIDTH, "-narrow")

    def reload(self, focus_deal: str | None = None) -> None:
        self.call(
            board.board,
            self.pipeline,
            owner=self.owner,
            then=lambda result: self.show(result, focus_deal),
            key="board",
        )

    async def show(self, found: Board, focus_deal: str | None = None) -> None:
        self.pipeline, self.pipeline_names = found.pipeline, found.pipelines
        self.stages = [(c.stage.name, c.stage.kind) for c in found.columns]
        area = self.query_one(StageStrip)
        await area.remove_children()
        columns = [StageColumn(column) for column in found.columns]
        self._fit()
        await area.mount(*columns)
        who = "my deals" if self.owner else "everyone's deals"
        self.query_one("#board-status", Static).update(
            f"Pipeline {found.pipeline}, {who}. Click a stage's name to move the selected deal there."
        )
        target = next((c for c in columns if focus_deal in c.refs), None) if focus_deal else None
        if focus_deal and target is not None:
            listing = target.query_one(ListView)
            listing.index = target.refs.index(focus_deal)
            listing.focus()
            area.scroll_to_widget(target, animate=False)
        elif columns:
            columns[0].query_one(ListView).focus()

    def _current(self) -> tuple[StageColumn | None, DealRead | None]:
        focused = self.focused
        if isinstance(focused, ListView) and isinstance(focused.parent, StageColumn):
            item = focused.highlighted_child
            return focused.parent, item.deal if isinstance(item, DealCard) else None
        return None, None

    def action_column(self, step: int) -> None:
        columns = list(self.query(StageColumn))
        column, _ = self._current()
        index = columns.index(column) if column in columns else 0
        target = columns[(index + step) % len(columns)]
        target.query_one(ListView).focus()

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
        _, deal = self._current()
        if deal is None:
            self.notify("Select a deal first.", severity="warning")
            return
        kind = dict(self.stages).get(stage)
        if kind == "won":
            self.action_win()
        elif kind == "lost":
            self.action_lose()
        elif deal.status != "open":
            self.notify(f"{deal.ref} is {deal.status}; reopen it first.", severity="warning")
        else:
            self.call(
                deals.move_deal,
                deal.ref,
                stage,
                expected_version=deal.version,
                then=lambda d: self.reload(d.ref),
            )

    def action_win(self) -> None:
        _, deal = self._current()
        if deal is not None:
            self.call(
                deals.win_deal,
                deal.ref,
                expected_version=deal.version,
                then=lambda result: (
                    self.notify(f"Won {result[0].ref} {result[0].title}"),
                    self.reload(result[0].ref),
                ),
            )

    def action_lose(self) -> None:
        _, deal = self._current()
        if deal is None:
            return

        def lose(reason: str | None) -> None:
            if reason:
                self.call(
                    deals.lose_deal,
                    deal.ref,
                    reason,
                    expected_version=deal.version,
                    then=lambda d: (self.notify(f"Lost {d.ref}: {d.lost_reason}"), self.reload(d.ref)),
                )

        self.app.push_screen(TextPrompt(f"Lose {deal.ref} {deal.title}", "Why was it lost? (required)"), lose)

    def action_order(self) -> None:
        _, deal = self._current()
        if deal is None:
            return
        if deal.status != "won":
            self.notify(f"{deal.ref} is {deal.status}; only a won deal becomes an order.", severity="warning")
            return

        def draft(crm, ref):
            from crm_tui.logic.sales.schemas import OrderCreate

            return orders.add_order(crm, OrderCreate(customer=deal.customer, deal=ref))

        self.call(
            draft,
            deal.ref,
            then=lambda order: self.notify(f"Draft order {order.ref}: {order.total} {order.currency}"),
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


class DealDetail(CrmModal):
    """A deal with its stage history."""

    BINDINGS = [Binding("escape,enter", "close", "Close", id="deal.close")]

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Loading…", id="deal-text")

    def on_mount(self) -> None:
        self.call(deals.deal_detail, self.reference, then=self.show)

    def show(self, detail) -> None:
        d = detail.deal
        lines = [
            f"[b]{d.title}[/b]  {d.ref}  ({d.status})",
            f"{d.customer_name} ({d.customer}) · {money.format_amount(d.amount_minor, d.currency)}"
            f" · {d.stage} {d.probability}%",
            f"Owner {d.owner or '-'} · expected close {shown(d.expected_close) or '-'}"
            + (f" · lost: {d.lost_reason}" if d.lost_reason else ""),
            "",
            "History:",
            *[
                f"  {shown(h.at)}  {h.from_stage or '(new)'} → {h.to_stage}  by {h.actor}"
                for h in detail.history
            ],
        ]
        if detail.orders:
            lines.append(f"Orders: {', '.join(detail.orders)}")
        self.query_one("#deal-text", Static).update("\n".join(lines))

    def action_close(self) -> None:
        self.dismiss(None)
