"""The ticket queue and a ticket's conversation, with every step of its workflow.

A new ticket is opened with ``ticket_form``, from the queue and from a customer's screen.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Header, Label, Static

from crm_tui.display import shown
from crm_tui.logic.core.errors import CrmError, Invalid
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.core.vocabulary import Channel, Priority, Role, TicketType
from crm_tui.logic.customers import customers
from crm_tui.logic.sales import orders
from crm_tui.logic.service import replies, tickets, workflow
from crm_tui.logic.service.schemas import TicketCreate, TicketRead
from crm_tui.logic.values.custom_fields import shown_custom
from crm_tui.logic.values.dates import duration_text
from crm_tui.screens.base import CrmScreen
from crm_tui.screens.record_table import RecordTable
from crm_tui.screens.widgets.choices import active_users, all_customers, contacts_of
from crm_tui.screens.widgets.dialogs import Confirm
from crm_tui.screens.widgets.forms import (
    PICKS,
    SAVE_KEY,
    Choice,
    Field,
    FormDialog,
    Picker,
    PickField,
    Source,
)
from crm_tui.screens.widgets.keys_footer import KeysFooter

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm

PRIORITY_STYLE = {"urgent": "bold red", "high": "dark_orange", "normal": "", "low": "dim"}

# The queue's views by key: name, what an empty one says, and the list's filters.
VIEWS = {
    "1": ("waiting", "No waiting tickets", {}),
    "2": ("mine", "No tickets of yours waiting", {"assignee": "me"}),
    "3": ("unassigned", "No unassigned tickets waiting", {"assignee": "none"}),
    "4": ("breached", "No breached tickets", {"breached": True}),
    "5": ("resolved", "No resolved tickets", {"status": "resolved"}),
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


def merge_targets(duplicate: str) -> Source:
    """The tickets a duplicate can be merged into: waiting or resolved ones (a closed
    one is refused by the merge), never the duplicate itself."""

    def source(crm: Crm, text: str) -> list[Choice]:
        found = [
            *tickets.list_tickets(crm, limit=200).tickets,
            *tickets.list_tickets(crm, status="resolved", limit=100).tickets,
        ]
        return [
            Choice(t.ref, t.subject, f"{t.ref} · {t.customer_name} · {t.status.value}")
            for t in found
            if t.ref != duplicate and _matches(text, t.ref, t.subject, t.customer_name)
        ][:PICKS]

    return source


def with_field(name: str, step, *args, **options):
    """Run a logic step; a refusal that names no field is shown beside ``name``."""
    try:
        return step(*args, **options)
    except CrmError as error:
        error.field = error.field or name
        raise


SCORES = ("1", "2", "3", "4", "5")

# What a reply leaves the ticket waiting on: us, or the customer (pending stops the clock).
ON_US, ON_CUSTOMER = "us: keep working on it", "the customer: pending, the clock stops"


def reply_form(ticket: TicketRead) -> FormDialog:
    """A reply to the customer, of as many lines as it takes."""

    def save(crm: Crm, values: dict[str, str]) -> TicketRead:
        pending = values["waiting_on"] == ON_CUSTOMER
        return replies.reply(crm, ticket.ref, values["message"], pending=pending)

    return MessageForm(
        f"Reply on {ticket.ref} to {ticket.customer_name}",
        [
            Field("message", "Your reply to the customer", kind="lines", required=True),
            Field(
                "waiting_on", "Then it waits on", kind="choice", choices=(ON_US, ON_CUSTOMER), required=True
            ),
        ],
        save,
        values={"waiting_on": ON_US},
    )


def note_form(ticket: TicketRead) -> FormDialog:
    """An internal note: for the team, not a response to the customer."""
    return MessageForm(
        f"Internal note on {ticket.ref}",
        [Field("message", "For the team only (the customer never sees it)", kind="lines", required=True)],
        lambda crm, values: replies.note(crm, ticket.ref, values["message"]),
    )


def resolve_form(ticket: TicketRead) -> FormDialog:
    """Resolving says how: the resolution is required."""
    return MessageForm(
        f"Resolve {ticket.ref}",
        [Field("resolution", "How was it resolved?", kind="lines", required=True)],
        lambda crm, values: tickets.resolve(
            crm, ticket.ref, values["resolution"], expected_version=ticket.version
        ),
    )


def assign_form(ticket: TicketRead) -> FormDialog:
    """Give the ticket to an active service agent, chosen from a list (empty: nobody).
    A refusal (the agent was deactivated meanwhile) shows beside the picker."""

    def save(crm: Crm, values: dict[str, str]) -> TicketRead:
        agent = values["assignee"] or None
        return with_field("assignee", tickets.assign, crm, ticket.ref, agent, expected_version=ticket.version)

    return FormDialog(
        f"Assign {ticket.ref}",
        [Field("assignee", "Agent (empty: nobody)", kind="pick", source=active_users(Role.service))],
        save,
        values={"assignee": ticket.assignee or ""},
    )


def rate_form(ticket: TicketRead) -> FormDialog:
    """The customer's satisfaction with a resolved ticket: a score and their words."""

    def save(crm: Crm, values: dict[str, str]) -> TicketRead:
        score = values["score"].strip()
        if score not in SCORES:
            raise Invalid(f"a score is a whole number, 1 to 5, not {score!r}", field="score")
        return tickets.rate(crm, ticket.ref, int(score), values["comment"] or None)

    return MessageForm(
        f"Rate {ticket.ref}",
        [
            Field("score", "Satisfaction, 1 (unhappy) to 5 (delighted)", required=True, hint="1 to 5"),
            Field("comment", "The customer's words", kind="lines"),
        ],
        save,
        values={
            "score": str(ticket.satisfaction or ""),
            "comment": ticket.satisfaction_comment or "",
        },
    )


