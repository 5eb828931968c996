"""The ticket queue and a ticket's conversation, with every step of its workflow.

A new ticket is opened with ``ticket_form``, from the queue and from a customer's screen.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Label, Static

from crm_tui.display import shown
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.core.vocabulary import Channel, Priority, Role, TicketType
from crm_tui.logic.customers import customers
from crm_tui.logic.sales import orders
from crm_tui.logic.service import replies, tickets
from crm_tui.logic.service.schemas import TicketCreate, TicketRead
from crm_tui.logic.values.dates import duration_text
from crm_tui.screens.base import CrmScreen
from crm_tui.screens.widgets.choices import active_users, all_customers, contacts_of
from crm_tui.screens.widgets.dialogs import TextPrompt
from crm_tui.screens.widgets.forms import PICKS, SAVE_KEY, Choice, Field, FormDialog, PickField, Source

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm

PRIORITY_STYLE = {"urgent": "bold red", "high": "dark_orange", "normal": "", "low": "dim"}
VIEWS = {
    "1": ("waiting", {}),
    "2": ("mine", {"assignee": "me"}),
    "3": ("unassigned", {"assignee": "none"}),
    "4": ("breached", {"breached": True}),
    "5": ("resolved", {"status": "resolved"}),
}


def sla_text(ticket: TicketRead) -> str:
    """The running SLA clock for people: ``2h 5m left``, ``40m late`` or ``paused``."""
    if ticket.next_due is None:
        return ""
    if ticket.status == "pending":
        return "paused"
    left = (ticket.next_due - tickets.utcnow()).total_seconds()
    return f"{duration_text(left)} left" if left >= 0 else f"{duration_text(-left)} late"


def _matches(text: str, *parts: str) -> bool:
    """Whether every word typed is in one of the parts (any case)."""
    words = text.casefold().split()
    haystack = " ".join(parts).casefold()
    return all(word in haystack for word in words)


def orders_of(customer: str) -> Source:
    """A customer's orders, newest first, narrowed by reference, status or total."""

    def source(crm: Crm, text: str) -> list[Choice]:
        found, _ = orders.list_orders(crm, customer=customer, limit=PICKS)
        return [
            Choice(o.ref, o.ref, f"{o.status} · {o.total}")
            for o in found
            if _matches(text, o.ref, o.status, o.total)
        ]

    return source


# What a new ticket's choices start at: the logic's own defaults.
NEW_TICKET_DEFAULTS = {"type": TicketType.question, "priority": Priority.normal, "channel": Channel.email}


def open_ticket(customer: str | None, crm: Crm, values: dict[str, str]) -> TicketRead:
    """Open the ticket a form describes. An empty contact or order is none; an empty
    agent is left to the assignment setting."""
    data = validated(
        TicketCreate,
        {
            "customer": customer or values["customer"],
            "contact": values["contact"] or None,
            "subject": values["subject"],
            "description": values["description"],
            "type": values["type"],
            "priority": values["priority"],
            "channel": values["channel"],
            "assignee": values["assignee"] or None,
            "order": values["order"] or None,
        },
    )
    return tickets.add_ticket(crm, data)


class TicketForm(FormDialog):
    """A new ticket. The contact and order pickers offer the chosen customer's, so they
    wait until a customer is picked, and start over when another one is."""

    DEFAULT_CSS = """
    TicketForm TextArea {
        height: 6;
    }
    """
    FOLLOWING = {"contact": contacts_of, "order": orders_of}  # fields that offer one customer's records

    def __init__(self, customer: str | None = None) -> None:
        self.customer = customer
        fields = [
            *(
                []
                if customer
                else [Field("customer", "Customer", kind="pick", source=all_customers, required=True)]
            ),
            Field("contact", "Contact who reported it", kind="pick", source=contacts_of(customer or "")),
            Field("subject", "Subject", required=True),
            Field("description", "Description: the customer's words", kind="lines"),
            Field("type", "Type", kind="choice", choices=tuple(t.value for t in TicketType), required=True),
            Field(
                "priority", "Priority", kind="choice", choices=tuple(p.value for p in Priority), required=True
            ),
            Field(
                "channel", "Channel", kind="choice", choices=tuple(c.value for c in Channel), required=True
            ),
            Field(
                "assignee",
                "Agent (empty: chosen by the assignment setting)",
                kind="pick",
                source=active_users(Role.service),  # only service users take tickets
            ),
            Field("order", "Order it is about", kind="pick", source=orders_of(customer or "")),
        ]
        title = f"New ticket for {customer}" if customer else "New ticket"
        values = {name: str(value) for name, value in NEW_TICKET_DEFAULTS.items()}
        super().__init__(title, fields, partial(open_ticket, customer), values=values)

    def on_mount(self) -> None:
        # FormDialog's own on_mount runs too (Textual calls both): it focuses the first field.
        if self.customer:
            self.call(customers.get_customer, self.customer, then=self._name_customer)
        else:
            self._follow("")

    def _name_customer(self, customer) -> None:
        self.heading = f"New ticket for {customer.name} ({customer.ref})"
        title = f"{escape(self.heading)}  [dim]({SAVE_KEY} save · esc cancel)[/dim]"
        self.query_one(".title", Label).update(title)

    def on_pick_field_changed(self, event: PickField.Changed) -> None:
        if event.field.id == "field-customer":
            self._follow(event.field.value)

    def _follow(self, customer: str) -> None:
        """Offer ``customer``'s contacts and orders (none until one is picked)."""
        for name, source in self.FOLLOWING.items():
            widget = self.query_one(f"#field-{name}", PickField)
            widget.source = source(customer)
            widget.value = widget.label = ""
            widget.disabled = not customer


