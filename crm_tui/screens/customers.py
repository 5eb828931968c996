"""Customers: a list that filters as you type and pages through any number of rows,
the customer at the centre of everything about it, and the forms that change them.

The list opens with the cursor in its table, where a few letters are actions and the
digits choose the view (never a letter: a name typed there by mistake changes nothing);
``/`` goes to the filter, where every letter and digit is text. The customer's screen
shows its record, contacts, deals, tickets, orders, open tasks and timeline, each a table
of its own with keys that act on the row under the cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Header, Input, Label, Select, Static

from crm_tui.display import shown
from crm_tui.logic.core.errors import Conflict, CrmError, Duplicate, Invalid
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.core.vocabulary import ActivityKind, CustomerKind, CustomerSort, Lifecycle
from crm_tui.logic.customers import contacts, customers, timeline
from crm_tui.logic.customers.schemas import (
    ActivityCreate,
    ActivityRead,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    CustomerCreate,
    CustomerDetail,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
)
from crm_tui.logic.sales import deals, orders
from crm_tui.logic.sales.schemas import DealRead, OrderRead
from crm_tui.logic.service import tickets
from crm_tui.logic.service.schemas import TicketRead
from crm_tui.logic.values import money
from crm_tui.logic.values.custom_fields import custom_changes, custom_lines, shown_custom
from crm_tui.logic.values.normalise import clean_tag
from crm_tui.screens.base import CrmModal, CrmScreen
from crm_tui.screens.duplicates import DuplicatesScreen
from crm_tui.screens.record_table import SectionTable
from crm_tui.screens.tasks import due_text, set_done, task_form
from crm_tui.screens.widgets.choices import active_users
from crm_tui.screens.widgets.dialogs import Confirm
from crm_tui.screens.widgets.forms import CUSTOM_LABEL, Field, FormDialog, PickField
from crm_tui.screens.widgets.keys_footer import KeysFooter
from crm_tui.screens.widgets.row_table import Column, RowTable

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm

PAGE = 60  # rows per page: a screenful or two, never the whole table
# Seconds a letter typed in the filter may wait to be drawn with the rows it filters to.
HOLD_LETTER = 0.05


class View(NamedTuple):
    """A view of the customer list: its name (and binding id), what it lists in words,
    and the lifecycle stage and archived flag it lists by."""

    name: str
    what: str
    stage: Lifecycle | None
    archived: bool


# The list's views, by their keys.
VIEWS = {
    "1": View("all", "customers", None, False),
    "2": View("leads", "leads", Lifecycle.lead, False),
    "3": View("prospects", "prospects", Lifecycle.prospect, False),
    "4": View("customers", "customers at stage customer", Lifecycle.customer, False),
    "5": View("inactive", "inactive customers", Lifecycle.inactive, False),
    "6": View("archived", "archived customers", None, True),
}
# Each order of the list (ctrl+o), as the status line says it: names from A, the others
# newest first.
ORDER_SAID = {
    CustomerSort.alphabetical: "by name",
    CustomerSort.created: "newest first",
    CustomerSort.updated: "last changed first",
}
COLUMNS = (  # on a narrow terminal the last ones are left out first
    Column("Ref", 9),
    Column("Name", 20, grow=4),
    Column("Stage", 8),
    Column("Owner", 8),
    Column("Email", 16, grow=3),
    Column("Phone", 13),
    Column("City", 10, grow=1),
    Column("Tags", 10, grow=1),
)


def undo_note(verb: str, reference: str) -> str:
    """The notice of a change that acts at once: what was done, and how to take it back."""
    return f"{verb} {reference} · ctrl+z undo"


# The list


class CustomerTable(RowTable):
    """The customer list's rows (its keys are the screen's: they act on the table only)."""


class CustomersScreen(CrmScreen):
    """The customer list. Letters and digits are keys while the table has the cursor and
    text while the filter has it, never both: the table's keys are switched off in the
    filter."""

    BINDINGS = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="customers.filter",
            tooltip="Type to filter by name, email or phone",
        ),
        Binding("n", "new", "New", id="customers.new", tooltip="Add a customer"),
        Binding(
            "ctrl+o",
            "sort",
            "Sort",
            id="customers.sort",
            tooltip="Order by name, newest first or last changed first, in turn",
        ),
        *(
            Binding(
                key,
                f"view('{key}')",
                f"View: {view.name}",
                id=f"customers.{view.name}",
                show=False,
                tooltip=f"Show the {view.what}" + ("" if view.archived else " that are not archived"),
            )
            for key, view in VIEWS.items()
        ),
        Binding(
            "x",
            "archive",
            "Archive/restore",
            id="customers.archive",
            tooltip="Archive the customer under the cursor (restore it in the archived view); ctrl+z undoes",
        ),
        Binding(
            "m",
            "duplicates",
            "Duplicates",
            id="customers.duplicates",
            tooltip="Find customers that look alike and merge them",
        ),
        Binding(
            "escape",
            "escape",
            "Leave or clear the filter",
            id="customers.clear",
            show=False,
            tooltip="In the filter: back to the list. In the list: clear the filter",
        ),
    ]
    # The keys that are letters or digits: off while the filter has the cursor, where
    # they are text. The view's options are on digits and ctrl+o, never on letters, so
    # that a name typed with the cursor in the table cannot change what the list shows.
    TABLE_ACTIONS = frozenset({"filter", "new", "view", "archive", "duplicates"})
    AUTO_FOCUS = "#table"

    def __init__(self) -> None:
        super().__init__()
        self.sort = CustomerSort.alphabetical
        self.view = "1"
        self.anchors: list[str | None] = [None]  # where each page we went through started
        self.next_after: str | None = None
        self.wanted: str | None = None  # a customer the cursor goes to once it is shown
        self.held: AbstractContextManager[None] | None = None  # frames held for the rows
        self.customer_screen: CustomerDetailScreen | None = None  # built on the first open
        self.acted: str | None = None  # the customer archived or restored last

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filter-bar"):
            yield Input(placeholder="Filter: name, email or phone… (Enter opens the first)", id="filter")
        yield Static("", id="status", classes="hint")
        yield CustomerTable(COLUMNS, id="table")
        yield KeysFooter()

    @property
    def table(self) -> CustomerTable:
        return self.query_one(CustomerTable)

    @property
    def filter_box(self) -> Input:
        return self.query_one("#filter", Input)

    @property
    def stage(self) -> Lifecycle | None:
        """The lifecycle stage the view shows, or None for every stage."""
        return VIEWS[self.view].stage

    @property
    def archived(self) -> bool:
        """Whether the view shows archived customers instead of active ones."""
        return VIEWS[self.view].archived

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # In the filter a letter or digit is text: the table's keys neither fire nor show.
        return not (action in self.TABLE_ACTIONS and self.focused is self.filter_box)

    def on_mount(self) -> None:
        self.table.focus()
        self.load()
        # Told at once, as the text changes: Input.Changed comes after the next frame.
        self.watch(self.filter_box, "value", self.hold_frames, init=False)

    def on_screen_resume(self) -> None:
        self.table.focus()  # every visit starts in the table, not where the last one left off
        if self.table.keys:
            self.records_changed()  # back from a customer or a form: show what changed

    def on_screen_suspend(self) -> None:
        self.release_frames()  # whatever comes next is drawn at once
        # A command chosen in the palette acts on the table, as its key would.
        self.table.focus()

    def on_unmount(self) -> None:
        self.release_frames()

    def records_changed(self) -> None:
        # After an undo the customer acted on last may be back: the cursor goes to it.
        self.wanted, self.acted = self.acted, None
        self.load(self.anchors[-1], keep=True)

    def load(self, after: str | None = None, *, cursor_last: bool = False, keep: bool = False) -> None:
        """Show the page starting ``after``; ``keep`` leaves the cursor on its customer
        (or where that customer was, when it left the view)."""
        if keep and self.table.keys:
            row = self.table.cursor_row
            self.wanted = self.wanted or self.table.keys[row]
            keep_row = row
        else:
            keep_row = None

        def show(page: CustomerPage) -> None:
            self.fill(page, cursor_last=cursor_last, keep_row=keep_row)

        self.call(
            customers.list_customers,
            text=self.filter_box.value,
            lifecycle=self.stage,
            sort=self.sort,
            descending=self.sort != CustomerSort.alphabetical,
            archived="archived" if self.archived else "active",
            limit=PAGE,
            after=after,
            then=show,
            key="list",
        )

    def fill(self, page: CustomerPage, *, cursor_last: bool = False, keep_row: int | None = None) -> None:
        rows = [
            (
                c.ref,
                (
                    c.ref,
                    c.name,
                    c.lifecycle.value,
                    c.owner or "",
                    c.email or "",
                    c.phone or "",
                    c.city or "",
                    ", ".join(c.tags),
                ),
            )
            for c in page.customers
        ]
        table = self.table
        table.set_rows(rows, cursor_last=cursor_last)
        if self.wanted in table.keys:
            table.move_cursor(row=table.keys.index(self.wanted))
        elif keep_row is not None:
            table.move_cursor(row=keep_row)  # the customer left the view: its neighbour
        self.wanted = None
        self.next_after = page.next_after
        self.query_one("#status", Static).update(self.status(page), layout=False)
        self.release_frames()

    def status(self, page: CustomerPage) -> str:
        """What the list shows, or what it would show when it is empty, and the keys that
        change the view."""
        what = VIEWS[self.view].what
        text = self.filter_box.value.strip()
        if not page.customers:
            matching = f" match {text!r}" if text else ""
            return f"No {what}{matching}. " + ("Esc clears the filter." if text else "n adds one; 1-6 views.")
        more = ", more below" if page.next_after else ""
        page_number = f" (page {len(self.anchors)})" if len(self.anchors) > 1 else ""
        shown_now = f"{len(page.customers)} shown{more}{page_number}"
        return f"{what.capitalize()} {ORDER_SAID[self.sort]}: {shown_now}. 1-6 views"

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self.anchors = [None]
        self.load()

    def hold_frames(self) -> None:
        """Draw the letter just typed together with the rows it filters to, in one frame.

        Drawn on its own, the letter takes the frame at hand, and the rows, read a few
        milliseconds later, wait for the next one: Textual draws at most 60 frames a
        second, and after a pause the second frame comes one to two periods after the
        first. So the frames are held from the change of the filter's text (before the
        frame at hand is drawn) until the rows are in (``fill``), for at most HOLD_LETTER
        seconds, after which the letter is drawn without them."""
        if self.held is None:
            held = self.held = self.app.batch_update()
            held.__enter__()
            self.set_timer(HOLD_LETTER, partial(self.release_frames, held))

    def release_frames(self, held: AbstractContextManager[None] | None = None) -> None:
        """Let the frames be drawn; ``held``: only if they are still held for that letter
        (a later letter's hold is the later letter's to end)."""
        if self.held is not None and held in (None, self.held):
            held, self.held = self.held, None
            held.__exit__(None, None, None)
            draw = getattr(self, "_on_timer_update", None)
            if self.is_current and callable(draw):
                # Drawn now, letter and rows in one frame: Textual draws on its screen-
                # update timer, and after the tick the hold let pass, that timer's next
                # tick comes up to two periods (33 ms) later; the first letter of a word
                # waited 25-33 ms for it. Asked through the table, so that its news of
                # the new rows reaches the screen first. A private hook of Textual's:
                # without it the rows are drawn on the timer's tick, as before.
                self.table.call_later(self.call_later, draw)

    @on(Input.Submitted, "#filter")
    def open_first_match(self) -> None:
        """Enter in the filter opens the first customer matching what is typed now."""
        text = self.filter_box.value

        def opened(centre: Centre | None) -> None:
            if centre is not None:
                self.show_customer(centre)
            else:
                self.notify(f"No customer matches {text!r}.", severity="warning")

        self.call(
            first_match_centre,
            text=text,
            lifecycle=self.stage,
            sort=self.sort,
            descending=self.sort != CustomerSort.alphabetical,
            archived="archived" if self.archived else "active",
            then=opened,
            key="open",
        )

    @on(RowTable.PageWanted)
    def turn_page(self, event: RowTable.PageWanted) -> None:
        if event.forward and self.next_after:
            self.anchors.append(self.next_after)
            self.load(self.next_after)
        elif not event.forward and len(self.anchors) > 1:
            self.anchors.pop()
            self.load(self.anchors[-1], cursor_last=True)

    @on(RowTable.Selected)
    def open_customer(self, event: RowTable.Selected) -> None:
        self.open(event.key)

    def open(self, reference: str) -> None:
        """Open the customer's screen once its data is read, so that the screen is drawn
        once, whole, rather than empty first and filled after a second layout. A newer
        open supersedes one still reading."""
        self.call(customer_centre, reference, then=self.show_customer, key="open")

    def show_customer(self, centre: Centre) -> None:
        """Show ``centre`` on the customer screen this list keeps: built on the first open
        and filled anew for each after, so that opening a customer builds no widgets (and
        leaves none behind for the garbage collector), half the work of a new screen."""
        if not self.is_active:
            return  # the user went elsewhere while it was read: not over that
        # With this list on top, the screen it keeps is closed: only the list opens it.
        screen = self.customer_screen
        if screen is None:
            screen = self.customer_screen = CustomerDetailScreen(centre.detail.customer.ref, centre)
            self.app.install_screen(screen, f"customer-of-{id(self)}")  # kept when closed
        else:
            screen.open(centre)
        self.app.push_screen(screen)

    def action_filter(self) -> None:
        self.filter_box.focus()

    def action_escape(self) -> None:
        if self.focused is self.filter_box:
            self.table.focus()
        elif self.filter_box.value:
            self.filter_box.value = ""

    def action_new(self) -> None:
        def added(saved: CustomerRead | None) -> None:
            if saved is not None:
                self.wanted = saved.ref
                self.open(saved.ref)

        self.app.push_screen(CustomerForm(owner=self.crm.username), added)

    def _reset(self) -> None:
        self.anchors = [None]
        self.load()

    def action_sort(self) -> None:
        order = list(CustomerSort)
        self.sort = order[(order.index(self.sort) + 1) % len(order)]
        self._reset()

    def action_view(self, view: str) -> None:
        self.view = view
        self._reset()

    def action_archive(self) -> None:
        table = self.table
        if not table.keys:
            self.notify("No customer here to archive.", severity="warning")
            return
        reference = table.keys[table.cursor_row]
        step = customers.restore_customer if self.archived else customers.archive_customer
        verb = "Restored" if self.archived else "Archived"

        def done(customer: CustomerRead) -> None:
            self.notify(undo_note(verb, customer.ref))
            self.acted = customer.ref
            self.load(self.anchors[-1], keep=True)

        self.call(step, reference, then=done)

    def action_duplicates(self) -> None:
        self.app.push_screen(DuplicatesScreen())


# The customer at the centre


@dataclass(frozen=True)
class Centre:
    """Everything the customer's screen shows, read in one worker."""

    detail: CustomerDetail
    deals: list[DealRead]
    more_deals: bool
    tickets: list[TicketRead]
    more_tickets: bool
    orders: list[OrderRead]
    more_orders: bool


