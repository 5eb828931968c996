"""`crm ticket ...` and `crm sla ...`"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.batch import add_from
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import Limit, crm, page_size, refuse_mixed, supplied
from crm_tui.logic.core.vocabulary import Channel, Priority, TicketStatus, TicketType

app = typer.Typer(no_args_is_help=True, add_completion=False)
sla_app = typer.Typer(no_args_is_help=True, add_completion=False)


class ListedStatus(StrEnum):
    """What `ticket list --status` takes: a ticket status, or all of them."""

    new = TicketStatus.new.value
    open = TicketStatus.open.value
    pending = TicketStatus.pending.value
    resolved = TicketStatus.resolved.value
    closed = TicketStatus.closed.value
    all = "all"


def _due(ticket) -> str:
    """How long until the running clock's due time, or how far past it (by the clock
    crm stamps times with: the server's on PostgreSQL)."""
    from crm_tui.logic.service import tickets
    from crm_tui.logic.values.dates import duration_text

    if ticket.next_due is None:
        return ""
    if ticket.status == "pending":
        return "paused"
    left = (ticket.next_due - tickets.utcnow()).total_seconds()
    return f"{duration_text(left)} left" if left >= 0 else f"{duration_text(-left)} late"


COLUMNS = [
    ("ref", "Ref"),
    ("priority", "Priority"),
    ("status", "Status"),
    (_due, "SLA"),
    ("subject", "Subject"),
    ("customer_name", "Customer"),
    ("assignee", "Agent"),
]
DETAIL = [
    ("ref", "Ref"),
    ("subject", "Subject"),
    ("customer", "Customer"),
    ("customer_name", "Customer name"),
    ("contact", "Contact"),
    ("order", "Order"),
    ("type", "Type"),
    ("priority", "Priority"),
    ("channel", "Channel"),
    ("status", "Status"),
    ("assignee", "Agent"),
    ("created_at", "Opened"),
    ("first_response_due", "Response due"),
    ("first_response_at", "Responded"),
    ("resolution_due", "Resolution due"),
    ("breached", "Breached"),
    ("pending_since", "Pending since"),
    ("resolved_at", "Resolved"),
    ("resolution", "Resolution"),
    ("closed_at", "Closed"),
    ("merged_into", "Merged into"),
    ("satisfaction", "Satisfaction"),
    ("satisfaction_comment", "Comment"),
    ("custom", "Custom"),
    ("description", "Description"),
    ("version", "Version"),
]
Ref = Annotated[str, typer.Argument(help="Ticket reference, like T-678.", show_default=False)]
Expected = Annotated[
    int | None, typer.Option("--expected-version", help="Refuse unless the ticket is still at this version.")
]
Text = Annotated[str, typer.Argument(help="The text (- reads it from stdin).", show_default=False)]


def _text(value: str) -> str:
    import sys

    return sys.stdin.read() if value == "-" else value


def _done(ticket, fmt: Format, message: str) -> None:
    if fmt == Format.table:
        output.console().print(message, markup=False, highlight=False)
    else:
        output.print_record(ticket, fmt, DETAIL)


