"""On PostgreSQL crm stamps times by the server's clock, so that a team whose machines'
clocks differ keeps one order of events and one SLA clock; on SQLite, by this machine's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import create_engine, make_url, text

from crm_tui.config import load_settings
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.customers import customers, timeline
from crm_tui.logic.customers.schemas import ActivityCreate, CustomerCreate
from crm_tui.logic.service import tickets
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.storage import database

BEHIND = timedelta(hours=3)  # this machine's clock, set three hours slow


def _server_now(db_url: str) -> datetime:
    if not db_url.startswith("postgres"):
        return datetime.now(UTC)
    engine = create_engine(make_url(db_url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    finally:
        engine.dispose()


def test_records_are_stamped_by_the_database_s_clock_whatever_this_machine_s_says(db_url, monkeypatch):
    monkeypatch.setattr(database, "FOLLOW_SERVER_CLOCK", True)
    on_server = db_url.startswith("postgres")
    true_now = _server_now(db_url)
    with time_machine.travel(true_now - BEHIND, tick=True):
        crm = open_crm(load_settings(db=db_url, user="alice"))
        try:
            customer = customers.add_customer(crm, CustomerCreate(name="Acme GmbH"))
            note = timeline.add_activity(crm, ActivityCreate(customer=customer.ref, body="called"))
            ticket = tickets.add_ticket(crm, TicketCreate(customer=customer.ref, subject="Broken"))
        finally:
            crm.close()
    expected = true_now if on_server else true_now - BEHIND
    for stamped in (customer.created_at, note.occurred_at, ticket.created_at):
        assert abs(stamped - expected) < timedelta(minutes=1), (stamped, expected)
    assert ticket.created_at < ticket.first_response_due < ticket.created_at + timedelta(days=7)
