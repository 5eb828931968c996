"""Tickets: the SLA clock (pauses, business hours), the workflow, assignment, merge, rating."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from crm_tui.logic.core import users
from crm_tui.logic.core.errors import Forbidden, Invalid
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.reports import audit_trail
from crm_tui.logic.service import replies, sla, tickets
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.logic.service.working_time import WorkingTime


@pytest.fixture
def desk(crm, clock):
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    for name in ("sue", "sam", "tia"):
        users.add_user(crm, UserCreate(username=name, role="service"))
    users.add_user(crm, UserCreate(username="sid", role="sales"))
    return crm


def open_ticket(crm, subject="Broken", priority="normal", **more):
    return tickets.add_ticket(crm, TicketCreate(customer="C-1", subject=subject, priority=priority, **more))


def test_due_times_come_from_the_priority_policy(desk, clock):
    ticket = open_ticket(desk, priority="high")  # 4h to respond, 24h to resolve
    assert ticket.first_response_due == clock.now + timedelta(hours=4)
    assert ticket.resolution_due == clock.now + timedelta(hours=24)
    assert (ticket.status, ticket.breached, ticket.next_due) == ("new", False, ticket.first_response_due)


def test_the_first_public_reply_is_the_first_response(desk, clock):
    ticket = open_ticket(desk)
    clock.advance(hours=1)
    replies.note(desk, ticket.ref, "looking into it")
    assert tickets.get_ticket(desk, ticket.ref).first_response_at is None
    clock.advance(minutes=30)
    answered = replies.reply(desk, ticket.ref, "Fixed the setting, please try again")
    assert answered.first_response_at == clock.now
    assert (answered.status, answered.next_due) == ("open", answered.resolution_due)
    clock.advance(hours=1)
    assert replies.reply(desk, ticket.ref, "Any news?").first_response_at == answered.first_response_at


def test_pending_time_does_not_count(desk, clock):
    ticket = open_ticket(desk, priority="high")  # resolve within 24h
    clock.advance(hours=2)
    replies.reply(desk, ticket.ref, "Which invoice number?", pending=True)
    clock.advance(hours=30)  # the customer takes their time
    assert tickets.get_ticket(desk, ticket.ref).breached is False  # paused, not breached
    resumed = tickets.set_status(desk, ticket.ref, "open")
    assert resumed.resolution_due == ticket.resolution_due + timedelta(hours=30)
    clock.advance(hours=21)  # 2 + 21 = 23 hours of running time
    assert tickets.get_ticket(desk, ticket.ref).breached is False
    clock.advance(hours=2)
    assert tickets.get_ticket(desk, ticket.ref).breached is True


def test_a_ticket_breached_before_pausing_stays_breached(desk, clock):
    ticket = open_ticket(desk, priority="urgent")  # respond within 1h
    clock.advance(hours=2)
    tickets.set_status(desk, ticket.ref, "pending")
    clock.advance(hours=5)
    paused = tickets.get_ticket(desk, ticket.ref)
    assert paused.breached is True
    assert [t.ref for t in tickets.list_tickets(desk, breached=True).tickets] == [ticket.ref]


def test_business_hours_count_only_working_time(desk, clock):
    desk.settings.business_hours = "09:00-17:00"
    desk.settings.business_days = "mon-fri"
    desk.settings.timezone = "UTC"
    clock.now = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday 15:00
    ticket = open_ticket(desk, priority="high")  # 4h: 2h on Friday, 2h on Monday
    assert ticket.first_response_due == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    assert ticket.resolution_due == datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 24 working hours later
    clock.now = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    replies.reply(desk, ticket.ref, "Waiting for your logs", pending=True)
    clock.now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # Monday 10:00: 2 working hours paused
    resumed = tickets.set_status(desk, ticket.ref, "open")
    assert resumed.resolution_due == datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "seconds", "end"),
    [
        (datetime(2026, 11, 27, 16, 30, tzinfo=UTC), 3600, datetime(2026, 11, 30, 9, 30, tzinfo=UTC)),
        (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), 60, datetime(2026, 11, 30, 9, 1, tzinfo=UTC)),  # Saturday
        (datetime(2026, 11, 30, 7, 0, tzinfo=UTC), 8 * 3600, datetime(2026, 11, 30, 17, 0, tzinfo=UTC)),
        (datetime(2026, 11, 30, 17, 0, tzinfo=UTC), 1, datetime(2026, 12, 1, 9, 0, 1, tzinfo=UTC)),
    ],
)
def test_working_time_arithmetic(start, seconds, end):
    clock = WorkingTime.from_settings("09:00-17:00", "mon-fri", "UTC")
    assert clock.add(start, seconds) == end
    assert clock.between(start, end) == seconds


def test_business_hours_follow_daylight_saving(clock):
    berlin = WorkingTime.from_settings("09:00-17:00", "mon-sun", "Europe/Berlin")
    before = datetime(2026, 10, 24, 14, 0, tzinfo=UTC)  # Saturday 16:00 CEST
    after = berlin.add(before, 2 * 3600)  # 1h Saturday, 1h Sunday from 09:00 CET = 08:00 UTC
    assert after == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"business_hours": "9-5"}, 'must look like "09:00-17:00"'),
        ({"business_hours": "17:00-09:00"}, "must end after they start"),
        ({"business_hours": "09:00-17:00", "business_days": "weekdays"}, "business_days must look like"),
        ({"business_hours": "09:00-17:00", "timezone": "Mars/Olympus"}, "not a known IANA zone"),
    ],
)
def test_bad_business_hours_are_named(desk, settings, message, counts):
    for key, value in settings.items():
        setattr(desk.settings, key, value)
    before = counts()
    with pytest.raises(Invalid, match=message):
        open_ticket(desk)
    assert counts() == before


def test_the_workflow_allows_only_its_moves(desk, clock):
    ticket = open_ticket(desk)
    with pytest.raises(Invalid, match="resolve it before closing"):
        tickets.close(desk, ticket.ref)
    with pytest.raises(Invalid, match="a resolution is required"):
        tickets.resolve(desk, ticket.ref, "  ")
    with pytest.raises(Invalid, match="use `crm ticket resolve`"):
        tickets.set_status(desk, ticket.ref, "resolved")
    with pytest.raises(Invalid, match="rate it once it is resolved"):
        tickets.rate(desk, ticket.ref, 5)
    tickets.resolve(desk, ticket.ref, "Reset the password")
    with pytest.raises(Invalid, match="resolved; it can go to closed, open, not pending"):
        tickets.set_status(desk, ticket.ref, "pending")
    with pytest.raises(Invalid, match="1 to 5"):
        tickets.rate(desk, ticket.ref, 6)
    assert tickets.rate(desk, ticket.ref, 5, "quick!").satisfaction == 5
    closed = tickets.close(desk, ticket.ref)
    assert closed.status == "closed" and closed.closed_at == clock.now
    with pytest.raises(Invalid, match="reopen it to write on it"):
        replies.reply(desk, ticket.ref, "hello?")


def test_only_leads_reopen_a_closed_ticket(desk, as_user):
    ticket = open_ticket(desk)
    tickets.resolve(desk, ticket.ref, "done")
    sue = as_user("sue")
    assert tickets.reopen(sue, ticket.ref).status == "open"  # resolved: anyone may
    tickets.resolve(desk, ticket.ref, "done again")
    tickets.close(desk, ticket.ref)
    with pytest.raises(Forbidden, match="only an admin or a manager can reopen it"):
        tickets.reopen(sue, ticket.ref)
    reopened = tickets.reopen(desk, ticket.ref)
    assert (reopened.status, reopened.resolution, reopened.closed_at) == ("open", None, None)


def test_assignment_goes_to_service_agents_and_is_audited(desk):

    ticket = open_ticket(desk)
    with pytest.raises(Invalid, match="sid is sales; tickets go to users with the service role"):
        tickets.assign(desk, ticket.ref, "sid")
    tickets.assign(desk, ticket.ref, "sue")
    tickets.assign(desk, ticket.ref, "sam")
    entries = audit_trail.list_entries(desk, record=ticket.ref, limit=5)
    assert [(e.action, e.changes.get("assignee")) for e in entries[:2]] == [
        ("assign", ["sue", "sam"]),
        ("assign", [None, "sue"]),
    ]


def test_round_robin_spreads_tickets_evenly(desk):
    desk.settings.ticket_assignment = "round_robin"
    given = [open_ticket(desk, f"t{n}").assignee for n in range(9)]
    assert given == ["sam", "sue", "tia"] * 3


def test_least_open_follows_the_load(desk):
    desk.settings.ticket_assignment = "least_open"
    for _ in range(3):
        open_ticket(desk, assignee="sam")
    open_ticket(desk, assignee="sue")
    given = [open_ticket(desk, f"t{n}").assignee for n in range(5)]
    # tia has none, sue one, sam three: tia, then tia and sue alternate, sam last
    assert given == ["tia", "sue", "tia", "sue", "tia"]
    assert open_ticket(desk).assignee == "sam"  # now 3, 3, 3 + 1: by name on a tie


def test_merge_moves_the_conversation_and_closes_with_a_link(desk):
    first = open_ticket(desk, "Printer jammed")
    dup = open_ticket(desk, "Printer still jammed", description="Same as yesterday")
    replies.reply(desk, dup.ref, "Sending a technician")
    merged = tickets.merge(desk, dup.ref, first.ref)
    assert merged.ref == first.ref
    bodies = [m.body for m in tickets.ticket_detail(desk, first.ref).messages]
    assert bodies[0] == "Sending a technician"
    assert bodies[1].startswith(f"Merged {dup.ref} (Printer still jammed) into this ticket")
    closed = tickets.get_ticket(desk, dup.ref)
    assert (closed.status, closed.merged_into) == ("closed", first.ref)
    with pytest.raises(Invalid, match="was merged into T-1"):
        replies.reply(desk, dup.ref, "hello")
    with pytest.raises(Invalid, match="into itself"):
        tickets.merge(desk, first.ref, first.ref)


def test_replies_land_on_the_customer_timeline(desk):
    from crm_tui.logic.customers import timeline

    ticket = open_ticket(desk)
    replies.reply(desk, ticket.ref, "On it")
    bodies = [entry.body for entry in timeline.timeline(desk, "C-1")]
    assert bodies[0] == f"Reply on {ticket.ref} by alice: On it"
    assert bodies[1] == f"Opened {ticket.ref}: Broken"


def test_queues(desk, clock):
    late = open_ticket(desk, "late", priority="urgent")
    soon = open_ticket(desk, "soon", priority="high", assignee="sue")
    later = open_ticket(desk, "later", priority="low")
    clock.advance(hours=2)  # urgent: 1h to respond, now breached; high: 4h, 2h left
    assert [t.subject for t in tickets.list_tickets(desk).tickets] == ["late", "soon", "later"]
    assert [t.subject for t in tickets.list_tickets(desk, breached=True).tickets] == ["late"]
    assert [t.subject for t in tickets.list_tickets(desk, due_within=timedelta(hours=3)).tickets] == ["soon"]
    assert [t.ref for t in tickets.list_tickets(desk, assignee="none").tickets] == [late.ref, later.ref]
    assert [t.ref for t in tickets.list_tickets(desk, assignee="sue").tickets] == [soon.ref]
    page = tickets.list_tickets(desk, limit=2)
    rest = tickets.list_tickets(desk, limit=2, after=page.next_after)
    assert [t.ref for t in page.tickets + rest.tickets] == [late.ref, soon.ref, later.ref]


def test_tickets_belong_to_an_active_customer(desk, counts):
    other = customers.add_customer(desk, CustomerCreate(name="Other"))
    from crm_tui.logic.customers import contacts
    from crm_tui.logic.customers.schemas import ContactCreate

    stranger = contacts.add_contact(desk, ContactCreate(customer=other.ref, name="Stranger"))
    before = counts()
    with pytest.raises(Invalid, match=f"{stranger.ref} is not Acme's"):
        open_ticket(desk, contact=stranger.ref)
    customers.archive_customer(desk, other.ref)
    with pytest.raises(Invalid, match="archived"):
        tickets.add_ticket(desk, TicketCreate(customer=other.ref, subject="x"))
    assert {k: v for k, v in counts().items() if k != "activities" and k != "audit_entries"} == {
        k: v for k, v in before.items() if k != "activities" and k != "audit_entries"
    }


def test_sla_policies_are_set_by_leads(desk, as_user):
    with pytest.raises(Forbidden):
        sla.set_sla(as_user("sue"), "low", first_response=timedelta(hours=2), resolution=None)
    changed = sla.set_sla(desk, "low", first_response=timedelta(hours=2), resolution=timedelta(days=2))
    assert (changed.first_response_minutes, changed.resolution_minutes) == (120, 2880)
    with pytest.raises(Invalid, match="cannot be shorter"):
        sla.set_sla(desk, "low", first_response=timedelta(days=3), resolution=None)


def test_cli_ticket_flow_and_exit_codes(cli, desk, counts):
    opened = cli(
        "ticket",
        "add",
        "C-1",
        "Invoice wrong",
        "--type",
        "complaint",
        "--priority",
        "high",
        "-a",
        "sue",
        "-f",
        "json",
    )
    assert opened.exit_code == 0 and json.loads(opened.stdout)["assignee"] == "sue"
    before = counts()
    bad = cli("ticket", "resolve", "T-1", "--resolution", "")
    assert (bad.exit_code, bad.stderr) == (
        3,
        "crm: error: say how T-1 was resolved: a resolution is required\n",
    )
    wrong = cli("ticket", "add", "C-1", "x", "--priority", "critical")
    assert wrong.exit_code == 2
    assert counts() == before
    assert cli("ticket", "reply", "T-1", "-", "--pending", input="Which invoice?\n").exit_code == 0
    assert cli("ticket", "list", "--status", "pending", "-f", "ids").stdout == "T-1\n"
    assert cli("ticket", "list", "--due-within", "soon").exit_code == 3
    assert cli("ticket", "resolve", "T-1", "-r", "Credit note sent").exit_code == 0
    shown = json.loads(cli("ticket", "show", "T-1", "-f", "json").stdout)
    assert shown["status"] == "resolved" and shown["messages"][0]["body"] == "Which invoice?"
    assert cli("sla", "set", "urgent", "--first-response", "30m").exit_code == 0
    assert json.loads(cli("sla", "show", "-f", "json").stdout)[0]["first_response_minutes"] == 30


@pytest.mark.parametrize(
    ("status", "steps"),
    [
        ("new", {"open", "pending", "resolve"}),
        ("open", {"pending", "resolve"}),
        ("pending", {"open", "resolve"}),
        ("resolved", {"close", "reopen", "rate"}),
        ("closed", {"reopen", "rate"}),
    ],
)
def test_the_steps_open_to_a_ticket_follow_its_status(status, steps):
    from crm_tui.logic.service.workflow import open_steps

    assert open_steps(status) == steps
