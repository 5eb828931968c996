"""The spans each ticket keeps for the service report: set as the facts happen, on the
SLA clock, and filled by migration 0007 for tickets written before it."""

from __future__ import annotations

import functools
import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm_tui.logic.core import users
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.service import replies, sla, tickets
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.logic.service.working_time import WorkingTime
from crm_tui.storage import schema
from crm_tui.storage.database import Database
from crm_tui.storage.models import Ticket
from crm_tui.storage.types import UTCDateTime

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def desk(crm, clock):
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    users.add_user(crm, UserCreate(username="sue", role="service"))
    return crm


@pytest.fixture
def business_hours(desk):
    desk.settings.business_hours = "09:00-17:00"
    desk.settings.business_days = "mon-fri"
    desk.settings.timezone = "UTC"
    return desk


def open_ticket(crm, priority="normal"):  # normal: 8h to respond, 72h to resolve
    return tickets.add_ticket(crm, TicketCreate(customer="C-1", subject="Broken", priority=priority))


def spans(crm, ref) -> tuple:
    with crm.database.unit_of_work() as session:
        row = session.get(Ticket, int(ref.removeprefix("T-")))
        return row.response_seconds, row.resolution_seconds, row.met_sla


def test_a_new_ticket_has_no_spans(desk):
    assert spans(desk, open_ticket(desk).ref) == (None, None, None)


def test_the_first_public_reply_keeps_the_response_time(desk, clock):
    ticket = open_ticket(desk)
    clock.advance(minutes=40)
    replies.note(desk, ticket.ref, "looking")  # a note is no response
    assert spans(desk, ticket.ref) == (None, None, None)
    clock.advance(minutes=50)
    replies.reply(desk, ticket.ref, "Try again please")
    clock.advance(hours=3)
    replies.reply(desk, ticket.ref, "Any news?")  # only the first reply counts
    assert spans(desk, ticket.ref) == (90 * 60, None, None)


def test_resolving_keeps_the_working_time_less_the_time_pending(desk, clock):
    ticket = open_ticket(desk)
    clock.advance(hours=1)
    replies.reply(desk, ticket.ref, "Which invoice?", pending=True)
    clock.advance(hours=30)  # waiting on the customer
    tickets.set_status(desk, ticket.ref, "open")
    clock.advance(hours=2)
    tickets.set_status(desk, ticket.ref, "pending")
    clock.advance(hours=5)  # resolved straight from pending: this spell counts as paused too
    tickets.resolve(desk, ticket.ref, "Credited")
    assert spans(desk, ticket.ref) == (3600, 3 * 3600, True)


def test_met_sla_needs_both_due_times_met(desk, clock):
    late_reply = open_ticket(desk)
    no_reply = open_ticket(desk)
    late_resolution = open_ticket(desk)
    clock.advance(hours=1)
    replies.reply(desk, late_resolution.ref, "On it")
    clock.advance(hours=8)  # past the 8h response target
    replies.reply(desk, late_reply.ref, "Sorry for the wait")
    tickets.resolve(desk, late_reply.ref, "Fixed")
    tickets.resolve(desk, no_reply.ref, "Fixed on the phone")
    clock.advance(hours=64)  # 73h: past the 72h resolution target
    tickets.resolve(desk, late_resolution.ref, "Fixed at last")
    assert spans(desk, late_reply.ref) == (9 * 3600, 9 * 3600, False)
    assert spans(desk, no_reply.ref) == (None, 9 * 3600, False)
    assert spans(desk, late_resolution.ref) == (3600, 73 * 3600, False)


def test_reopening_clears_the_resolution_and_resolving_again_measures_anew(desk, clock):
    ticket = open_ticket(desk)
    clock.advance(minutes=10)
    replies.reply(desk, ticket.ref, "Done")
    tickets.resolve(desk, ticket.ref, "Done")
    assert spans(desk, ticket.ref) == (600, 600, True)
    clock.advance(days=1)
    tickets.reopen(desk, ticket.ref)
    assert spans(desk, ticket.ref) == (600, None, None)
    clock.advance(days=3)
    tickets.resolve(desk, ticket.ref, "Done, really")
    tickets.close(desk, ticket.ref)
    assert spans(desk, ticket.ref) == (600, 600 + 4 * 86400, False)
    tickets.reopen(desk, ticket.ref)  # alice is the first user, an admin
    assert spans(desk, ticket.ref) == (600, None, None)


