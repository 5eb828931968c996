"""A ticket's conversation: public replies to the customer and internal notes for the team.

The first public reply is the ticket's first response (``sla``); a reply also moves a new
ticket to open, or any ticket to pending when it now waits on the customer.
"""

from __future__ import annotations

from datetime import datetime

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.refs import ref
from crm_tui.logic.service.schemas import TicketRead
from crm_tui.logic.service.sla import response_seconds, working_time
from crm_tui.logic.service.tickets import BODY_LIMIT, editable_ticket, on_timeline, read_one
from crm_tui.logic.service.workflow import move_status, status_fields
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import Ticket, TicketMessage
from crm_tui.storage.types import utcnow


def reply(
    crm: Crm,
    reference: str | int,
    body: str,
    *,
    pending: bool = False,
    expected_version: int | None = None,
) -> TicketRead:
    """A public reply; the first one is the first response. ``pending``: now waiting on the customer."""
    return _message(crm, reference, body, internal=False, pending=pending, expected_version=expected_version)


def note(crm: Crm, reference: str | int, body: str, *, expected_version: int | None = None) -> TicketRead:
    """An internal note for the team; it does not count as a response."""
    return _message(crm, reference, body, internal=True, pending=False, expected_version=expected_version)


def _message(
    crm: Crm,
    reference: str | int,
    body: str,
    *,
    internal: bool,
    pending: bool,
    expected_version: int | None,
) -> TicketRead:
    with crm.work("tickets.write") as work:
        ticket = editable_ticket(work, reference, expected_version)
        name = ref("ticket", ticket.id)
        if ticket.status == "closed":
            raise Invalid(f"{name} is closed; reopen it to write on it")
        text = clean_text(body, "message", required=True, limit=BODY_LIMIT, multiline=True)
        now = utcnow()
        before = status_fields(ticket)
        work.session.add(
            TicketMessage(ticket_id=ticket.id, internal=internal, body=text, author_id=work.actor.id, at=now)
        )
        if not internal:
            _respond(work, ticket, now, pending=pending)
        ticket.updated_at = now
        what = "Internal note" if internal else "Reply"
        on_timeline(work, ticket, f"{what} on {name} by {work.actor.username}: {text[:200]}")
        work.session.flush()
        changes = audit.diff(before, status_fields(ticket))
        changes["message"] = [None, text[:500]]
        work.audit("ticket", ticket.id, "note" if internal else "reply", changes)
        return read_one(work, ticket)


def _respond(work: Work, ticket: Ticket, now: datetime, *, pending: bool) -> None:
    """What a public reply does to the ticket: the first is its first response, and it
    moves to pending when asked, else from new to open."""
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.response_seconds = response_seconds(working_time(work.crm), ticket)
    if pending and ticket.status != "pending":
        move_status(work, ticket, "pending", now)
    elif ticket.status == "new":
        move_status(work, ticket, "open", now)