class MessageForm(FormDialog):
    """A form with room for a message of several lines."""

    DEFAULT_CSS = """
    MessageForm TextArea {
        height: 8;
    }
    """


class TicketsScreen(CrmScreen):
    """Tickets, soonest due first. The cursor stays on its ticket through every reload
    (or moves to the neighbour when that ticket left the view)."""

    BINDINGS = [
        Binding("enter", "open", "Open", id="tickets.open", tooltip="Show the ticket and its conversation"),
        Binding("n", "new", "New ticket", id="tickets.new", tooltip="Open a ticket for a customer"),
        Binding("1", "view('1')", "Waiting", id="tickets.waiting", tooltip="New, open and pending tickets"),
        Binding("2", "view('2')", "Mine", id="tickets.mine", tooltip="Waiting tickets assigned to me"),
        Binding("3", "view('3')", "Unassigned", id="tickets.unassigned", tooltip="Waiting tickets of nobody"),
        Binding("4", "view('4')", "Breached", id="tickets.breached", tooltip="Tickets past a due time"),
        Binding("5", "view('5')", "Resolved", id="tickets.resolved", tooltip="Resolved, not yet closed"),
        Binding("r", "refresh", "Refresh", id="tickets.refresh", tooltip="Load the queue again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = "1"
        self.place: str | None = None  # the ticket the cursor goes to on the next load

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="queue-status", classes="hint")
        yield RecordTable("Ref", "Priority", "Status", "SLA", "Subject", "Customer", "Agent", id="queue")
        yield KeysFooter()

    @property
    def table(self) -> RecordTable:
        return self.query_one("#queue", RecordTable)

    def on_screen_resume(self) -> None:
        # Sent on first display too, so this is also the first load.
        self.action_refresh()

    def records_changed(self) -> None:
        self.action_refresh()

    def action_view(self, view: str) -> None:
        self.view = view
        self.table.show([])  # another view starts at its top
        self.action_refresh()

    def action_refresh(self) -> None:
        name, empty, filters = VIEWS[self.view]
        self.call(
            tickets.list_tickets,
            limit=200,
            then=lambda page: self.show(name, empty, page),
            key="queue",
            **filters,
        )

    def current(self) -> str | None:
        """The reference of the ticket under the cursor."""
        return self.table.current

    def show(self, name: str, empty: str, page) -> None:
        """The view's tickets, the cursor kept on its ticket (or on a new one, ``place``)."""
        rows = [
            (
                t.ref,
                (
                    t.ref,
                    Text(t.priority.value, style=PRIORITY_STYLE[t.priority.value]),
                    t.status.value,
                    Text(sla_text(t), style="bold red" if t.breached else ""),
                    t.subject,
                    t.customer_name,
                    t.assignee or "",
                ),
            )
            for t in page.tickets
        ]
        self.table.show(rows)
        if self.place:
            self.table.go_to(self.place)
            self.place = None
        refs = self.table.keys
        more = " (more: narrow the view)" if page.next_after else ""
        status = (
            f"Tickets: {name}, {len(refs)} shown{more}. 1-5 change the view · n new ticket · Enter opens."
            if refs
            else f"{empty}. 1-5 change the view · n new ticket."
        )
        self.query_one("#queue-status", Static).update(status)

    def action_open(self) -> None:
        reference = self.current()
        if reference:
            self.app.push_screen(TicketScreen(reference))

    @on(DataTable.RowSelected)
    def open_ticket(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(TicketScreen(str(event.row_key.value)))

    def action_new(self) -> None:
        def opened(ticket: TicketRead | None) -> None:
            if ticket is not None:
                agent = f"with {ticket.assignee}" if ticket.assignee else "unassigned"
                self.notify(f"Opened {ticket.ref} ({ticket.priority.value}, {agent})")
                self.place = ticket.ref
                self.action_refresh()

        self.app.push_screen(ticket_form(), opened)


class TicketScreen(CrmScreen):
    """One ticket and its conversation, with every step of its workflow. Status steps,
    resolve and close act at once and can be undone (ctrl+z); a merge asks first, as it
    cannot."""

    BINDINGS = [
        Binding("r", "reply", "Reply", id="ticket.reply", tooltip="Write to the customer"),
        Binding("i", "note", "Note", id="ticket.note", tooltip="An internal note for the team"),
        Binding("a", "assign", "Assign", id="ticket.assign", tooltip="Give the ticket to an agent"),
        Binding("v", "resolve", "Resolve", id="ticket.resolve", tooltip="Say how it was resolved"),
        Binding(
            "p", "pending", "Pending", id="ticket.pending", tooltip="Waiting on the customer: the clock stops"
        ),
        Binding("o", "open", "Open", id="ticket.open", tooltip="Waiting on us again: the clock runs"),
        Binding("c", "close", "Close", id="ticket.close", tooltip="Close a resolved ticket"),
        Binding("e", "reopen", "Reopen", id="ticket.reopen", tooltip="Reopen a resolved or closed ticket"),
        Binding("s", "rate", "Rate", id="ticket.rate", tooltip="The customer's satisfaction, 1 to 5"),
        Binding("m", "merge", "Merge", id="ticket.merge", tooltip="Merge this duplicate into another ticket"),
        Binding("g", "customer", "Customer", id="ticket.customer", tooltip="Show the ticket's customer"),
        Binding("escape", "app.pop_screen", "Back", id="ticket.back", tooltip="Back to the list"),
    ]

    # The workflow steps of the ticket's actions (workflow.open_steps names those open).
    STEPS = frozenset({"open", "pending", "resolve", "close", "reopen", "rate"})

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference
        self.ticket: TicketRead | None = None
        self.shown_messages = 0

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only the steps the ticket's status allows are offered (footer, F1, palette).
        if action not in self.STEPS or self.ticket is None:
            return True
        return action in workflow.open_steps(self.ticket.status.value)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="ticket-head", classes="record")
        yield VerticalScroll(id="conversation")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.reload()

    def records_changed(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.call(tickets.ticket_detail, self.reference, then=self.show, key="ticket")

    def show(self, detail) -> None:
        self.ticket = t = detail.ticket
        self.refresh_bindings()  # the steps open to the ticket now
        self.sub_title = f"{t.ref} {t.subject}"
        lines = [
            f"[b]{escape(t.subject)}[/b]  {t.ref}  {t.type.value}, "
            f"[{PRIORITY_STYLE[t.priority.value] or 'default'}]{t.priority.value}[/], {t.status.value}",
            f"{escape(t.customer_name)} ({t.customer}) via {t.channel.value}"
            + (f" · contact {t.contact}" if t.contact else "")
            + (f" · order {t.order}" if t.order else "")
            + f" · agent {t.assignee or '(nobody)'}",
            f"SLA: {sla_text(t) or 'stopped'} · response due {shown(t.first_response_due)}"
            + (f", answered {shown(t.first_response_at)}" if t.first_response_at else "")
            + f" · resolution due {shown(t.resolution_due)}",
        ]
        if t.merged_into:
            lines.append(f"Merged into {t.merged_into}: work goes on there.")
        elif t.resolution:
            lines.append(f"Resolution: {escape(t.resolution)}")
        if t.satisfaction:
            comment = f": {escape(t.satisfaction_comment)}" if t.satisfaction_comment else ""
            lines.append(f"Rated {t.satisfaction}/5{comment}")
        if t.custom:
            lines.append(escape(f"Custom fields: {shown_custom(t.custom)}"))
        if t.description:
            lines.append(f"\n{escape(t.description)}")
        self.query_one("#ticket-head", Static).update("\n".join(lines))
        conversation = self.query_one("#conversation", VerticalScroll)
        conversation.remove_children()
        for message in detail.messages:
            kind = "internal note" if message.internal else "reply"
            author = escape(message.author or "")
            conversation.mount(
                Static(
                    f"[b]{author}[/b] {kind}, {shown(message.at)}\n{escape(message.body)}",
                    classes="message internal" if message.internal else "message",
                )
            )
        if not detail.messages:
            conversation.mount(Static("No replies yet. Press r to reply.", classes="hint"))
        elif len(detail.messages) > self.shown_messages:
            conversation.call_after_refresh(conversation.scroll_end, animate=False)  # the newest one
        self.shown_messages = len(detail.messages)

    def _done(self, say) -> Callable[[TicketRead], None]:
        """After a step: say what happened, and show the ticket as it is now."""

        def then(ticket: TicketRead) -> None:
            self.notify(say(ticket))
            self.reload()

        return then

    def _failed(self, error: CrmError) -> None:
        # The ticket may have changed under us: show it as it is, with the reason.
        self.notify(str(error), title="Not done", severity="error", timeout=8)
        self.reload()

    def _step(self, step, say, *args, **options) -> None:
        """Take a workflow step on the ticket as shown (refused if it changed since)."""
        if self.ticket is None:
            return
        version = self.ticket.version
        self.call(
            step,
            self.reference,
            *args,
            expected_version=version,
            then=self._done(say),
            failed=self._failed,
            **options,
        )

    def _form(self, make, say) -> None:
        """Open one of the ticket's forms; when saved, say what happened."""
        if self.ticket is not None:
            self.app.push_screen(make(self.ticket), lambda done: done and self._done(say)(done))

    def action_reply(self) -> None:
        self._form(reply_form, lambda t: f"Replied on {t.ref}; it is {t.status.value}")

    def action_note(self) -> None:
        self._form(note_form, lambda t: f"Noted on {t.ref}")

    def action_assign(self) -> None:
        self._form(
            assign_form, lambda t: f"{t.ref} is with {t.assignee}" if t.assignee else f"{t.ref} is unassigned"
        )

    def action_resolve(self) -> None:
        self._form(resolve_form, lambda t: f"Resolved {t.ref} · ctrl+z undo")

    def action_rate(self) -> None:
        self._form(rate_form, lambda t: f"{t.ref} rated {t.satisfaction}/5")

    def action_pending(self) -> None:
        self._step(
            tickets.set_status, lambda t: f"{t.ref} is pending: the clock stops · ctrl+z undo", "pending"
        )

    def action_open(self) -> None:
        self._step(tickets.set_status, lambda t: f"{t.ref} is open: the clock runs · ctrl+z undo", "open")

    def action_close(self) -> None:
        self._step(tickets.close, lambda t: f"Closed {t.ref} · ctrl+z undo")

    def action_reopen(self) -> None:
        self._step(tickets.reopen, lambda t: f"Reopened {t.ref} · ctrl+z undo")

    def action_merge(self) -> None:
        """Pick the ticket this one duplicates, and merge after a yes: it cannot be undone."""
        duplicate = self.reference

        def merge(into: TicketRead) -> None:
            self.notify(f"Merged {duplicate} into {into.ref}")
            self.reference, self.shown_messages = into.ref, 0  # the work goes on there
            self.reload()

        def confirmed(into: Choice, yes: bool | None) -> None:
            if yes:
                self.call(tickets.merge, duplicate, into.value, then=merge, failed=self._failed)

        def picked(into: Choice | None) -> None:
            if into is not None:
                # Short lines: the question does not wrap in a dialog 64 columns wide.
                question = (
                    f"Merge {duplicate} into {into.value}?\n{escape(into.label)}\n"
                    f"Its conversation moves there and {duplicate} closes.\n"
                    "This cannot be undone."
                )
                self.app.push_screen(Confirm(question), partial(confirmed, into))

        self.app.push_screen(Picker(f"Merge {duplicate} into…", merge_targets(duplicate)), picked)

    def action_customer(self) -> None:
        if self.ticket is not None:
            self.app.open_record(self.ticket.customer)
