"""The status workflow of a ticket: which moves are allowed, and what each does to the clock.

Moves (anything else is refused):
    new -> open, pending, resolved          open -> pending, resolved
    pending -> open, resolved               resolved -> open (reopen), closed
    closed -> open (reopen, admins and managers only)
Entering pending stops the SLA clock and leaving it starts it again (``sla``). Resolving
needs a resolution text, and completes the ticket's spans.
"""

from __future__ import annotations

from datetime import datetime

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.refs import ref
from crm_tui.logic.service.sla import TicketState, met_sla, pause, resolution_seconds, resume, working_time
from crm_tui.storage.models import Ticket

MOVES = {
    "new": {"open", "pending", "resolved"},
    "open": {"pending", "resolved"},
    "pending": {"open", "resolved"},
    "resolved": {"open", "closed"},
    "closed": {"open"},
}


def open_steps(status: str) -> frozenset[str]:
    """The steps of the workflow a ticket in ``status`` can take, by the names of the
    desk's and the command line's steps: "open" (from new or pending), "pending",
    "resolve", "close", "reopen" (from resolved or closed), as MOVES allows them, and
    "rate" once it is resolved or closed."""
    moves = MOVES[status]
    finished = status in ("resolved", "closed")
    named = {"pending": "pending", "resolved": "resolve", "closed": "close"}
    steps = {named[move] for move in moves if move in named}
    if "open" in moves:
        steps.add("reopen" if finished else "open")
    if finished:
        steps.add("rate")
    return frozenset(steps)


def move_status(work: Work, ticket: TicketState, status: str, now: datetime) -> None:
    """Apply one allowed move of the workflow, starting or stopping the clock."""
    name = ref("ticket", ticket.id)
    if status == ticket.status:
        raise Invalid(f"{name} is already {status}")
    if status not in MOVES[ticket.status]:
        raise Invalid(
            f"{name} is {ticket.status}; it can go to {', '.join(sorted(MOVES[ticket.status]))}, not {status}"
        )
    if ticket.status == "pending":
        resume(work, ticket, now)
    if status == "pending":
        pause(ticket, now)
    ticket.status = status
    ticket.updated_at = now


def status_fields(ticket: TicketState) -> dict:
    """What a move of the workflow may change, as the audit trail compares it: every
    column, the clock's pause and the kept spans included, so that an undo can put back
    exactly what a move changed."""
    return {
        "status": ticket.status,
        "first_response_due": audit.plain(ticket.first_response_due),
        "resolution_due": audit.plain(ticket.resolution_due),
        "first_response_at": audit.plain(ticket.first_response_at),
        "pending_since": audit.plain(ticket.pending_since),
        "paused_seconds": ticket.paused_seconds,
        "resolved_at": audit.plain(ticket.resolved_at),
        "closed_at": audit.plain(ticket.closed_at),
        "resolution": ticket.resolution,
        "resolution_seconds": ticket.resolution_seconds,
        "met_sla": ticket.met_sla,
    }


def record_resolution(work: Work, ticket: TicketState, moment: datetime, text: str) -> None:
    """The resolution of a ticket just moved to resolved (which ended any pause), with
    the spans it completes."""
    ticket.resolved_at, ticket.resolution = moment, text
    ticket.resolution_seconds = resolution_seconds(working_time(work.crm), ticket)
    ticket.met_sla = met_sla(ticket)


def clear_resolution(ticket: Ticket) -> None:
    """A reopened ticket is not resolved or closed, and its spans are no longer complete."""
    ticket.resolved_at = ticket.closed_at = ticket.resolution = None
    ticket.resolution_seconds = ticket.met_sla = None