SECTION_ROWS = 20  # deals, tickets and orders shown on the customer; the lists have the rest


def customer_centre(crm: Crm, reference: str, timeline_limit: int = 20) -> Centre:
    """A customer with its contacts, open tasks and latest timeline, and its latest deals,
    tickets and orders."""
    detail = customers.customer_detail(crm, reference, timeline_limit=timeline_limit)
    ref = detail.customer.ref
    deal_page = deals.list_deals(crm, customer=ref, archived="all", limit=SECTION_ROWS)
    ticket_page = tickets.list_tickets(crm, customer=ref, status="all", limit=SECTION_ROWS)
    order_list, more_orders = orders.list_orders(crm, customer=ref, limit=SECTION_ROWS)
    return Centre(
        detail,
        deal_page.deals,
        deal_page.next_after is not None,
        ticket_page.tickets,
        ticket_page.next_after is not None,
        order_list,
        more_orders is not None,
    )


def first_match_centre(crm: Crm, text: str, **filters: Any) -> Centre | None:
    """The first customer of the list filtered by ``text`` (and ``filters``), with
    everything its screen shows; None when none matches."""
    page = customers.list_customers(crm, text=text, limit=1, **filters)
    return customer_centre(crm, page.customers[0].ref) if page.customers else None


# Each section: its title, its columns, and what it says when empty.
SECTIONS = {
    "contacts": (
        "Contacts",
        ("Ref", "Name", "Title", "Email", "Phone", "Mobile"),
        "No contacts: c adds one.",
    ),
    "deals": ("Deals", ("Ref", "Title", "Stage", "Amount", "Close", "Owner"), "No deals: d adds one."),
    "tickets": ("Tickets", ("Ref", "Status", "Priority", "Subject", "Agent"), "No tickets: k opens one."),
    "orders": ("Orders", ("Ref", "Status", "Total", "Created", "Deal"), "No orders."),
    "tasks": ("Open tasks", ("Ref", "Due", "Task", "Assignee"), "No open tasks: t plans one."),
    "timeline": (
        "Timeline",
        ("When", "Kind", "By", "Text"),
        "Nothing on the timeline: n logs a note, call, email or meeting.",
    ),
}