def ticket_form(customer: str | None = None) -> FormDialog:
    """The form for a new ticket: for ``customer`` when given, else for one picked.
    Dismissed with the opened ticket (a ``TicketRead``), or None when cancelled."""
    return TicketForm(customer)


class TicketsScreen(CrmScreen):
    """Tickets, soonest due first."""

    BINDINGS = [
        Binding("1", "view('1')", "Waiting", id="tickets.waiting"),
        Binding("2", "view('2')", "Mine", id="tickets.mine"),
        Binding("3", "view('3')", "Unassigned", id="tickets.unassigned"),
        Binding("4", "view('4')", "Breached", id="tickets.breached"),
        Binding("5", "view('5')", "Resolved", id="tickets.resolved"),
        Binding("r", "refresh", "Refresh", id="tickets.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = "1"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="queue-status", classes="hint")
        yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "Ref", "Priority", "Status", "SLA", "Subject", "Customer", "Agent"
        )

    def on_screen_resume(self) -> None:
        # Sent on first display too, so this is also the first load.
        self.action_refresh()

    def action_view(self, view: str) -> None:
        self.view = view
        self.action_refresh()

    def action_refresh(self) -> None:
        name, filters = VIEWS[self.view]
        self.call(
            tickets.list_tickets, limit=200, then=lambda page: self.show(name, page), key="queue", **filters
        )

    def show(self, name: str, page) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for t in page.tickets:
            style = PRIORITY_STYLE[t.priority.value]
            sla = Text(sla_text(t), style="bold red" if t.breached else "")
            table.add_row(
                t.ref,
                Text(t.priority.value, style=style),
                t.status.value,
                sla,
                t.subject,
                t.customer_name,
                t.assignee or "",
                key=t.ref,
            )
        more = " (more: narrow the view)" if page.next_after else ""
        self.query_one("#queue-status", Static).update(
            f"Tickets: {name}, {len(page.tickets)} shown{more}. Keys 1-5 change the view."
        )

    @on(DataTable.RowSelected)
    def open_ticket(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(TicketScreen(str(event.row_key.value)))


class TicketScreen(CrmScreen):
    """One ticket and its conversation."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="ticket.back"),
        Binding("r", "reply", "Reply", id="ticket.reply"),
        Binding("i", "note", "Internal note", id="ticket.note"),
        Binding("a", "assign", "Assign", id="ticket.assign"),
        Binding(
            "p", "pending", "Pending", id="ticket.pending", tooltip="Waiting on the customer: the clock stops"
        ),
        Binding("o", "open", "Open", id="ticket.open"),
        Binding("v", "resolve", "Resolve", id="ticket.resolve"),
        Binding("c", "close", "Close", id="ticket.close"),
    ]

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference
        self.ticket = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="ticket-head", classes="record")
        yield VerticalScroll(id="conversation")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.call(tickets.ticket_detail, self.reference, then=self.show)

    def show(self, detail) -> None:
        self.ticket = t = detail.ticket
        self.sub_title = f"{t.ref} {t.subject}"
        lines = [
            f"[b]{t.subject}[/b]  {t.ref}  {t.type.value}, "
            f"[{PRIORITY_STYLE[t.priority.value] or 'default'}]{t.priority.value}[/], {t.status.value}",
            f"{t.customer_name} ({t.customer}) via {t.channel.value} · agent {t.assignee or '(nobody)'}",
            f"SLA: {sla_text(t) or 'stopped'} · response due {shown(t.first_response_due)}"
            + (f", answered {shown(t.first_response_at)}" if t.first_response_at else "")
            + f" · resolution due {shown(t.resolution_due)}",
        ]
        if t.resolution:
            lines.append(f"Resolution: {t.resolution}")
        if t.description:
            lines.append(f"\n{t.description}")
        self.query_one("#ticket-head", Static).update("\n".join(lines))
        conversation = self.query_one("#conversation", VerticalScroll)
        conversation.remove_children()
        for message in detail.messages:
            kind = "internal note" if message.internal else "reply"
            conversation.mount(
                Static(
                    f"[b]{message.author}[/b] {kind}, {shown(message.at)}\n{message.body}",
                    classes="message internal" if message.internal else "message",
                )
            )
        if not detail.messages:
            conversation.mount(Static("No replies yet. Press r to reply.", classes="hint"))

    def _after(self, verb: str):
        return lambda t: (self.notify(f"{verb} {t.ref}; it is {t.status.value}"), self.reload())

    def _ask(self, title: str, question: str, step, verb: str, **options) -> None:
        def run(text: str | None) -> None:
            if text:
                self.call(step, self.reference, text, then=self._after(verb), **options)

        self.app.push_screen(TextPrompt(title, question), run)

    def action_reply(self) -> None:
        self._ask(f"Reply on {self.reference}", "Your reply to the customer", replies.reply, "Replied on")

    def action_note(self) -> None:
        self._ask(f"Internal note on {self.reference}", "For the team only", replies.note, "Noted on")

    def action_resolve(self) -> None:
        self._ask(f"Resolve {self.reference}", "How was it resolved? (required)", tickets.resolve, "Resolved")

    def action_assign(self) -> None:
        def run(name: str | None) -> None:
            if name:
                self.call(
                    tickets.assign,
                    self.reference,
                    None if name.lower() == "none" else name,
                    then=self._after("Assigned"),
                )

        self.app.push_screen(TextPrompt(f"Assign {self.reference}", "Agent's username (me, or none)"), run)

    def action_pending(self) -> None:
        self.call(tickets.set_status, self.reference, "pending", then=self._after("Paused"))

    def action_open(self) -> None:
        self.call(tickets.set_status, self.reference, "open", then=self._after("Opened"))

    def action_close(self) -> None:
        self.call(tickets.close, self.reference, then=self._after("Closed"))