@app.command("add")
def add(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Argument(help="Customer reference, like C-12.")] = None,
    subject: Annotated[str | None, typer.Argument(help="What it is about.")] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="The customer's words.")] = "",
    type_: Annotated[
        TicketType, typer.Option("--type", help="complaint, service_request, question or incident.")
    ] = TicketType.question,
    priority: Annotated[Priority, typer.Option(help="low, normal, high or urgent.")] = Priority.normal,
    channel: Annotated[Channel, typer.Option(help="phone, email, in_person or other.")] = Channel.email,
    contact: Annotated[str | None, typer.Option(help="Who reported it (P-7).")] = None,
    order: Annotated[str | None, typer.Option(help="The order it is about (O-3).")] = None,
    assignee: Annotated[
        str | None, typer.Option("--assignee", "-a", help="Agent; default: by the assignment setting.")
    ] = None,
    field: output.CustomFields = None,
    from_file: Annotated[
        str | None, typer.Option("--from", help='JSON Lines (- for stdin), with "customer" and "subject".')
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Open a ticket (or many, with --from)."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.service import tickets
    from crm_tui.logic.service.schemas import TicketCreate

    if from_file is not None:
        refuse_mixed(
            from_file,
            customer=customer,
            subject=subject,
            description=description,
            contact=contact,
            order=order,
            assignee=assignee,
            field=field,
        )
        add_from(ctx, from_file, "ticket", fmt, COLUMNS)
        return
    if customer is None or subject is None:
        raise typer.BadParameter("give CUSTOMER and SUBJECT, or --from FILE", param_hint="CUSTOMER SUBJECT")
    given = {
        "customer": customer,
        "subject": subject,
        "description": description,
        "type": type_,
        "priority": priority,
        "channel": channel,
        "contact": contact,
        "order": order,
        "assignee": assignee,
        "custom": output.custom_fields(field),
    }
    created = tickets.add_ticket(crm(ctx), validated(TicketCreate, supplied(given)))
    agent = f", with {created.assignee}" if created.assignee else ", unassigned"
    _done(
        created,
        fmt,
        f"Opened {created.ref} ({created.priority}{agent}); "
        f"first response due {output.shown(created.first_response_due)}",
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        ListedStatus | None, typer.Option(help="One status, or all; default: waiting (new, open, pending).")
    ] = None,
    assignee: Annotated[
        str | None, typer.Option("--assignee", "-a", help="An agent, me, or none for unassigned.")
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Only this customer's tickets.")
    ] = None,
    priority: Annotated[Priority | None, typer.Option(help="Only this priority.")] = None,
    breached: Annotated[bool, typer.Option("--breached", help="Only tickets past a due time.")] = False,
    due_within: Annotated[
        str | None, typer.Option("--due-within", help="Only tickets due within this span, like 2h.")
    ] = None,
    limit: Limit = None,
    after: Annotated[str | None, typer.Option(help="Continue after this ticket.")] = None,
    fmt: Format = FormatOption,
) -> None:
    """The ticket queue, soonest due first."""
    from crm_tui.logic.service import tickets
    from crm_tui.logic.values.dates import parse_duration

    page = tickets.list_tickets(
        crm(ctx),
        status=status,
        assignee=assignee,
        customer=customer,
        priority=priority,
        breached=breached,
        due_within=parse_duration(due_within) if due_within else None,
        limit=page_size(ctx, limit),
        after=after,
    )
    output.print_records(page.tickets, fmt, COLUMNS)
    if page.next_after and fmt == Format.table:
        output.say(f"More: crm ticket list --after {page.next_after} (same filters)")
    elif not page.tickets and fmt == Format.table:
        output.say("No tickets.")


@app.command("show")
def show(ctx: typer.Context, ticket: Ref, fmt: Format = FormatOption) -> None:
    """Show a ticket with its conversation."""
    from crm_tui.logic.service import tickets

    detail = tickets.ticket_detail(crm(ctx), ticket)
    if fmt != Format.table:
        record = detail.ticket.model_dump(mode="json") | {
            "messages": [m.model_dump(mode="json") for m in detail.messages]
        }
        output.print_record(record, fmt)
        return
    output.print_record(detail.ticket, fmt, DETAIL)
    columns = [
        ("at", "When"),
        ("author", "By"),
        (lambda m: "internal note" if m.internal else "reply", "Kind"),
        ("body", "Text"),
    ]
    output.print_records(detail.messages, fmt, columns, "Conversation")


@app.command("reply")
def reply(
    ctx: typer.Context,
    ticket: Ref,
    text: Text,
    pending: Annotated[
        bool, typer.Option("--pending", help="Now waiting on the customer: stop the clock.")
    ] = False,
    expected_version: Expected = None,
    fmt: Format = FormatOption,
) -> None:
    """Reply to the customer; the first reply is the first response."""
    from crm_tui.logic.service import replies

    done = replies.reply(crm(ctx), ticket, _text(text), pending=pending, expected_version=expected_version)
    _done(done, fmt, f"Replied on {done.ref}; it is {done.status}")


@app.command("note")
def note(
    ctx: typer.Context, ticket: Ref, text: Text, expected_version: Expected = None, fmt: Format = FormatOption
) -> None:
    """Add an internal note for the team (not a response)."""
    from crm_tui.logic.service import replies

    done = replies.note(crm(ctx), ticket, _text(text), expected_version=expected_version)
    _done(done, fmt, f"Noted on {done.ref}")


@app.command("assign")
def assign(
    ctx: typer.Context,
    ticket: Ref,
    agent: Annotated[str, typer.Argument(help="A service agent, me, or none.", show_default=False)],
    expected_version: Expected = None,
    fmt: Format = FormatOption,
) -> None:
    """Give a ticket to an agent."""
    from crm_tui.logic.service import tickets

    who = None if agent.lower() == "none" else agent
    done = tickets.assign(crm(ctx), ticket, who, expected_version=expected_version)
    _done(done, fmt, f"{done.ref} is with {done.assignee}" if done.assignee else f"{done.ref} is unassigned")


