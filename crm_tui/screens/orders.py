"""Orders and the product catalogue.

An order is made for a customer, or from a won deal (its title and amount become the
first line); its own screen adds, changes and removes lines while it is a draft and
takes it from draft to confirmed, fulfilled and paid, or cancels it with a reason.
Managers keep the catalogue: add and edit products, retire them and offer them again.

Every change is the logic's to allow: a refusal shows beside the form field at fault,
or in one line. The lists keep their cursor on the record acted on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static, TabbedContent, TabPane

from crm_tui.display import shown
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.sales import deals, orders, products
from crm_tui.logic.sales.orders import LineUpdate
from crm_tui.logic.sales.schemas import (
    LineCreate,
    LineRead,
    OrderCreate,
    OrderRead,
    ProductCreate,
    ProductRead,
    ProductUpdate,
)
from crm_tui.logic.values import money
from crm_tui.screens.base import CrmScreen
from crm_tui.screens.widgets.choices import all_customers, deals_to_order, products_on_sale
from crm_tui.screens.widgets.dialogs import Confirm, TextPrompt
from crm_tui.screens.widgets.forms import Field, FormDialog
from crm_tui.screens.widgets.keys_footer import KeysFooter
from crm_tui.screens.widgets.row_table import Column, RowTable
from crm_tui.screens.widgets.tabs import TabbedScreen

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm

SHOWN_ORDERS = 200  # the newest orders the list holds; the CLI pages through all
ORDER_COLUMNS = (
    Column("Ref", 6),
    Column("Customer", 18, grow=1),
    Column("Deal", 5),
    Column("Status", 9),
    Column("Total", 16),
    Column("Owner", 6),
    Column("Created", 16),
)
PRODUCT_COLUMNS = (
    Column("SKU", 10),
    Column("Product", 18, grow=1),
    Column("Price", 16),
    Column("Tax %", 5),
    Column("On sale", 7),
)
LINE_COLUMNS = (
    Column("#", 2),
    Column("Line", 16, grow=1),
    Column("Qty", 6),
    Column("Unit price", 12),
    Column("Disc %", 6),
    Column("Tax %", 5),
    Column("Net", 12),
    Column("SKU", 8),
)
# The tab each action of the orders screen works on: its keys work there, and the
# palette opens it first.
TAB_OF = {
    "new_order": "orders-tab",
    "confirm": "orders-tab",
    "fulfil": "orders-tab",
    "pay": "orders-tab",
    "cancel_order": "orders-tab",
    "add_product": "products-tab",
    "edit_product": "products-tab",
    "toggle_sale": "products-tab",
}
NEXT_STEP = {
    "confirmed": "Confirmed: f when it is delivered · x cancels it.",
    "fulfilled": "Fulfilled: y when it is paid · x cancels it.",
    "paid": "Paid: nothing more to do.",
    "cancelled": "Cancelled.",
}


def plain_amount(minor: int, currency: str) -> str:
    """An amount without its currency, for columns whose heading names it: ``1,234.50``."""
    return f"{money.as_decimal(minor, currency):,.{money.digits(currency)}f}"


def total_text(order: OrderRead) -> str:
    return money.format_amount(order.total_minor, order.currency)


def price_text(minor: int, currency: str) -> str:
    """An amount as a form shows it for editing: ``1234.50``."""
    return str(money.as_decimal(minor, currency))


def changed_fields(values: Mapping[str, str], opened: Mapping[str, str], zero: Sequence[str] = ()) -> dict:
    """The fields a form's user changed; a ``zero`` field left empty means 0."""
    changes = {name: values[name] for name in opened if values[name] != opened[name]}
    return {name: "0" if name in zero and not text.strip() else text for name, text in changes.items()}


# Logic calls as the forms make them (each runs in a worker with the open crm)