class CustomerDetailScreen(CrmScreen):
    """One customer and everything about it. Tab moves between its sections; Enter
    opens the row under the cursor, and the section's own keys act on it."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="customer.back"),
        Binding("e", "edit", "Edit", id="customer.edit", tooltip="Change the customer's fields"),
        Binding("n", "log", "Note/call", id="customer.note", tooltip="Log a note, call, email or meeting"),
        Binding("t", "task", "Task", id="customer.task", tooltip="Plan a task about this customer"),
        Binding("c", "contact", "Contact", id="customer.contact", tooltip="Add a contact"),
        Binding("d", "deal", "Deal", id="customer.deal", tooltip="A new deal with this customer"),
        Binding("k", "ticket", "Ticket", id="customer.ticket", tooltip="Open a ticket for this customer"),
        Binding(
            "enter",
            "edit_contact",
            "Edit contact",
            id="customer.contact_edit",
            tooltip="Change the contact's name, title, email or phones",
        ),
        Binding("x", "done", "Done", id="customer.task_done", tooltip="Mark the task done (ctrl+z undoes)"),
        Binding(
            "delete", "remove_contact", "Remove", id="customer.contact_remove", tooltip="Remove the contact"
        ),
        Binding("g", "tags", "Tags", id="customer.tags", tooltip="Add or remove tags"),
        Binding(
            "a",
            "archive",
            "Archive/restore",
            id="customer.archive",
            tooltip="Archive or restore (ctrl+z undoes)",
        ),
        Binding(
            "plus", "more", "More timeline", id="customer.more", show=False, tooltip="Show older entries"
        ),
    ]
    DEFAULT_CSS = """
    CustomerDetailScreen #centre {
        height: 1fr;
    }
    CustomerDetailScreen .section {
        height: auto;
        max-height: 10;
    }
    CustomerDetailScreen .section-title {
        margin-top: 1;
        padding: 0;
    }
    """
    AUTO_FOCUS = "#contacts"
    # Keys that act on one section's row: they show only while that section has the cursor.
    SECTION_ACTIONS = {"done": "tasks", "remove_contact": "contacts", "edit_contact": "contacts"}

    def __init__(self, reference: str, centre: Centre | None = None) -> None:
        """``centre``, when the opener has read it already, is shown as the screen is
        mounted, before its first layout: one layout and one frame, with the data."""
        super().__init__()
        self.reference = reference
        self.customer: CustomerRead | None = None
        self.centre: Centre | None = None
        self.given = centre
        self.fresh = False  # read just before it shows: the first resume need not read it
        self.timeline_limit = 20
        self.keep = True  # sections keep their cursor's record when filled again
        self.titles: dict[str, str] = {}  # each section's title with its count
        self.wanted: dict[str, str] = {}  # a record just added, by section: the cursor goes to it
        self.acted: str | None = None  # the task marked done last

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="centre", can_focus=False):
            yield Static("Loading…", id="record", classes="record")
            for name, (title, columns, empty) in SECTIONS.items():
                yield Label(title, id=f"title-{name}", classes="title section-title")
                yield SectionTable(*columns, id=name, classes="section")
                yield Static(empty, id=f"empty-{name}", classes="hint")
        yield KeysFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        section = self.SECTION_ACTIONS.get(action)
        if section is not None:
            return self.focused is not None and self.focused.id == section
        return True

    def on_mount(self) -> None:
        if self.given is not None:
            self.show(self.given)
            self.given = None
        else:
            self.refresh_detail()  # now, rather than after the first frame
        self.fresh = True

    def open(self, centre: Centre) -> None:
        """Show another customer on this screen (built already, not shown now) as a new
        screen would: the cursor in the contacts, each section on its first row, the
        latest timeline entries, the page at its top."""
        self.reference = centre.detail.customer.ref
        self.timeline_limit = 20
        self.wanted, self.acted = {}, None
        self.set_focus(None)  # AUTO_FOCUS puts it in the contacts as the screen shows
        self.query_one("#centre", VerticalScroll).scroll_home(animate=False)
        self.show(centre, anew=True)
        self.fresh = True

    def on_screen_resume(self) -> None:
        # Sent on first display too (after on_mount or open, which showed the customer
        # as read just before), and after every dialog and record opened from here.
        if self.fresh:
            self.fresh = False
        else:
            self.refresh_detail()

    def records_changed(self) -> None:
        # After an undo the task marked done last may be back: the cursor goes to it.
        if self.acted is not None:
            self.wanted["tasks"], self.acted = self.acted, None
        self.refresh_detail()

    def refresh_detail(self) -> None:
        self.call(customer_centre, self.reference, self.timeline_limit, then=self.show, key="centre")

    def section(self, name: str) -> SectionTable:
        return self.query_one(f"#{name}", SectionTable)

    def show(self, centre: Centre, *, anew: bool = False) -> None:
        """Show ``centre``, each section's cursor on the record it was on (``anew``: on
        its first row, for another customer)."""
        self.centre = centre
        self.keep = not anew
        detail = centre.detail
        self.customer = c = detail.customer
        self.sub_title = f"{c.ref} {c.name}"
        self.query_one("#record", Static).update(record_text(c))
        self._fill(
            "contacts",
            [
                (p.ref, (p.ref, p.name, p.title or "", p.email or "", p.phone or "", p.mobile or ""))
                for p in detail.contacts
            ],
        )
        self._fill(
            "deals",
            [
                (
                    d.ref,
                    (
                        d.ref,
                        d.title,
                        d.stage,
                        money.format_amount(d.amount_minor, d.currency),
                        shown(d.expected_close),
                        d.owner or "",
                    ),
                )
                for d in centre.deals
            ],
            more=centre.more_deals,
        )
        self._fill(
            "tickets",
            [
                (t.ref, (t.ref, t.status.value, t.priority.value, t.subject, t.assignee or ""))
                for t in centre.tickets
            ],
            more=centre.more_tickets,
        )
        self._fill(
            "orders",
            [
                (
                    o.ref,
                    (
                        o.ref,
                        o.status,
                        money.format_amount(o.total_minor, o.currency),
                        shown(o.created_at.date()),
                        o.deal or "",
                    ),
                )
                for o in centre.orders
            ],
            more=centre.more_orders,
        )
        self._fill(
            "tasks", [(t.ref, (t.ref, due_text(t), t.title, t.assignee or "")) for t in detail.open_tasks]
        )
        self._fill(
            "timeline",
            [
                (a.ref, (shown(a.occurred_at), a.kind.value, a.author or "", entry_line(a)))
                for a in detail.timeline
            ],
            more=len(detail.timeline) >= self.timeline_limit,
            more_hint="+ shows older",
        )
        for name, reference in self.wanted.items():
            table = self.section(name)
            if reference in table.keys:
                table.go_to(reference)
                table.focus()
        self.wanted = {}
        self.refresh_bindings()

    def _fill(self, name: str, rows: list, *, more: bool = False, more_hint: str = "") -> None:
        self.section(name).show(rows, keep=self.keep)
        title, _columns, _empty = SECTIONS[name]
        count = f"{len(rows)}{'+' if more else ''}"
        hint = f" · {more_hint}" if more and more_hint else ""
        self.titles[name] = f"{title} ({count}){hint}"
        self._title(name)
        self.query_one(f"#empty-{name}", Static).display = not rows

    def _title(self, name: str) -> None:
        """A section's title, marked in text (not only in colour) while it has the cursor."""
        focused = self.focused is not None and self.focused.id == name
        mark = "▶ " if focused else "  "
        title = self.titles.get(name) or SECTIONS[name][0]
        self.query_one(f"#title-{name}", Label).update(escape(mark + title))

    def on_descendant_focus(self) -> None:
        for name in SECTIONS:
            self._title(name)
        if self.focused is not None and self.focused.id == "contacts":
            # The first section: the record above it comes into view with it.
            self.query_one("#centre", VerticalScroll).scroll_home(animate=False)

    # Opening a row

    @on(SectionTable.Selected)
    def open_row(self, event: SectionTable.Selected) -> None:
        table, key = event.table.id, event.key
        if table in ("deals", "tickets", "orders"):
            self.app.open_record(key)
        elif table == "contacts":
            self.edit_contact(key)
        elif table == "timeline" and self.centre is not None:
            entry = next((a for a in self.centre.detail.timeline if a.ref == key), None)
            if entry is not None:
                self.app.push_screen(EntryDialog(entry))
        elif table == "tasks":
            self.notify("x marks the task done.")

    # The customer

    def action_edit(self) -> None:
        if self.customer:
            self.app.push_screen(CustomerForm(self.customer), self._saved)

    def _saved(self, customer: CustomerRead | None) -> None:
        if customer is not None:
            self.notify(f"Saved {customer.ref}")

    def action_tags(self) -> None:
        if self.customer:
            self.app.push_screen(tags_form(self.customer), self._saved)

    def action_archive(self) -> None:
        if self.customer is None:
            return
        archived = self.customer.archived_at is not None
        step = customers.restore_customer if archived else customers.archive_customer

        def done(customer: CustomerRead) -> None:
            self.notify(undo_note("Restored" if archived else "Archived", customer.ref))
            self.refresh_detail()

        self.call(step, self.reference, then=done)

    # What hangs on it

    @property
    def named(self) -> str:
        """The customer as a dialog's title names it."""
        return self.customer.name if self.customer else self.reference

    def action_log(self) -> None:
        self.app.push_screen(entry_form(self.reference, self.named), self._added("timeline"))

    def action_more(self) -> None:
        self.timeline_limit += 50
        self.refresh_detail()

    def action_task(self) -> None:
        self.app.push_screen(task_form(self.reference, self.named), self._added("tasks"))

    def _added(self, section: str) -> Callable[[Any], None]:
        """What follows a new record of ``section``: a notice, and the cursor on it once shown."""

        def added(record: Any) -> None:
            if record is not None:
                self.notify(f"Added {record.ref}")
                self.wanted[section] = record.ref
                self.refresh_detail()

        return added

    def action_done(self) -> None:
        task = self.section("tasks").current
        if task is not None:
            self.acted = task
            set_done(self, task, True, lambda _: self.refresh_detail())

    def action_contact(self) -> None:
        self.app.push_screen(contact_form(self.reference, name=self.named), self._added("contacts"))

    def action_edit_contact(self) -> None:
        # Enter on a contact row opens it the same way (open_row); this is the palette's way.
        reference = self.section("contacts").current
        if reference is not None:
            self.edit_contact(reference)

    def edit_contact(self, reference: str) -> None:
        def opened(contact: ContactRead) -> None:
            self.app.push_screen(contact_form(self.reference, contact), self._saved_contact)

        self.call(contacts.get_contact, reference, then=opened)

    def _saved_contact(self, contact: ContactRead | None) -> None:
        if contact is not None:
            self.notify(f"Saved {contact.ref} {contact.name}")

    def action_remove_contact(self) -> None:
        reference = self.section("contacts").current
        if reference is None or self.centre is None:
            return
        contact = next(p for p in self.centre.detail.contacts if p.ref == reference)

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(
                    contacts.remove_contact,
                    reference,
                    then=lambda gone: (self.notify(f"Removed {gone.ref} {gone.name}"), self.refresh_detail()),
                )

        self.app.push_screen(Confirm(f"Remove contact {reference} {contact.name}?"), answered)

    def action_deal(self) -> None:
        from crm_tui.screens.deal_forms import deal_form  # the pipeline's form, loaded when asked for

        self.app.push_screen(deal_form(customer=self.reference), self._added("deals"))

    def action_ticket(self) -> None:
        from crm_tui.screens.tickets import ticket_form  # the tickets' form, loaded when asked for

        self.app.push_screen(ticket_form(customer=self.reference), self._added("tickets"))