def test_a_merge_keeps_each_tickets_own_spans(desk, clock):
    first = open_ticket(desk)
    resolved_duplicate = open_ticket(desk)
    pending_duplicate = open_ticket(desk)
    clock.advance(minutes=30)
    replies.reply(desk, first.ref, "On it")
    replies.reply(desk, resolved_duplicate.ref, "Same as the other")
    tickets.resolve(desk, resolved_duplicate.ref, "Duplicate")
    replies.reply(desk, pending_duplicate.ref, "Which one?", pending=True)
    clock.advance(hours=2)
    tickets.merge(desk, resolved_duplicate.ref, first.ref)
    tickets.merge(desk, pending_duplicate.ref, first.ref)
    assert spans(desk, first.ref) == (1800, None, None)
    assert spans(desk, resolved_duplicate.ref) == (1800, 1800, True)
    assert spans(desk, pending_duplicate.ref) == (1800, None, None)


def test_with_business_hours_the_spans_are_working_time(business_hours, clock):
    desk = business_hours
    clock.now = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday 15:00
    ticket = open_ticket(desk)
    clock.now = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    replies.reply(desk, ticket.ref, "Send us the logs", pending=True)  # 1.5 working hours
    clock.now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # Monday 10:00: 1.5 hours paused
    tickets.set_status(desk, ticket.ref, "open")
    clock.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    tickets.resolve(desk, ticket.ref, "Found it in the logs")
    # Friday 15:00-17:00 and Monday 09:00-12:00 worked: 5h, less 1.5h paused.
    assert spans(desk, ticket.ref) == (5400, int(3.5 * 3600), True)


def test_half_a_second_rounds_up(desk, clock):
    clock.now = MONDAY + timedelta(microseconds=250_000)
    ticket = open_ticket(desk)
    clock.now = MONDAY + timedelta(seconds=1, microseconds=750_000)  # 1.5 s
    replies.reply(desk, ticket.ref, "Quick")
    clock.now = MONDAY + timedelta(seconds=3, microseconds=749_999)  # 3.499999 s
    tickets.resolve(desk, ticket.ref, "Quicker")
    assert spans(desk, ticket.ref)[:2] == (2, 3)


# What each status may do next in the random walk below.
NEXT = {
    "new": ["reply", "pending reply", "note", "resolve", "pending"],
    "open": ["reply", "pending reply", "note", "resolve", "pending"],
    "pending": ["open", "resolve"],
    "resolved": ["reopen", "close"],
    "closed": ["reopen", "wait"],
}


def _act(crm, ref: str, action: str) -> None:
    if action in ("reply", "pending reply"):
        replies.reply(crm, ref, "hello", pending=action == "pending reply")
    elif action == "note":
        replies.note(crm, ref, "a note")
    elif action == "resolve":
        tickets.resolve(crm, ref, "done")
    elif action in ("open", "pending"):
        tickets.set_status(crm, ref, action)
    elif action == "reopen":
        tickets.reopen(crm, ref)
    elif action == "close":
        tickets.close(crm, ref)


def test_measuring_a_ticket_again_gives_the_spans_kept_live(desk, clock):
    """What migration 0007, the benchmark generator and the report's tests rely on."""
    rng = random.Random(11)
    made = [open_ticket(desk, rng.choice(["low", "normal", "high", "urgent"])).ref for _ in range(12)]
    for _ in range(150):
        clock.advance(minutes=rng.randint(1, 600), microseconds=rng.randrange(1_000_000))
        ref = rng.choice(made)
        _act(desk, ref, rng.choice(NEXT[tickets.get_ticket(desk, ref).status]))
    in_force = sla.working_time(desk)
    with desk.database.unit_of_work() as session:
        rows = session.execute(sa.select(Ticket)).scalars().all()
        kept = [(row.response_seconds, row.resolution_seconds, row.met_sla) for row in rows]
        measured = [tuple(sla.measure_spans(in_force, row)) for row in rows]
    assert kept == measured
    assert any(resolution for _, resolution, _ in kept) and any(met is False for *_, met in kept)


# Migration 0007

_tickets = sa.table(
    "tickets",
    *(sa.column(name) for name in ("id", "version", "customer_id", "subject", "description", "type",
                                   "priority", "channel", "status", "paused_seconds")),
    *(sa.column(name, UTCDateTime) for name in ("created_at", "updated_at", "first_response_due",
                                                "resolution_due", "first_response_at", "resolved_at")),
)  # fmt: skip
T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday


def _at(**span: float) -> datetime:
    return T0 + timedelta(**span)