@app.command("status")
def status(
    ctx: typer.Context,
    ticket: Ref,
    new_status: Annotated[TicketStatus, typer.Argument(help="open or pending.", show_default=False)],
    expected_version: Expected = None,
    fmt: Format = FormatOption,
) -> None:
    """Set a ticket open, or pending (waiting on the customer: the clock stops)."""
    from crm_tui.logic.service import tickets

    done = tickets.set_status(crm(ctx), ticket, new_status, expected_version=expected_version)
    _done(done, fmt, f"{done.ref} is {done.status}")


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    ticket: Ref,
    resolution: Annotated[str, typer.Option("--resolution", "-r", help="How it was resolved (required).")],
    expected_version: Expected = None,
    fmt: Format = FormatOption,
) -> None:
    """Resolve a ticket, saying how."""
    from crm_tui.logic.service import tickets

    done = tickets.resolve(crm(ctx), ticket, resolution, expected_version=expected_version)
    _done(
        done,
        fmt,
        f"Resolved {done.ref}"
        + (" (after its due time)" if done.resolved_at and done.resolved_at > done.resolution_due else ""),
    )


@app.command("close")
def close(
    ctx: typer.Context, ticket: Ref, expected_version: Expected = None, fmt: Format = FormatOption
) -> None:
    """Close a resolved ticket."""
    from crm_tui.logic.service import tickets

    done = tickets.close(crm(ctx), ticket, expected_version=expected_version)
    _done(done, fmt, f"Closed {done.ref}")


@app.command("reopen")
def reopen(
    ctx: typer.Context, ticket: Ref, expected_version: Expected = None, fmt: Format = FormatOption
) -> None:
    """Reopen a resolved ticket (a closed one: admins and managers)."""
    from crm_tui.logic.service import tickets

    done = tickets.reopen(crm(ctx), ticket, expected_version=expected_version)
    _done(done, fmt, f"Reopened {done.ref}")


@app.command("merge")
def merge(
    ctx: typer.Context,
    duplicate: Annotated[str, typer.Argument(help="The duplicate ticket.", show_default=False)],
    into: Annotated[str, typer.Option("--into", help="The ticket that stays.", show_default=False)],
    fmt: Format = FormatOption,
) -> None:
    """Merge a duplicate into another ticket: its conversation moves, it closes with a link."""
    from crm_tui.logic.service import tickets

    done = tickets.merge(crm(ctx), duplicate, into)
    _done(done, fmt, f"Merged into {done.ref}")


@app.command("rate")
def rate(
    ctx: typer.Context,
    ticket: Ref,
    score: Annotated[int, typer.Argument(help="Satisfaction, 1 to 5.", show_default=False)],
    comment: Annotated[str | None, typer.Option(help="The customer's words.")] = None,
    fmt: Format = FormatOption,
) -> None:
    """Record the customer's satisfaction with a resolved ticket."""
    from crm_tui.logic.service import tickets

    done = tickets.rate(crm(ctx), ticket, score, comment)
    _done(done, fmt, f"{done.ref} rated {done.satisfaction}/5")


SLA_COLUMNS = [
    ("priority", "Priority"),
    (lambda p: _minutes(p.first_response_minutes), "First response"),
    (lambda p: _minutes(p.resolution_minutes), "Resolution"),
]


def _minutes(value: int) -> str:
    from crm_tui.logic.values.dates import duration_text

    return duration_text(value * 60)


@sla_app.command("show")
def sla_show(ctx: typer.Context, fmt: Format = FormatOption) -> None:
    """The SLA targets per priority, and the clock they run on."""
    from crm_tui.logic.service import sla

    policies = sla.sla_policies(crm(ctx))
    output.print_records(policies, fmt, SLA_COLUMNS)
    if fmt == Format.table:
        settings = crm(ctx).settings
        clock = (
            f"business hours {settings.business_hours} on {settings.business_days}"
            if settings.business_hours
            else "calendar time"
        )
        output.say(f"The clock runs on {clock}; it stops while a ticket is pending.")


@sla_app.command("set")
def sla_set(
    ctx: typer.Context,
    priority: Annotated[Priority, typer.Argument(help="low, normal, high or urgent.", show_default=False)],
    first_response: Annotated[str | None, typer.Option("--first-response", help="Target, like 4h.")] = None,
    resolution: Annotated[str | None, typer.Option("--resolution", help="Target, like 2d.")] = None,
    fmt: Format = FormatOption,
) -> None:
    """Set a priority's targets (managers and admins); open tickets keep their due times."""
    from crm_tui.logic.service import sla
    from crm_tui.logic.values.dates import parse_duration

    done = sla.set_sla(
        crm(ctx),
        priority,
        first_response=parse_duration(first_response) if first_response else None,
        resolution=parse_duration(resolution) if resolution else None,
    )
    output.print_records([done], fmt, SLA_COLUMNS)