def record_text(c: CustomerRead) -> str:
    """The customer's own fields as lines of markup (the values escaped)."""
    kind = f"{c.kind.value}, {c.lifecycle.value}"
    archived = "  [reverse] archived [/reverse]" if c.archived_at else ""
    lines = [
        f"[b]{escape(c.name)}[/b]  {c.ref}  {kind}{archived}",
        escape(" · ".join(x for x in (c.company, c.email, c.phone, c.website) if x)),
        escape(" · ".join(x for x in (c.street, c.postcode, c.city, c.country) if x)),
        escape(
            f"Owner: {c.owner or '-'}   Segment: {c.segment or '-'}   Industry: {c.industry or '-'}   "
            f"Tags: {', '.join(c.tags) or '-'}"
        ),
        escape(f"Custom fields: {shown_custom(c.custom)}") if c.custom else "",
    ]
    return "\n".join(line for line in lines if line.strip())


def entry_line(entry: ActivityRead) -> str:
    """A timeline entry on one line: its subject and the start of its text."""
    text = " — ".join(x for x in (entry.subject, " ".join(entry.body.split())) if x)
    return text[:120]


class EntryDialog(CrmModal[None]):
    """A timeline entry whole."""

    BINDINGS = [Binding("escape,enter", "close", "Close", id="entry.close")]

    def __init__(self, entry: ActivityRead) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        a = self.entry
        with VerticalScroll(classes="dialog"):
            yield Label(
                f"{a.kind.value.capitalize()} {a.ref} · {shown(a.occurred_at)} · {a.author or ''}",
                classes="title",
            )
            if a.subject:
                yield Static(Text(a.subject, style="bold"))
            yield Static(Text(a.body))
            yield Static("Esc closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)


# Forms


class RecordForm(FormDialog):
    """A form the logic may refuse as a likely duplicate, then offering Save anyway, or
    as a stale edit, then offering Reload: the stored record under the user's changes.

    ``save`` gets the crm, the values, whether to save a likely duplicate anyway, and the
    version the edit is based on. ``fetch`` reads the stored record as (version, values).
    """

    DEFAULT_CSS = """
    RecordForm #refusal-hint {
        width: 1fr;
        height: auto;
    }
    """

    def __init__(
        self,
        title: str,
        fields: list[Field],
        save: Callable[[Crm, dict[str, str], bool, int | None], Any],
        *,
        values: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        version: int | None = None,
        fetch: Callable[[Crm], tuple[int, dict[str, str]]] | None = None,
    ) -> None:
        super().__init__(
            title,
            fields,
            lambda crm, typed: save(crm, typed, self.force, self.version),
            values=values,
            labels=labels,
        )
        self.force = False
        self.version = version
        self.fetch = fetch

    def on_mount(self) -> None:
        # Runs besides FormDialog's own; the choices sit under the error they answer.
        choices = Horizontal(
            Static("", id="refusal-hint", classes="hint"),
            Button("Save anyway", id="force", variant="warning"),
            Button("Reload", id="reload", variant="warning"),
            id="refusal-choices",
            classes="buttons",
        )
        choices.display = False
        self.query_one(".form").mount(choices, after="#form-error")

    def refused(self, error: CrmError) -> None:
        super().refused(error)
        self.force = False  # saving anyway answers one refusal, not the next
        force, reload = self.query_one("#force", Button), self.query_one("#reload", Button)
        force.display = isinstance(error, Duplicate)
        reload.display = isinstance(error, Conflict) and self.fetch is not None
        choices = self.query_one("#refusal-choices")
        choices.display = force.display or reload.display
        if force.display:
            self._offer(force, "Enter saves it anyway, keeping both; or change what was typed.")
        elif reload.display:
            self._offer(reload, "Enter reloads the stored record; what you changed stays on top.")

    def _offer(self, button: Button, hint: str) -> None:
        """The way past a refusal, under the cursor: one key away, and said in words."""
        self.query_one("#refusal-hint", Static).update(hint)
        button.focus()
        self.query_one("#refusal-choices").scroll_visible()

    def _hide_choices(self) -> None:
        self.query_one("#refusal-choices").display = False

    @on(Button.Pressed, "#force")
    def save_anyway(self) -> None:
        self.force = True
        self._hide_choices()
        self.action_save()

    @on(Button.Pressed, "#reload")
    def reload(self) -> None:
        """Take the stored record as the new base, keeping what the user changed on top."""
        assert self.fetch is not None
        fetch = self.fetch
        mine = self.changed()

        def rebase(fresh: tuple[int, dict[str, str]]) -> None:
            version, values = fresh
            self.version = version
            for name, value in values.items():
                if name not in mine:
                    self.put(name, value)
            self.initial.update(values)
            self._clear_errors()
            self._hide_choices()
            self.notify(f"Reloaded (version {version}); your changes are kept. Save again.")

        self.call(fetch, then=rebase)

    def put(self, name: str, value: str) -> None:
        """Show ``value`` in a field of any kind."""
        widget = self.query_one(f"#field-{name}")
        if isinstance(widget, Select):
            widget.value = value if value else Select.BLANK
        elif isinstance(widget, PickField):
            widget.value, widget.label = value, value
        elif isinstance(widget, Input):
            widget.value = value


CUSTOMER_FIELDS = [
    Field("name", "Name", required=True),
    Field("kind", "Kind", kind="choice", choices=tuple(k.value for k in CustomerKind), required=True),
    Field("lifecycle", "Stage", kind="choice", choices=tuple(s.value for s in Lifecycle), required=True),
    Field("email", "Email"),
    Field("phone", "Phone"),
    Field("website", "Website"),
    Field("company", "Company (for a person)"),
    Field("owner", "Owner", kind="pick", source=active_users()),
    Field("segment", "Segment"),
    Field("street", "Street"),
    Field("postcode", "Postcode"),
    Field("city", "City"),
    Field("country", "Country", hint="an ISO code, like DE"),
    Field("industry", "Industry"),
    Field("tags", "Tags", hint="comma separated"),
    Field("custom", CUSTOM_LABEL, kind="lines"),
]


def customer_values(customer: CustomerRead) -> dict[str, str]:
    """A customer's fields as the form shows them."""
    values = {}
    for field in CUSTOMER_FIELDS:
        value = getattr(customer, field.name)
        if field.name == "tags":
            values["tags"] = ", ".join(value)
        elif field.name == "custom":
            values["custom"] = custom_lines(value)
        else:
            values[field.name] = "" if value is None else str(getattr(value, "value", value))
    return values


def tag_list(text: str) -> list[str]:
    """The tags typed, comma separated, each cleaned as stored; a bad one is refused beside the field."""
    try:
        return sorted({clean_tag(tag) for tag in text.split(",") if tag.strip()})
    except Invalid as error:
        raise Invalid(str(error), field="tags") from None


def change_tags(crm: Crm, reference: str, before: list[str], after: list[str]) -> None:
    """Add the tags that are new in ``after`` and remove the ones it left out."""
    added = [tag for tag in after if tag not in before]
    removed = [tag for tag in before if tag not in after]
    if added:
        customers.tag_customer(crm, reference, added)
    if removed:
        customers.untag_customer(crm, reference, removed)


class CustomerForm(RecordForm):
    """Add a customer, or edit one: only the fields changed are saved, tags included, and
    the customer is dismissed as stored afterwards (so every screen shows the new tags)."""

    def __init__(self, customer: CustomerRead | None = None, *, owner: str = "") -> None:
        """``owner``: who a new customer belongs to unless changed (the one adding it)."""
        self.customer = customer
        title = f"Edit {customer.ref} {customer.name}" if customer else "New customer"
        new = {"kind": "company", "lifecycle": "lead", "owner": owner}
        values = customer_values(customer) if customer else new
        super().__init__(
            title,
            CUSTOMER_FIELDS,
            self.store,
            values=values,
            version=customer.version if customer else None,
            fetch=self.stored if customer else None,
        )

    def stored(self, crm: Crm) -> tuple[int, dict[str, str]]:
        assert self.customer is not None
        fresh = customers.get_customer(crm, self.customer.ref)
        return fresh.version, customer_values(fresh)

    def store(self, crm: Crm, values: dict[str, str], force: bool, version: int | None) -> CustomerRead:
        tags = tag_list(values["tags"])
        if self.customer is None:
            given: dict[str, Any] = {k: v for k, v in values.items() if v.strip() and k != "tags"}
            given["custom"] = custom_changes("", values["custom"])
            data = validated(CustomerCreate, {**given, "name": values["name"], "tags": tags})
            return customers.add_customer(crm, data, force=force)
        reference = self.customer.ref
        changed = {k: v for k, v in values.items() if v != self.initial[k] and k != "tags"}
        if changed:
            update: dict[str, Any] = {**changed}
            if "custom" in changed:
                update["custom"] = custom_changes(self.initial["custom"], changed["custom"])
            saved = customers.update_customer(
                crm, reference, validated(CustomerUpdate, update), expected_version=version, force=force
            )
            # Saved: what follows is based on this version, even if the tags are refused.
            self.version = saved.version
            self.initial.update(changed)
        change_tags(crm, reference, tag_list(self.initial["tags"]), tags)
        return customers.get_customer(crm, reference)


def tags_form(customer: CustomerRead) -> FormDialog:
    """A customer's tags: type new ones, delete the ones to remove. Dismissed with the
    customer as stored."""
    before = list(customer.tags)

    def save(crm: Crm, values: dict[str, str]) -> CustomerRead:
        change_tags(crm, customer.ref, before, tag_list(values["tags"]))
        return customers.get_customer(crm, customer.ref)

    field = Field("tags", "Tags", hint="comma separated: add by typing, remove by deleting")
    return FormDialog(
        f"Tags of {customer.ref} {customer.name}", [field], save, values={"tags": ", ".join(before)}
    )


CONTACT_FIELDS = [
    Field("name", "Name", required=True),
    Field("title", "Title", hint="like Head of Purchasing"),
    Field("email", "Email"),
    Field("phone", "Phone"),
    Field("mobile", "Mobile"),
    Field("custom", CUSTOM_LABEL, kind="lines"),
]


def contact_values(contact: ContactRead) -> dict[str, str]:
    values = {field.name: getattr(contact, field.name) or "" for field in CONTACT_FIELDS}
    return values | {"custom": custom_lines(contact.custom)}


def contact_form(customer: str, contact: ContactRead | None = None, *, name: str = "") -> RecordForm:
    """Add a contact to ``customer`` (called ``name`` in the title), or edit ``contact``.
    Dismissed with the contact as stored, or None."""

    def save(crm: Crm, values: dict[str, str], force: bool, version: int | None) -> ContactRead:
        if contact is None:
            given: dict[str, Any] = {k: v for k, v in values.items() if v.strip()}
            given["custom"] = custom_changes("", values["custom"])
            data = validated(ContactCreate, {**given, "customer": customer, "name": values["name"]})
            return contacts.add_contact(crm, data, force=force)
        changed: dict[str, Any] = {k: v for k, v in values.items() if v != form.initial[k]}
        if not changed:
            return contact
        if "custom" in changed:
            changed["custom"] = custom_changes(form.initial["custom"], changed["custom"])
        return contacts.update_contact(
            crm, contact.ref, validated(ContactUpdate, changed), expected_version=version, force=force
        )

    def stored(crm: Crm) -> tuple[int, dict[str, str]]:
        assert contact is not None
        fresh = contacts.get_contact(crm, contact.ref)
        return fresh.version, contact_values(fresh)

    if contact is None:
        form = RecordForm(f"New contact at {name or customer}", CONTACT_FIELDS, save)
    else:
        form = RecordForm(
            f"Edit contact {contact.ref} {contact.name}",
            CONTACT_FIELDS,
            save,
            values=contact_values(contact),
            version=contact.version,
            fetch=stored,
        )
    return form


ENTRY_KINDS = tuple(kind.value for kind in ActivityKind if kind != ActivityKind.system)


def occurred(text: str) -> datetime | None:
    """When an entry happened, as typed (local time); empty is now."""
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            f"{text.strip()!r} is no time: use 2026-11-20 14:30, or leave it empty for now", field="when"
        ) from None


class EntryForm(FormDialog):
    """The timeline entry's form: room for a few lines of what happened."""

    DEFAULT_CSS = """
    EntryForm TextArea {
        height: 6;
    }
    """


def entry_form(customer: str, name: str = "") -> FormDialog:
    """Log a note, call, email or meeting on ``customer``'s timeline (``name`` in the
    title). Dismissed with the new entry, or None."""
    fields = [
        Field("body", "What happened", kind="lines"),
        Field("kind", "Kind", kind="choice", choices=ENTRY_KINDS, required=True),
        Field("subject", "Subject"),
        Field("when", "When", hint="empty for now, or 2026-11-20 14:30"),
    ]

    def save(crm: Crm, values: dict[str, str]) -> ActivityRead:
        data = validated(
            ActivityCreate,
            {
                "customer": customer,
                "kind": values["kind"],
                "subject": values["subject"] or None,
                "body": values["body"],
                "occurred_at": occurred(values["when"]),
            },
        )
        return timeline.add_activity(crm, data)

    return EntryForm(f"Log on {name or customer}", fields, save, values={"kind": "note"})
