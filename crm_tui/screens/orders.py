"""Orders and the product catalogue."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from crm_tui.display import shown
from crm_tui.logic.sales import orders, products
from crm_tui.logic.values import money
from crm_tui.screens.base import CrmModal, CrmScreen


class OrdersScreen(CrmScreen):
    """Orders, newest first, and the products they are made of."""

    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="orders.refresh"),
        Binding("c", "confirm", "Confirm", id="orders.confirm"),
        Binding("f", "fulfil", "Fulfil", id="orders.fulfil"),
        Binding("y", "pay", "Paid", id="orders.pay"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent():
            with TabPane("Orders", id="orders-tab"):
                yield DataTable(id="orders", cursor_type="row", zebra_stripes=True)
            with TabPane("Products", id="products-tab"):
                yield DataTable(id="products", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#orders", DataTable).add_columns(
            "Ref", "Customer", "Deal", "Status", "Total", "Owner", "Created"
        )
        self.query_one("#products", DataTable).add_columns("SKU", "Product", "Price", "Tax %", "On sale")
        self.action_refresh()

    def action_refresh(self) -> None:
        self.call(orders.list_orders, limit=200, then=self.show_orders, key="orders")
        self.call(products.list_products, include_inactive=True, then=self.show_products, key="products")

    def show_orders(self, result) -> None:
        found, _ = result
        table = self.query_one("#orders", DataTable)
        table.clear()
        for o in found:
            table.add_row(
                o.ref,
                o.customer_name,
                o.deal or "",
                o.status,
                money.format_amount(o.total_minor, o.currency),
                o.owner or "",
                shown(o.created_at),
                key=o.ref,
            )

    def show_products(self, found) -> None:
        table = self.query_one("#products", DataTable)
        table.clear()
        for p in found:
            table.add_row(
                p.sku,
                p.name,
                money.format_amount(p.unit_price_minor, p.currency),
                p.tax_rate,
                "yes" if p.active else "no",
            )

    def _selected(self) -> str | None:
        table = self.query_one("#orders", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _advance(self, action: str) -> None:
        reference = self._selected()
        if reference:
            self.call(
                orders.advance,
                reference,
                action,
                then=lambda o: (self.notify(f"{o.ref} is {o.status}"), self.action_refresh()),
            )

    def action_confirm(self) -> None:
        self._advance("confirm")

    def action_fulfil(self) -> None:
        self._advance("fulfil")

    def action_pay(self) -> None:
        self._advance("pay")

    @on(DataTable.RowSelected, "#orders")
    def open_order(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(OrderDetail(str(event.row_key.value)))


class OrderDetail(CrmModal):
    """An order's lines and totals."""

    BINDINGS = [Binding("escape,enter", "close", "Close", id="order.close")]

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Loading…", id="order-text")

    def on_mount(self) -> None:
        self.call(orders.get_order, self.reference, then=self.show)

    def show(self, o) -> None:
        amount = lambda minor: money.format_amount(minor, o.currency)  # noqa: E731
        lines = [
            f"[b]{o.ref}[/b] for {o.customer_name} ({o.customer}) · {o.status}"
            + (f" · from {o.deal}" if o.deal else ""),
            "",
        ]
        for line in o.lines:
            lines.append(
                f"{line.position}. {line.quantity} x {line.description} at {amount(line.unit_price_minor)}"
                f" (-{line.discount}%, tax {line.tax_rate}%) = {amount(line.net_minor)}"
            )
        lines += [
            "",
            f"Net {amount(o.net_minor)} · tax {amount(o.tax_minor)} · [b]total {amount(o.total_minor)}[/b]",
        ]
        if o.cancel_reason:
            lines.append(f"Cancelled: {o.cancel_reason}")
        self.query_one("#order-text", Static).update("\n".join(lines))

    def action_close(self) -> None:
        self.dismiss(None)
