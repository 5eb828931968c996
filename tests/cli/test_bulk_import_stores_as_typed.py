"""Contacts, deals and tickets imported a batch at a time store exactly what adding them
one by one stores: at the same frozen moment, an imported record and one typed in have
the same columns, stage history, timeline and audit trail, all but their ids and titles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from sqlalchemy import text
from sqlmodel import col, select

from crm_tui.cli import GROUPS
from crm_tui.logic.core import users
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import contacts, customers
from crm_tui.logic.customers.schemas import ContactCreate, CustomerCreate
from crm_tui.logic.sales import deals
from crm_tui.logic.sales.schemas import DealCreate
from crm_tui.logic.service import tickets
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.storage.models import Activity, AuditEntry, Contact, Deal, DealStageChange, Ticket

MOMENT = datetime(2025, 6, 4, 10, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def wired(monkeypatch):
    monkeypatch.setitem(GROUPS, "import", ("crm_tui.cli.exchange:import_app", "Import."))


@pytest.fixture
def team(crm):
    users.add_user(crm, UserCreate(username="jane.doe", display_name="Jane Doe", role="sales"))
    users.add_user(crm, UserCreate(username="sam", display_name="Sam Agent", role="service"))
    customers.add_customer(crm, CustomerCreate(name="Acme GmbH", country="DE"))
    contacts.add_contact(crm, ContactCreate(customer="C-1", name="Ann Smith", email="ann@acme.example"))
    return crm


def _same_apart_from(text: Any, names: dict[str, str]) -> Any:
    """``text`` (any JSON value) with each of ``names`` written as its stand-in."""
    dumped = json.dumps(text, default=str, sort_keys=True)
    for name, stand_in in names.items():
        dumped = dumped.replace(name, stand_in)
    return json.loads(dumped)


def _stored(crm, model, entity: str, record_id: int, names: dict[str, str]) -> dict[str, Any]:
    """What crm keeps of one deal or ticket, ids and ``names`` left out."""
    link = col(Activity.deal_id) if model is Deal else col(Activity.ticket_id)
    with crm.work() as work:
        session = work.session
        record = session.get_one(model, record_id).model_dump(exclude={"id", "version"})
        moves = [
            change.model_dump(exclude={"id", "deal_id"})
            for change in session.exec(
                select(DealStageChange)
                .where(col(DealStageChange.deal_id) == record_id)
                .order_by(col(DealStageChange.id))
            )
        ]
        notes = [
            note.model_dump(exclude={"id", "deal_id", "ticket_id"})
            for note in session.exec(select(Activity).where(link == record_id).order_by(col(Activity.id)))
        ]
        trail = [
            entry.model_dump(exclude={"id", "entity_id"})
            for entry in session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.entity) == entity, col(AuditEntry.entity_id) == record_id)
                .order_by(col(AuditEntry.id))
            )
        ]
    return _same_apart_from({"record": record, "moves": moves, "notes": notes, "trail": trail}, names)


def _import(cli, tmp_path, kind: str, text: str) -> None:
    source = tmp_path / f"{kind}.csv"
    source.write_text(text, encoding="utf-8")
    with time_machine.travel(MOMENT, tick=False):
        result = cli("import", kind, str(source))
    assert result.exit_code == 0, result.stderr


def test_imported_contacts_are_stored_as_contacts_typed_in_to_the_audit_entry_s_text(team, tmp_path, cli):
    _import(
        cli, tmp_path, "contacts",
        "Name,Company,Job Title,Email,Phone,Mobile,Plan\n"
        "Jörg Müller,Acme GmbH,Einkäufer,jorg@acme.example,030 1234567,0170 3000001,Gold\n"
        "Bare Imported,Acme GmbH,,,,,\n",
    )  # fmt: skip
    with time_machine.travel(MOMENT, tick=False):
        contacts.add_contact(team, ContactCreate(
            customer="C-1", name="Jörg Möller", title="Einkäufer", email="jorg2@acme.example",
            phone="030 1234567", mobile="0170 3000001", custom={"Plan": "Gold"},
        ))  # fmt: skip
        contacts.add_contact(team, ContactCreate(customer="C-1", name="Bare Typed"))
    with team.work() as work:
        ids = {c.name + (c.email or ""): c.id for c in work.session.exec(select(Contact))}
        connection = work.session.connection()

        def kept(contact_id: int) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
            record = work.session.get_one(Contact, contact_id).model_dump(
                exclude={"id", "name", "name_key", "email"}
            )
            trail = connection.execute(
                text(
                    "SELECT at, actor_id, action, CAST(changes AS TEXT) FROM audit_entries "
                    "WHERE entity = 'contact' AND entity_id = :id ORDER BY id"
                ),
                {"id": contact_id},
            ).all()  # fmt: skip
            return record, [tuple(entry) for entry in trail]

        imported, typed = (
            kept(ids["Jörg Müllerjorg@acme.example"]),
            kept(ids["Jörg Möllerjorg2@acme.example"]),
        )
        assert imported[0] == typed[0]
        assert [entry[:3] for entry in imported[1]] == [entry[:3] for entry in typed[1]]
        # The changes as stored, character for character: the escaped umlauts included.
        as_typed = imported[1][0][3].replace("jorg@", "jorg2@").replace("M\\u00fcller", "M\\u00f6ller")
        assert as_typed == typed[1][0][3]
        assert "\\u00e4" in typed[1][0][3] and '"Plan": "Gold"' in typed[1][0][3]
        bare, bare_typed = kept(ids["Bare Imported"]), kept(ids["Bare Typed"])
        assert bare[0] == bare_typed[0]
        assert bare[1][0][3].replace("Imported", "Typed") == bare_typed[1][0][3]


def test_imported_deals_are_stored_as_deals_typed_in(team, tmp_path, cli):
    _import(
        cli, tmp_path, "deals",
        "Deal Name,Company,Stage,Amount,Currency,Close Date,Owner,Contact,Source,Product,Lost Reason\n"
        "Open one,Acme GmbH,Proposal,12500,EUR,2025-07-30,Jane Doe,ann@acme.example,Web,Seats,\n"
        "Won one,Acme GmbH,Closed Won,4800,GBP,,jane.doe,,,,\n"
        "Lost one,Acme GmbH,Closed Lost,99.5,EUR,,,,,,Went elsewhere\n",
    )  # fmt: skip
    with time_machine.travel(MOMENT, tick=False):
        typed = [
            deals.add_deal(team, DealCreate(
                customer="C-1", title="Open two", amount="12500", currency="EUR", stage="Proposal",
                expected_close="2025-07-30", owner="jane.doe", contact="P-1", source="Web",
                custom={"Product": "Seats"},
            )),
            deals.add_deal(team, DealCreate(customer="C-1", title="Won two", amount="4800", currency="GBP",
                                            owner="jane.doe")),
            deals.add_deal(team, DealCreate(customer="C-1", title="Lost two", amount="99.5", currency="EUR")),
        ]  # fmt: skip
        deals.win_deal(team, typed[1].ref)
        deals.lose_deal(team, typed[2].ref, "Went elsewhere")
    for imported, by_hand in ((1, 4), (2, 5), (3, 6)):
        got = _stored(team, Deal, "deal", imported, {f"D-{imported}": "D-n", " one": " N"})
        want = _stored(team, Deal, "deal", by_hand, {f"D-{by_hand}": "D-n", " two": " N"})
        assert got == want


def test_imported_tickets_are_stored_as_tickets_typed_in(team, tmp_path, cli):
    _import(
        cli, tmp_path, "tickets",
        "Subject,Company,Status,Priority,Type,Channel,Assignee,Requester,Resolution,Description,Plan\n"
        "Imported new,Acme GmbH,new,high,incident,phone,sam,ann@acme.example,,It broke,Gold\n"
        "Imported open,Acme GmbH,open,normal,question,email,,,,,\n"
        "Imported pending,Acme GmbH,pending,low,question,email,Sam Agent,,,,\n"
        "Imported resolved,Acme GmbH,resolved,urgent,complaint,email,sam,,Refunded,,\n"
        "Imported closed,Acme GmbH,closed,normal,question,email,,,Answered,,\n",
    )  # fmt: skip
    with time_machine.travel(MOMENT, tick=False):
        typed = [
            tickets.add_ticket(team, TicketCreate(
                customer="C-1", subject="Typed new", priority="high", type="incident", channel="phone",
                assignee="sam", contact="P-1", description="It broke", custom={"Plan": "Gold"},
            )),
            tickets.add_ticket(team, TicketCreate(customer="C-1", subject="Typed open")),
            tickets.add_ticket(team, TicketCreate(customer="C-1", subject="Typed pending", priority="low",
                                                  assignee="sam")),
            tickets.add_ticket(team, TicketCreate(customer="C-1", subject="Typed resolved", priority="urgent",
                                                  type="complaint", assignee="sam")),
            tickets.add_ticket(team, TicketCreate(customer="C-1", subject="Typed closed")),
        ]  # fmt: skip
        tickets.set_status(team, typed[1].ref, "open")
        tickets.set_status(team, typed[2].ref, "pending")
        tickets.resolve(team, typed[3].ref, "Refunded")
        tickets.resolve(team, typed[4].ref, "Answered")
        tickets.close(team, typed[4].ref)
    for imported in range(1, 6):
        by_hand = imported + 5
        got = _stored(team, Ticket, "ticket", imported, {f"T-{imported}": "T-n", "Imported": "X"})
        want = _stored(team, Ticket, "ticket", by_hand, {f"T-{by_hand}": "T-n", "Typed": "X"})
        assert got == want


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("round_robin", ["sam", "zoe", "sam", "zoe"]),
        # The fewest waiting tickets, by name on a tie: the resolved one leaves zoe free.
        ("least_open", ["sam", "zoe", "zoe", "sam"]),
    ],
)
def test_imported_tickets_find_agents_as_tickets_typed_in_one_after_another(
    team, tmp_path, cli, monkeypatch, mode, expected
):
    users.add_user(team, UserCreate(username="zoe", display_name="Zoe Agent", role="service"))
    monkeypatch.setenv("CRM_TICKET_ASSIGNMENT", mode)
    _import(
        cli, tmp_path, "tickets",
        "Subject,Company,Status,Resolution\nFirst,Acme GmbH,new,\nSecond,Acme GmbH,resolved,Done\n"
        "Third,Acme GmbH,new,\nFourth,Acme GmbH,open,\n",
    )  # fmt: skip
    assert [tickets.get_ticket(team, f"T-{n}").assignee for n in range(1, 5)] == expected