def add_order(crm: Crm, values: dict[str, str]) -> OrderRead:
    """An order for the customer chosen, or from the won deal chosen (for its customer)."""
    customer, deal = values["customer"], values["deal"]
    if not customer and not deal:
        raise Invalid("choose a customer, or a won deal to make the order from", field="customer")
    if deal and not customer:
        customer = deals.get_deal(crm, deal).customer
    data = {"customer": customer, "deal": deal or None, "currency": values["currency"] or None}
    return orders.add_order(crm, validated(OrderCreate, data))


def new_line(values: Mapping[str, str]) -> LineCreate:
    """A line as the line form gives it: what is left empty comes from the product."""
    data: dict[str, Any] = {name: text.strip() or None for name, text in values.items()}
    data["quantity"] = data["quantity"] or "1"
    return validated(LineCreate, data)


def line_fields(currency: str, *, with_product: bool) -> list[Field]:
    product = Field("product", "Product (none: a line of your own)", kind="pick", source=products_on_sale)
    return [*([product] if with_product else []), *(
        Field("description", "Description", hint="empty: the product's name"),
        Field("quantity", "Quantity", hint="1"),
        Field("unit_price", f"Unit price ({currency})", hint="empty: the product's price"),
        Field("discount", "Discount %", hint="0"),
        Field("tax_rate", "Tax %", hint="empty: the product's rate, else 0"),
    )]  # fmt: skip


def product_fields(default_currency: str, *, with_sku: bool) -> list[Field]:
    sku = Field("sku", "SKU", required=True, hint="a short code without spaces, like HOST")
    return [*([sku] if with_sku else []), *(
        Field("name", "Name", required=True),
        Field("price", "Price", required=True, hint="like 49.90"),
        Field("currency", "Currency", hint=f"empty: {default_currency}"),
        Field("tax_rate", "Tax %", hint="0"),
    )]  # fmt: skip


# The order's step each action takes (orders.open_steps names those open now).
STEP_OF = {
    "add_line": "lines",
    "edit_line": "lines",
    "remove_line": "lines",
    "confirm": "confirm",
    "fulfil": "fulfil",
    "pay": "pay",
    "cancel_order": "cancel",
}