# (first response, resolved, paused seconds, due in hours) -> the spans on calendar time
BEFORE_0007 = [
    ((None, None, 0, 8), (None, None, None)),
    ((_at(hours=1), None, 0, 8), (3600, None, None)),
    ((_at(hours=1), _at(hours=50), 7200, 72), (3600, 48 * 3600, True)),
    ((_at(hours=9), _at(hours=10), 0, 8), (9 * 3600, 10 * 3600, False)),  # a late response
    ((None, _at(hours=2), 0, 8), (None, 2 * 3600, False)),  # resolved without a reply
    ((_at(hours=1), _at(hours=2), 9000, 8), (3600, 0, True)),  # paused longer than it took: 0
    ((_at(seconds=1.5), _at(seconds=2.4999), 0, 8), (2, 2, True)),  # half a second rounds up
    ((_at(seconds=0.9996), _at(seconds=3, microseconds=999_600), 1, 8), (1, 3, True)),
]


def _old_database(url: str) -> Database:
    """A database at schema 0006 holding the tickets of BEFORE_0007, written as crm did."""
    database = Database(url)
    schema.upgrade(database, "0006")
    with database.connection(write=True) as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (version, username, display_name, role, active, created_at)"
                " VALUES (1, 'alice', 'Alice', 'admin', true, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO customers (version, name, name_key, kind, lifecycle, custom, created_at,"
                " updated_at) VALUES (1, 'Acme', 'acme', 'company', 'lead', '{}', CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP)"
            )
        )
        customer_id = conn.execute(sa.text("SELECT id FROM customers")).scalar_one()
        conn.execute(
            _tickets.insert(),
            [
                {"id": number, "version": 1, "customer_id": customer_id, "subject": f"T{number}",
                 "description": "", "type": "question", "priority": "normal", "channel": "email",
                 "status": "resolved" if resolved else "open", "paused_seconds": paused,
                 "created_at": T0, "updated_at": T0, "first_response_due": T0 + timedelta(hours=due),
                 "resolution_due": T0 + timedelta(hours=72), "first_response_at": responded,
                 "resolved_at": resolved}
                for number, ((responded, resolved, paused, due), _) in enumerate(BEFORE_0007, start=1)
            ],
        )  # fmt: skip
    return database


def _kept(database: Database) -> list[tuple]:
    """The spans as stored (SQLite's booleans are 0 and 1 to a plain query)."""
    with database.connection() as conn:
        rows = conn.execute(
            sa.text("SELECT response_seconds, resolution_seconds, met_sla FROM tickets ORDER BY id")
        )
        return [
            (response, resolution, None if met is None else bool(met)) for response, resolution, met in rows
        ]


def _measured(database: Database, clock: WorkingTime) -> list[tuple]:
    with database.connection() as conn:
        rows = conn.execute(sa.select(_tickets).order_by(_tickets.c.id)).all()
    return [tuple(sla.measure_spans(clock, row)) for row in rows]


@pytest.mark.never_opened
def test_migration_0007_fills_the_spans_on_calendar_time(db_url):
    database = _old_database(db_url)
    schema.upgrade(database)
    kept = _kept(database)
    assert kept == [spans for _, spans in BEFORE_0007]
    assert kept == _measured(database, WorkingTime())
    database.close()


@pytest.mark.never_opened
def test_migration_0007_measures_working_time_with_logics_clock(db_url):
    database = _old_database(db_url)
    clock = WorkingTime.from_settings("09:00-17:00", "mon-fri", "UTC")
    schema.upgrade(database, measure_spans=functools.partial(sla.measure_spans, clock))
    kept = _kept(database)
    assert kept == _measured(database, clock)
    # Friday 15:00 to the night after holds the 2 working hours to 17:00; to Sunday
    # 17:00 too, all of which were paused.
    assert kept[2:4] == [(3600, 0, True), (7200, 7200, False)]
    database.close()


@pytest.mark.never_opened
def test_migration_0007_goes_down_and_up_again(db_url):
    from alembic import command

    database = _old_database(db_url)
    schema.upgrade(database)
    with database.connection(write=True) as conn:
        command.downgrade(schema._alembic_config(conn), "0006")
    with database.connection() as conn:
        assert "met_sla" not in {column["name"] for column in sa.inspect(conn).get_columns("tickets")}
    schema.upgrade(database)
    assert len(_kept(database)) == len(BEFORE_0007)
    database.close()


@pytest.mark.never_opened
def test_crm_db_upgrade_measures_with_the_settings_business_hours(db_url):
    from crm_tui.config import load_settings
    from crm_tui.logic.admin.database import upgrade_database

    database = _old_database(db_url)
    database.close()
    settings = load_settings(db=db_url, user="alice")
    settings.business_hours, settings.business_days, settings.timezone = "09:00-17:00", "mon-fri", "UTC"
    upgrade_database(settings)
    database = Database(db_url)
    clock = WorkingTime.from_settings("09:00-17:00", "mon-fri", "UTC")
    assert _kept(database) == _measured(database, clock)
    assert _kept(database) != _measured(database, WorkingTime())  # the hours made a difference
    database.close()