class OrdersScreen(TabbedScreen):
    """Orders, newest first, and the products they are made of."""

    TAB_OF = TAB_OF
    BINDINGS = [
        Binding(
            "n",
            "new_order",
            "New order",
            id="orders.new",
            tooltip="An order for a customer, or from a won deal with its amount as a line",
        ),
        Binding(
            "c", "confirm", "Confirm", id="orders.confirm", tooltip="Confirm the draft (it needs a line)"
        ),
        Binding("f", "fulfil", "Fulfil", id="orders.fulfil", tooltip="The confirmed order was delivered"),
        Binding("y", "pay", "Paid", id="orders.pay", tooltip="The fulfilled order was paid"),
        Binding(
            "x", "cancel_order", "Cancel order", id="orders.cancel", tooltip="Cancel the order, saying why"
        ),
        Binding("a", "add_product", "Add product", id="products.add", tooltip="A new product (managers)"),
        Binding(
            "e",
            "edit_product",
            "Edit product",
            id="products.edit",
            tooltip="Name, price, currency or tax rate (managers)",
        ),
        Binding(
            "s",
            "toggle_sale",
            "Retire / offer",
            id="products.sale",
            tooltip="Take the product off sale, or offer it again (managers)",
        ),
        Binding(
            "p", "show_tab('products-tab')", "Products", id="orders.products", tooltip="The product catalogue"
        ),
        Binding("o", "show_tab('orders-tab')", "Orders", id="products.orders", tooltip="The orders"),
        Binding("r", "refresh", "Refresh", id="orders.refresh", show=False, tooltip="Read the lists anew"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tab = "orders-tab"
        self.order_rows: dict[str, OrderRead] = {}
        self.product_rows: dict[str, ProductRead] = {}
        # The record each list is to show under its cursor once read anew: kept here, as
        # a later reload (the screen resuming after a form) may supersede the one asked.
        self.wanted: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="orders-tab"):
            with TabPane("Orders", id="orders-tab"):
                yield Static("", id="orders-status", classes="hint")
                yield RowTable(ORDER_COLUMNS, id="orders")
            with TabPane("Products", id="products-tab"):
                yield Static("", id="products-status", classes="hint")
                yield RowTable(PRODUCT_COLUMNS, id="products")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#orders", RowTable)
        table.focus()
        # The steps offered follow the order under the cursor.
        self.watch(table, "cursor_row", lambda: self.refresh_bindings(), init=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The steps of the order under the cursor: only those its status allows.
        allowed = super().check_action(action, parameters)
        step = STEP_OF.get(action)
        if not allowed or step is None:
            return allowed
        order = self.selected_order() if self.order_rows else None  # none before the list is read
        return order is not None and step in orders.open_steps(order.status)

    def on_screen_resume(self) -> None:
        # Sent on first display too, so this is also the first load.
        self.records_changed()

    def records_changed(self) -> None:
        """Read both lists anew, each cursor staying on its record."""
        self.load_orders()
        self.load_products()

    def action_refresh(self) -> None:
        self.records_changed()

    # Tabs: only the current tab's actions are at hand

    def tab_table(self, tab: str) -> RowTable:
        return self.query_one(f"#{tab.removesuffix('-tab')}", RowTable)

    # Orders

    def load_orders(self, select: str | None = None) -> None:
        if select:
            self.wanted["orders"] = select
        self.call(orders.list_orders, limit=SHOWN_ORDERS, then=self.show_orders, key="orders")

    def show_orders(self, page: tuple[list[OrderRead], str | None]) -> None:
        found, more = page
        self.order_rows = {order.ref: order for order in found}
        rows = [
            (o.ref, (o.ref, o.customer_name, o.deal or "", o.status,
                     money.format_amount(o.total_minor, o.currency), o.owner or "", shown(o.created_at)))
            for o in found
        ]  # fmt: skip
        self.query_one("#orders", RowTable).refill(rows, select=self.wanted.pop("orders", None))
        self.refresh_bindings()  # the order under the cursor may have another status now
        if not found:
            status = "No orders yet: n makes one, for a customer or from a won deal."
        else:
            newest = f", the newest {len(found)} shown" if more else ""
            status = f"{len(found)} orders{newest}, newest first · Enter opens one · n new order"
        self.query_one("#orders-status", Static).update(status)

    def selected_order(self) -> OrderRead | None:
        reference = self.query_one("#orders", RowTable).current
        return self.order_rows.get(reference) if reference else None

    @on(RowTable.Selected)
    def row_opened(self, event: RowTable.Selected) -> None:
        """Enter on an order opens it; on a product, edits it."""
        if self.tab == "orders-tab":
            self.app.push_screen(OrderDetail(event.key))
        else:
            self.action_edit_product()

    def action_new_order(self) -> None:
        def added(order: OrderRead | None) -> None:
            if order is not None:
                self.notify(f"Draft {order.ref} for {order.customer_name}: {total_text(order)}")
                self.load_orders(select=order.ref)
                self.app.push_screen(OrderDetail(order.ref))

        default = self.crm.settings.default_currency
        form = FormDialog(
            "New order",
            [
                Field("customer", "Customer (for an order from scratch)", kind="pick", source=all_customers),
                Field("deal", "Or from a won deal: its title and amount become the first line", kind="pick",
                      source=deals_to_order),
                Field("currency", "Currency", hint=f"empty: the deal's, else {default}"),
            ],
            add_order,
        )  # fmt: skip
        self.app.push_screen(form, added)

    def _order_changed(self, message: str):
        def show(order: OrderRead) -> None:
            self.notify(message.format(order=order, total=total_text(order)))
            self.load_orders(select=order.ref)

        return show

    def _advance(self, action: str) -> None:
        order = self.selected_order()
        if order is not None:
            self.call(
                orders.advance,
                order.ref,
                action,
                expected_version=order.version,
                then=lambda done: (
                    self.notify(f"{done.ref} is {done.status}"),
                    self.load_orders(select=done.ref),
                ),
            )

    def action_confirm(self) -> None:
        self._advance("confirm")

    def action_fulfil(self) -> None:
        self._advance("fulfil")

    def action_pay(self) -> None:
        self._advance("pay")

    def action_cancel_order(self) -> None:
        order = self.selected_order()
        if order is None:
            return

        def cancel(reason: str | None) -> None:
            if reason:
                self.call(
                    orders.cancel_order,
                    order.ref,
                    reason,
                    expected_version=order.version,
                    then=lambda done: (
                        self.notify(f"Cancelled {done.ref}"),
                        self.load_orders(select=done.ref),
                    ),
                )

        self.app.push_screen(
            TextPrompt(f"Cancel order {order.ref}", "Why is it cancelled? (required)"), cancel
        )

    # Products

    def load_products(self, select: str | None = None) -> None:
        if select:
            self.wanted["products"] = select
        self.call(products.list_products, include_inactive=True, then=self.show_products, key="products")

    def show_products(self, found: list[ProductRead]) -> None:
        self.product_rows = {product.sku: product for product in found}
        rows = [
            (
                p.sku,
                (
                    p.sku,
                    p.name,
                    money.format_amount(p.unit_price_minor, p.currency),
                    p.tax_rate,
                    shown(p.active),
                ),
            )
            for p in found
        ]
        self.query_one("#products", RowTable).refill(rows, select=self.wanted.pop("products", None))
        retired = sum(not product.active for product in found)
        if not found:
            status = "No products yet: a manager adds them with a."
        else:
            status = (
                f"{len(found)} products, {retired} retired · managers: a add, e edit, s retire or offer again"
            )
        self.query_one("#products-status", Static).update(status)

    def selected_product(self) -> ProductRead | None:
        sku = self.query_one("#products", RowTable).current
        return self.product_rows.get(sku) if sku else None

    def when_allowed(self, then) -> None:
        """Open a form only for a user the logic lets manage products; else say its refusal."""
        self.call(products.check_may_manage, then=lambda _: then())

    def _product_saved(self, verb: str):
        def saved(product: ProductRead | None) -> None:
            if product is not None:
                self.notify(f"{verb} {product.sku} {product.name}")
                self.load_products(select=product.sku)

        return saved

    def action_add_product(self) -> None:
        def save(crm: Crm, values: dict[str, str]) -> ProductRead:
            data = {name: text.strip() or None for name, text in values.items()}
            return products.add_product(crm, validated(ProductCreate, data))

        currency = self.crm.settings.default_currency
        form = FormDialog("New product", product_fields(currency, with_sku=True), save)
        self.when_allowed(lambda: self.app.push_screen(form, self._product_saved("Added")))

    def action_edit_product(self) -> None:
        product = self.selected_product()
        if product is None:
            return
        opened = {
            "name": product.name,
            "price": product.price,
            "currency": product.currency,
            "tax_rate": product.tax_rate,
        }

        def save(crm: Crm, values: dict[str, str]) -> ProductRead:
            changes = changed_fields(values, opened, zero=("tax_rate",))
            if not changes:
                return products.get_product(crm, product.sku)
            return products.update_product(crm, product.sku, validated(ProductUpdate, changes))

        fields = product_fields(product.currency, with_sku=False)
        form = FormDialog(f"Edit {product.sku}", fields, save, values=opened)
        self.when_allowed(lambda: self.app.push_screen(form, self._product_saved("Saved")))

    def action_toggle_sale(self) -> None:
        product = self.selected_product()
        if product is None:
            return

        def done(changed: ProductRead) -> None:
            self.notify(
                f"{changed.sku} is on sale again"
                if changed.active
                else f"Retired {changed.sku}: no longer offered"
            )
            self.load_products(select=changed.sku)

        self.call(products.set_active, product.sku, not product.active, then=done)


class OrderDetail(CrmScreen):
    """An order: whom it is for, its lines and totals, and each step from draft to paid."""

    # In the order of the work, so the footer shows the next steps even at 80 columns.
    BINDINGS = [
        Binding("a", "add_line", "Add line", id="order.add_line", tooltip="A product, or a line of your own"),
        Binding("c", "confirm", "Confirm", id="order.confirm", tooltip="Confirm the draft (it needs a line)"),
        Binding("f", "fulfil", "Fulfil", id="order.fulfil", tooltip="The confirmed order was delivered"),
        Binding("y", "pay", "Paid", id="order.pay", tooltip="The fulfilled order was paid"),
        Binding(
            "e",
            "edit_line",
            "Edit line",
            id="order.edit_line",
            tooltip="Description, quantity, price, discount or tax of the line (Enter too)",
        ),
        Binding("d", "remove_line", "Remove line", id="order.remove_line", tooltip="Asks first"),
        Binding(
            "x", "cancel_order", "Cancel order", id="order.cancel", tooltip="Cancel the order, saying why"
        ),
        Binding("escape", "app.pop_screen", "Back", id="order.back", tooltip="Back to the list"),
    ]
    DEFAULT_CSS = """
    OrderDetail #order-head { height: auto; padding: 0 1; }
    OrderDetail #lines { height: 1fr; }
    OrderDetail #order-totals { height: auto; padding: 0 1; }
    """

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference.upper()
        self.order: OrderRead | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only the steps the order's status allows are offered (footer, F1, palette):
        # a paid order offers none.
        step = STEP_OF.get(action)
        return step is None or self.order is None or step in orders.open_steps(self.order.status)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="order-head")
        yield RowTable(LINE_COLUMNS, id="lines")
        yield Static("", id="order-totals")
        yield Static("", id="order-next", classes="hint")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#lines", RowTable).focus()

    def on_screen_resume(self) -> None:
        # Sent on first display too, so this is also the first load.
        self.records_changed()

    def records_changed(self) -> None:
        self.call(orders.get_order, self.reference, then=self.show, key="order")

    def show(self, order: OrderRead, select: str | None = None) -> None:
        if self.order is not None and order.version < self.order.version:
            # A load begun before a change was saved, come back after the change's own
            # result (a dialog's closing reloads while its action is saving): older.
            return
        self.order = o = order
        self.sub_title = f"{o.ref} for {o.customer_name}"
        times = {
            "created": o.created_at,
            "confirmed": o.confirmed_at,
            "fulfilled": o.fulfilled_at,
            "paid": o.paid_at,
            "cancelled": o.cancelled_at,
        }
        steps = [f"{what} {shown(at)}" for what, at in times.items() if at]
        head = [
            f"[b]{o.ref}[/b] for {escape(o.customer_name)} ({o.customer}) · [b]{o.status}[/b]",
            " · ".join([*([f"from {o.deal}"] if o.deal else []), f"owner {o.owner or '(nobody)'}", *steps]),
        ]
        if o.cancel_reason:
            head.append(f"Cancelled because: {escape(o.cancel_reason)}")
        self.query_one("#order-head", Static).update("\n".join(head))
        rows = [(str(line.position), self._cells(line)) for line in o.lines]
        self.query_one("#lines", RowTable).refill(rows, select=select)
        self.query_one("#order-totals", Static).update(
            f"Net {plain_amount(o.net_minor, o.currency)} · tax {plain_amount(o.tax_minor, o.currency)}"
            f" · [b]total {money.format_amount(o.total_minor, o.currency)}[/b]"
        )
        self.query_one("#order-next", Static).update(self._next_step(o))
        self.refresh_bindings()  # the steps open to the order

    def _cells(self, line: LineRead) -> tuple[str, ...]:
        assert self.order is not None
        currency = self.order.currency
        return (
            str(line.position),
            line.description,
            line.quantity,
            plain_amount(line.unit_price_minor, currency),
            line.discount,
            line.tax_rate,
            plain_amount(line.net_minor, currency),
            line.product or "",
        )

    @staticmethod
    def _next_step(order: OrderRead) -> str:
        if order.status == "draft" and not order.lines:
            return "A draft without lines: a adds one, then c confirms it."
        if order.status == "draft":
            return "A draft: a adds a line, Enter or e changes one, d removes one · c confirms it."
        return NEXT_STEP.get(order.status, "")

    def selected_line(self) -> LineRead | None:
        position = self.query_one("#lines", RowTable).current
        if self.order is None or position is None:
            return None
        return next((line for line in self.order.lines if str(line.position) == position), None)

    def _lines_fixed(self, order: OrderRead) -> bool:
        """True, having said why, when the order's lines cannot change now."""
        refusal = orders.lines_refusal(order.ref, order.status)
        if refusal:
            self.notify(refusal, title="Not done", severity="warning")
        return refusal is not None

    def _changed(self, message: str, select: str | None = None):
        def show(order: OrderRead | None) -> None:
            if order is not None:
                self.notify(message.format(order=order, total=total_text(order)))
                self.show(order, select)

        return show

    # Lines

    def action_add_line(self) -> None:
        order = self.order
        if order is None or self._lines_fixed(order):
            return

        def save(crm: Crm, values: dict[str, str]) -> OrderRead:
            return orders.add_line(crm, order.ref, new_line(values), expected_version=order.version)

        def added(done: OrderRead | None) -> None:
            if done is not None:
                self._changed("Added a line; {order.ref} is now {total}")(done)
                self.query_one("#lines", RowTable).action_last()

        form = FormDialog(
            f"Add a line to {order.ref}",
            line_fields(order.currency, with_product=True),
            save,
            values={"quantity": "1"},
        )
        self.app.push_screen(form, added)

    @on(RowTable.Selected)
    def open_line(self) -> None:
        self.action_edit_line()

    def action_edit_line(self) -> None:
        order, line = self.order, self.selected_line()
        if order is None or line is None or self._lines_fixed(order):
            return
        opened = {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": price_text(line.unit_price_minor, order.currency),
            "discount": line.discount,
            "tax_rate": line.tax_rate,
        }

        def save(crm: Crm, values: dict[str, str]) -> OrderRead:
            changes = changed_fields(values, opened, zero=("discount", "tax_rate"))
            if not changes:
                return orders.get_order(crm, order.ref)
            data = validated(LineUpdate, changes)
            return orders.change_line(crm, order.ref, line.position, data, expected_version=order.version)

        product = f" ({line.product})" if line.product else ""
        form = FormDialog(
            f"Line {line.position} of {order.ref}{product}",
            line_fields(order.currency, with_product=False),
            save,
            values=opened,
        )
        message = f"Saved line {line.position}; {{order.ref}} is now {{total}}"
        self.app.push_screen(form, self._changed(message, str(line.position)))

    def action_remove_line(self) -> None:
        order, line = self.order, self.selected_line()
        if order is None or line is None or self._lines_fixed(order):
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(
                    orders.remove_line,
                    order.ref,
                    line.position,
                    expected_version=order.version,
                    then=self._changed(f"Removed line {line.position}; {{order.ref}} is now {{total}}"),
                )  # fmt: skip

        net = money.format_amount(line.net_minor, order.currency)
        question = f"Remove line {line.position} ({line.description}, net {net}) from {order.ref}?"
        self.app.push_screen(Confirm(question), answered)

    # Status

    def _advance(self, action: str) -> None:
        order = self.order
        if order is not None:
            self.call(
                orders.advance,
                order.ref,
                action,
                expected_version=order.version,
                then=self._changed("{order.ref} is {order.status}"),
            )

    def action_confirm(self) -> None:
        self._advance("confirm")

    def action_fulfil(self) -> None:
        self._advance("fulfil")

    def action_pay(self) -> None:
        self._advance("pay")

    def action_cancel_order(self) -> None:
        order = self.order
        if order is None:
            return

        def cancel(reason: str | None) -> None:
            if reason:
                self.call(
                    orders.cancel_order,
                    order.ref,
                    reason,
                    expected_version=order.version,
                    then=self._changed("Cancelled {order.ref}"),
                )

        self.app.push_screen(
            TextPrompt(f"Cancel order {order.ref}", "Why is it cancelled? (required)"), cancel
        )
