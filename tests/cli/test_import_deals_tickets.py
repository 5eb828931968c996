"""Importing deals and tickets from other CRMs' exports: the same rules as adding them
one by one, their history kept, and every bad row reported with its line and reason."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from crm_tui.cli import GROUPS
from crm_tui.logic.core import users
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import contacts, customers, search, timeline
from crm_tui.logic.customers.schemas import ContactCreate, CustomerCreate
from crm_tui.logic.exchange import cells, imports
from crm_tui.logic.reports import audit_trail
from crm_tui.logic.sales import deals
from crm_tui.logic.service import tickets
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.storage.models import Ticket
from tests.conftest import table_counts


@pytest.fixture(autouse=True)
def wired(monkeypatch):
    monkeypatch.setitem(GROUPS, "import", ("crm_tui.cli.exchange:import_app", "Import."))


@pytest.fixture
def team(crm):
    """Two sellers and an agent, as other tools name them; two customers and a contact."""
    users.add_user(crm, UserCreate(username="jane.doe", display_name="Jane Doe", role="sales"))
    users.add_user(crm, UserCreate(username="mike", display_name="Mike Brown", role="sales"))
    users.add_user(crm, UserCreate(username="sam", display_name="Sam Agent", role="service"))
    customers.add_customer(crm, CustomerCreate(name="Acme GmbH", country="DE"))
    customers.add_customer(crm, CustomerCreate(name="Beta Ltd", country="GB"))
    contacts.add_contact(crm, ContactCreate(customer="C-1", name="Ann Smith", email="ann@acme.example"))
    return crm


def _write(tmp_path, text: str, name: str = "in.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# Deals

HUBSPOT = (
    "Record ID,Deal Name,Deal Stage,Pipeline,Amount,Currency,Close Date,Deal Owner,"
    "Associated Company,Associated Contact,Create Date,Deal probability,Closed Lost Reason\n"
    '1,Acme 50 seats,Proposal,Sales,"12,500.00",EUR,2025-07-30,Jane Doe,Acme GmbH,ann@acme.example,'
    "2025-05-02 09:14,0.5,\n"
    "2,Beta renewal,Closed Won,sales,4800,GBP,2025-03-14,jane.doe@example.com,Beta Ltd,,2025-01-20T11:00Z,1,\n"
    '3,Acme pilot,Lost,Sales,"€ 2.300,50",,14.02.2025,MIKE,C-1,,01 Dec 2024,0,Went with a competitor\n'
)


def test_deals_from_a_hubspot_export(team, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("CRM_TIMEZONE", "UTC")
    monkeypatch.setenv("CRM_DEFAULT_CURRENCY", "EUR")  # for the row that names none
    result = cli("import", "deals", str(_write(tmp_path, HUBSPOT)))
    assert result.exit_code == 0, result.stderr
    assert "imported 3 deals from 3 rows: 0 updated, 0 duplicates skipped, 0 refused" in result.stderr
    assert (
        "kept as custom fields: Record ID; columns ignored: Deal probability (a deal's probability is its stage's)"
        in result.stderr
    )
    seats, renewal, pilot = (deals.get_deal(team, ref) for ref in ("D-1", "D-2", "D-3"))
    assert (seats.stage, seats.status, seats.amount_minor, seats.currency, seats.owner, seats.contact) == (
        "Proposal", "open", 1_250_000, "EUR", "jane.doe", "P-1"
    )  # fmt: skip
    assert (seats.expected_close, seats.created_at) == (date(2025, 7, 30), _utc(2025, 5, 2, 9, 14))
    assert (renewal.stage, renewal.status, renewal.amount_minor, renewal.currency, renewal.owner) == (
        "Won", "won", 480_000, "GBP", "jane.doe"
    )  # fmt: skip
    assert (renewal.closed_at, renewal.created_at) == (_utc(2025, 3, 14), _utc(2025, 1, 20, 11))
    assert (pilot.stage, pilot.status, pilot.lost_reason, pilot.amount_minor, pilot.owner) == (
        "Lost", "lost", "Went with a competitor", 230_050, "mike"
    )  # fmt: skip
    assert (pilot.closed_at, pilot.created_at, pilot.customer) == (
        _utc(2025, 2, 14),
        _utc(2024, 12, 1),
        "C-1",
    )
    # Closed the way `crm deal win` closes a deal, at the file's dates.
    history = deals.deal_detail(team, "D-2").history
    assert [(h.from_stage, h.to_stage, h.at) for h in history] == [
        (None, "Lead", _utc(2025, 1, 20, 11)),
        ("Lead", "Won", _utc(2025, 3, 14)),
    ]
    [won] = [entry for entry in timeline.timeline(team, "C-2") if entry.body.startswith("Won D-2")]
    assert won.occurred_at == _utc(2025, 3, 14)
    actions = [e.action for e in audit_trail.list_entries(team, record="D-2")]
    assert actions == ["import", "win", "create"]
    # The search index follows inserts.
    assert [hit.ref for hit in search.search(team, "renewal", kinds=["deal"])] == ["D-2"]


def _assert_reasons(stderr: str, rejects: Path, expected: dict[int, str]) -> None:
    """Every refused row is in the rejects file with its reason; stderr tells the first ten."""
    rows = list(csv.reader(rejects.open(encoding="utf-8")))[1:]
    assert {int(row[0]): row[1] for row in rows} == expected
    for line in sorted(expected)[:10]:
        assert f"line {line}: {expected[line]}\n" in stderr
    assert (f"... and {len(expected) - 10} more rows refused" in stderr) == (len(expected) > 10)


def test_a_deal_is_checked_like_one_typed_in(team, tmp_path, cli, counts):
    rows = [
        "Deal Name,Stage,Amount,Currency,Close Date,Owner,Company,Contact",
        "Fine,Lead,100,EUR,2025-01-01,mike,Acme GmbH,",  # 2
        "Unknown stage,Appointment Scheduled,1,EUR,,mike,Acme GmbH,",  # 3
        "Unknown owner,Lead,1,EUR,,Nobody Known,Acme GmbH,",  # 4
        "Bad amount,Lead,12 apples,EUR,,mike,Acme GmbH,",  # 5
        "Bad date,Lead,1,EUR,2025-02-30,mike,Acme GmbH,",  # 6
        "Ambiguous date,Lead,1,EUR,03/04/2025,mike,Acme GmbH,",  # 7
        "Bad currency,Lead,1,XYZ,,mike,Acme GmbH,",  # 8
        "Too precise,Lead,12.5,JPY,,mike,Acme GmbH,",  # 9
        "Negative,Lead,-5,EUR,,mike,Acme GmbH,",  # 10
        "No company,Lead,1,EUR,,mike,,",  # 11
        "Unknown company,Lead,1,EUR,,mike,Nowhere Inc,",  # 12
        ",Lead,1,EUR,,mike,Acme GmbH,",  # 13
        "Lost silently,Lost,1,EUR,2025-01-01,mike,Acme GmbH,",  # 14
        "Won later,Won,1,EUR,2099-01-01,mike,Acme GmbH,",  # 15
        "Strange contact,Lead,1,EUR,,mike,Acme GmbH,zed@acme.example",  # 16
        "Agent owner,Lead,1,EUR,,sam,Beta Ltd,",  # 17: a service user may own deals
        "Other's contact,Lead,1,EUR,,mike,Beta Ltd,P-1",  # 18
    ]
    result = cli("import", "deals", str(_write(tmp_path, "\n".join(rows) + "\n")))
    assert result.exit_code == 9
    expected = {
        3: "pipeline Sales has no stage 'Appointment Scheduled': its stages are Lead, Qualified, Proposal, "
        "Negotiation, Won, Lost (or map it with --stage 'Appointment Scheduled=STAGE')",
        4: "no user 'Nobody Known' (by username, name or email); add them with `crm user add` or pass --create-users",
        5: "invalid amount '12 apples': write it like 1234.50 or 1,234.50",
        6: "invalid close date '2025-02-30': write it like 2025-03-15, 15.03.2025, 03/15/2025 or 15 Mar 2025",
        7: "close date '03/04/2025' reads as day/month and as month/day: pass --date-order dmy or --date-order mdy",
        8: "invalid currency 'XYZ': use an ISO 4217 code such as EUR, USD or CHF",
        9: "amount 12.5 has more than 0 decimal places",
        10: "amount must not be negative",
        11: "no customer: the row names no company or customer; pass --default-customer NAME to keep such deals",
        12: "no active customer 'Nowhere Inc'; add it first or pass --create-customers",
        13: "title must not be empty",
        14: "a lost deal needs a reason: give a Lost Reason column or --lost-reason TEXT",
        15: "the closed date 2099-01-01 is in the future",
        16: "C-1 Acme GmbH has no contact 'zed@acme.example'",
        18: "P-1 is not a contact of C-2",
    }
    _assert_reasons(result.stderr, tmp_path / "in.rejected.csv", expected)
    rejected = list(csv.reader((tmp_path / "in.rejected.csv").open(encoding="utf-8")))
    assert [int(row[0]) for row in rejected[1:]] == sorted(expected)
    assert rejected[0][:3] == ["line", "reason", "Deal Name"]
    assert [d.title for d in deals.list_deals(team).deals] == ["Agent owner", "Fine"]


def test_maps_for_stages_pipelines_reasons_and_date_orders(team, tmp_path, cli):
    source = _write(
        tmp_path,
        "Opportunity Name,Stage,Pipeline,Amount,Close Date,Opportunity Owner,Account Name\n"
        "One,Appointment Scheduled,Sales Pipeline,100,03/04/2025,Mike Brown,Acme GmbH\n"
        "Two,closed-lost,Sales Pipeline,100,03/04/2025,Mike Brown,Acme GmbH\n",
    )
    result = cli(
        "import", "deals", str(source), "--stage", "Appointment Scheduled=qualified",
        "--pipeline", "sales pipeline=SALES", "--lost-reason", "not recorded", "--date-order", "mdy",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    one, two = deals.get_deal(team, "D-1"), deals.get_deal(team, "D-2")
    assert (one.stage, one.expected_close, one.owner) == ("Qualified", date(2025, 3, 4), "mike")
    assert (two.stage, two.lost_reason, two.expected_close) == ("Lost", "not recorded", date(2025, 3, 4))
    result = cli("import", "deals", str(source), "--date-order", "ymd")
    assert result.exit_code == 3 and "unknown date order 'ymd': choose dmy or mdy" in result.stderr
    result = cli("import", "deals", str(source), "--stage", "oops")
    assert result.exit_code == 2 and "expected FILE_STAGE=STAGE" in result.stderr


def test_unknown_owners_can_become_sales_users(team, tmp_path, cli, counts):
    source = _write(
        tmp_path,
        "Deal Name,Deal Owner,Company Name\nA,Ada Lovelace,Acme GmbH\nB,ada lovelace,Acme GmbH\n"
        "C,grace@navy.example,Acme GmbH\nD,李小龍,Acme GmbH\n",
    )
    before = counts()
    dry = cli("import", "deals", str(source), "--create-users", "--dry-run")
    assert dry.exit_code == 9 and "would import 3 deals" in dry.stderr
    assert "new users: ada.lovelace, grace@navy.example" in dry.stderr
    assert "line 5: no user '李小龍', and no username can be made of it" in dry.stderr
    assert counts() == before
    result = cli("import", "deals", str(source), "--create-users")
    assert result.exit_code == 9
    ada = users.get_user(team, "ada.lovelace")
    assert (ada.display_name, ada.role) == ("Ada Lovelace", "sales")
    assert [d.owner for d in deals.list_deals(team, sort="created", descending=False).deals] == [
        "ada.lovelace", "ada.lovelace", "grace@navy.example"
    ]  # fmt: skip
    # Adding users is for admins: a seller's run stops before any deal of the batch.
    before = counts()
    other = _write(
        tmp_path, "Deal Name,Deal Owner,Company Name\nE,Mike Brown,Acme GmbH\nF,New Person,Acme GmbH\n"
    )
    refused = cli("import", "deals", str(other), "--create-users", user="mike")
    assert refused.exit_code == 7 and "mike (sales) may not do this" in refused.stderr
    assert counts() == before


def test_the_same_deal_twice_is_skipped(team, tmp_path, cli):
    source = _write(
        tmp_path,
        "Deal Name,Company,Amount\nRepeat,Acme GmbH,lots\nRepeat,Acme GmbH,5\nREPEAT,Acme GmbH,6\n"
        "Repeat,Beta Ltd,7\n",
    )
    first = cli("import", "deals", str(source))
    assert first.exit_code == 9 and "line 2: invalid amount 'lots'" in first.stderr
    # A refused line does not hide the next one; a line that went in does.
    assert "line 4: skipped: line 3 has the same deal for C-1" in first.stderr
    assert sorted(d.amount for d in deals.list_deals(team).deals) == ["5.00", "7.00"]
    again = cli("import", "deals", str(source))
    assert "imported 0 deals from 4 rows: 0 updated, 4 duplicates skipped, 0 refused" in again.stderr
    assert re.search(r"line 3: skipped: D-\d+ 'Repeat' of C-1 exists", again.stderr)
    assert len(deals.list_deals(team).deals) == 2


def test_new_companies_on_request_and_a_deal_without_owner_is_the_importers(team, tmp_path, cli):
    source = _write(tmp_path, "Deal Name,Company,Amount\nFirst order,Gamma AG,99.90\n")
    assert cli("import", "deals", str(source)).exit_code == 9
    result = cli("import", "deals", str(source), "--create-customers")
    assert result.exit_code == 0, result.stderr
    deal = deals.get_deal(team, "D-1")
    assert (deal.customer_name, deal.owner, deal.amount, deal.stage) == ("Gamma AG", "alice", "99.90", "Lead")


@pytest.mark.parametrize(
    ("entity", "text"),
    [
        ("deals", "Deal Name,Company,Amount\nGood,Gamma AG,1\nBad,Delta AG,lots\nAlso bad,Gamma AG,-1\n"),
        ("tickets", "Subject,Company,Priority\nGood,Gamma AG,high\nBad,Delta AG,someday\n"),
        ("contacts", "Name,Company,Email\nGood,Gamma AG,g@gamma.example\nBad,Delta AG,bad@\n"),
    ],
)
def test_new_companies_are_added_only_for_rows_that_go_in(team, tmp_path, cli, entity, text):
    result = cli("import", entity, str(_write(tmp_path, text)), "--create-customers")
    assert result.exit_code == 9 and "imported 1 " in result.stderr
    names = [c.name for c in customers.list_customers(team).customers]
    assert "Gamma AG" in names and "Delta AG" not in names


def test_a_dry_run_of_deals_changes_nothing(team, tmp_path, cli, counts):
    before = counts()
    result = cli("import", "deals", str(_write(tmp_path, HUBSPOT)), "--dry-run")
    assert result.exit_code == 0 and "would import 3 deals from 3 rows" in result.stderr
    assert counts() == before


def test_deal_imports_need_the_right_to_write_deals(team, tmp_path, cli, counts):
    users.add_user(team, UserCreate(username="vic", role="viewer"))
    before = counts()
    result = cli("import", "deals", str(_write(tmp_path, HUBSPOT)), user="vic")
    assert result.exit_code == 7 and "vic (viewer) may not do this" in result.stderr
    assert counts() == before


@pytest.mark.parametrize("entity", ["deals", "tickets"])
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty: expected a header line"),
        (b"\n\n", "is empty: expected a header line"),
        (
            b'Name,Company\n"M\xfcller-\xdcbernahme,Acme GmbH\n',
            "line 2: a quote opened in this row is never closed",
        ),
        (b"Foo,Bar\n1,2\n", "no column for the"),
        (b"Deal Name,Subject\nx,y\n", "no column for the customer (company)"),
    ],
)
def test_files_that_cannot_be_imported_change_nothing(team, tmp_path, cli, counts, entity, content, message):
    before = counts()
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    result = cli("import", entity, str(source))
    assert result.exit_code == 3 and message in result.stderr
    assert result.stderr.startswith("crm: error: ") and result.stderr.count("\n") == 1
    assert counts() == before


@pytest.mark.parametrize("entity", ["deals", "tickets"])
def test_a_header_only_imports_nothing(team, tmp_path, cli, counts, entity):
    before = counts()
    source = _write(tmp_path, "Title,Subject,Company\n")
    result = cli("import", entity, str(source))
    assert result.exit_code == 0 and f"imported 0 {entity} from 0 rows" in result.stderr
    assert counts() == before


def test_a_stopped_deal_import_leaves_whole_batches(team, db_url, monkeypatch):
    lines = "".join(f"Deal {n},Acme GmbH\n" for n in range(25))
    calls = {"n": 0}
    original = imports.IMPORTERS["deals"]

    def crash_on_third(work, batch, outcomes, tally, options):
        calls["n"] += 1
        original(work, batch, outcomes, tally, options)
        if calls["n"] == 3:
            raise KeyboardInterrupt

    monkeypatch.setitem(imports.IMPORTERS, "deals", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        imports.import_csv(team, "deals", io.StringIO("Deal Name,Company\n" + lines), "in.csv", batch_size=10)
    assert table_counts(db_url)["deals"] == 20


# Tickets

ZENDESK = (
    "Id,Subject,Description,Type,Priority,Status,Via,Organization,Requester,Assignee,Created at,Solved at,Resolution\n"
    "101,Login fails,Cannot log in since the update,Incident,High,Open,Web Form,Acme GmbH,ann@acme.example,Sam,"
    "2025-06-02 09:30,,\n"
    "102,Invoice question,Wrong VAT?,Question,Medium,Solved,Email,Beta Ltd,,sam,2025-06-03 14:05,"
    "2025-06-04 10:00,Explained the reverse charge\n"
    "103,Broken part,,Problem,Urgent,Pending,Phone,C-1,Ann Smith,Sam Agent,2025-06-05T08:00:00Z,,\n"
    "104,Old complaint,,Complaint,Low,Closed,Email,Beta Ltd,,,2025-05-01,2025-05-03,Refunded\n"
)


def test_tickets_from_a_zendesk_export(team, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("CRM_TIMEZONE", "UTC")
    result = cli("import", "tickets", str(_write(tmp_path, ZENDESK)))
    assert result.exit_code == 0, result.stderr
    assert "imported 4 tickets from 4 rows" in result.stderr
    login, invoice, part, old = (tickets.get_ticket(team, f"T-{n}") for n in range(1, 5))
    assert (login.type, login.priority, login.channel, login.status, login.assignee, login.contact) == (
        "incident", "high", "other", "open", "sam", "P-1"
    )  # fmt: skip
    assert login.created_at == _utc(2025, 6, 2, 9, 30)
    assert (invoice.priority, invoice.status, invoice.resolution, invoice.resolved_at) == (
        "normal", "resolved", "Explained the reverse charge", _utc(2025, 6, 4, 10)
    )  # fmt: skip
    assert (part.type, part.status, part.contact, part.customer) == ("incident", "pending", "P-1", "C-1")
    assert (old.type, old.status, old.closed_at, old.resolved_at) == (
        "complaint", "closed", _utc(2025, 5, 3), _utc(2025, 5, 3)
    )  # fmt: skip
    actions = [e.action for e in audit_trail.list_entries(team, record="T-4")]
    assert actions == ["close", "resolve", "import", "create"]
    # The service report's spans, kept as `crm ticket resolve` keeps them: 19 h 55 min of
    # the (round-the-clock) SLA clock, and no response before the resolution.
    with team.database.unit_of_work() as session:
        kept = session.get(Ticket, 2)
        assert (kept.response_seconds, kept.resolution_seconds, kept.met_sla) == (None, 71_700, False)
    opened = [e for e in timeline.timeline(team, "C-2") if e.body.startswith("Opened T-4")]
    assert [e.occurred_at for e in opened] == [_utc(2025, 5, 1)]
    assert [hit.ref for hit in search.search(team, "invoice", kinds=["ticket"])] == ["T-2"]


def test_imported_tickets_get_the_due_times_ticket_add_gives(team, tmp_path, cli, db_url, monkeypatch):
    """Business hours make the due times depend on the moment: the ticket imported as
    opened on a Friday evening is due when one added at that moment would be."""
    monkeypatch.setenv("CRM_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("CRM_BUSINESS_HOURS", "09:00-17:00")
    from crm_tui.config import load_settings
    from crm_tui.logic.core.context import open_crm

    crm = open_crm(load_settings(db=db_url))
    try:
        opened = datetime(2025, 6, 6, 16, 30, tzinfo=UTC)  # a Friday, 18:30 in Berlin
        with time_machine.travel(opened, tick=False):
            by_hand = tickets.add_ticket(
                crm, TicketCreate(customer="C-1", subject="By hand", priority="high")
            )
        source = _write(
            tmp_path, "Subject,Company,Priority,Created\nImported,Acme GmbH,high,2025-06-06 18:30\n"
        )
        result = cli("import", "tickets", str(source))
        assert result.exit_code == 0, result.stderr
        imported = tickets.get_ticket(crm, "T-2")
        assert imported.created_at == by_hand.created_at == opened
        assert (imported.first_response_due, imported.resolution_due) == (
            by_hand.first_response_due, by_hand.resolution_due
        )  # fmt: skip
        assert imported.first_response_due > opened + timedelta(days=2)  # over the weekend
    finally:
        crm.close()


def test_a_ticket_is_checked_like_one_typed_in(team, tmp_path, cli):
    rows = [
        "Subject,Company,Type,Priority,Status,Channel,Assignee,Requester,Created,Closed,Resolution",
        "Fine,Acme GmbH,question,low,new,email,,,,,",  # 2
        "Bad priority,Acme GmbH,,Whenever,,,,,,,",  # 3
        "Bad type,Acme GmbH,Praise,,,,,,,,",  # 4
        "Bad status,Acme GmbH,,,Escalated,,,,,,",  # 5
        "Bad channel,Acme GmbH,,,,Pigeon,,,,,",  # 6
        "Seller assignee,Acme GmbH,,,,,mike,,,,",  # 7
        "Unknown assignee,Acme GmbH,,,,,Bob Builder,,,,",  # 8
        "New requester,Acme GmbH,,,,,,zed@acme.example,,,",  # 9: becomes Acme's contact
        "Bad created,Acme GmbH,,,,,,,yesterday-ish,,",  # 10
        "Future,Acme GmbH,,,,,,,2099-01-01,,",  # 11
        "Solved silently,Acme GmbH,,,Solved,,,,2025-01-01,,",  # 12
        "Closed first,Acme GmbH,,,Closed,,,,2025-01-05,2025-01-01,Done",  # 13
        ",Acme GmbH,,,,,,,,,",  # 14
    ]
    result = cli("import", "tickets", str(_write(tmp_path, "\n".join(rows) + "\n")))
    assert result.exit_code == 9
    expected = {
        3: "unknown priority 'Whenever': use low, normal, high, urgent",
        4: "unknown type 'Praise': use question, incident, service_request, complaint",
        5: "unknown status 'Escalated': use new, open, pending, resolved, closed",
        6: "unknown channel 'Pigeon': use email, phone, in_person, other",
        7: "mike is sales; tickets go to users with the service role",
        8: "no user 'Bob Builder' (by username, name or email); add them with `crm user add` or pass --create-users",
        10: "invalid created date 'yesterday-ish': write it like 2025-03-15, 15.03.2025, 03/15/2025 or 15 Mar 2025",
        11: "the created date 2099-01-01 00:00 is in the future",
        12: "a resolved ticket needs a resolution: give a Resolution column or --resolution TEXT",
        13: "the ticket was closed (2025-01-01) before it was created",
        14: "subject must not be empty",
    }
    _assert_reasons(result.stderr, tmp_path / "in.rejected.csv", expected)
    stored = {t.subject: t for t in tickets.list_tickets(team, status="all").tickets}
    assert sorted(stored) == ["Fine", "New requester"]
    zed = contacts.get_contact(team, stored["New requester"].contact)
    assert (zed.customer, zed.name, zed.email) == ("C-1", "Zed", "zed@acme.example")
    result = cli("import", "tickets", str(_write(tmp_path, "\n".join(rows) + "\n")), "--resolution", "Done")
    assert "line 12:" not in result.stderr
    solved = {t.subject: t for t in tickets.list_tickets(team, status="all").tickets}["Solved silently"]
    assert solved.resolution == "Done"


def test_unknown_assignees_can_become_service_users(team, tmp_path, cli):
    source = _write(tmp_path, "Subject,Company,Assignee\nHelp,Acme GmbH,Rita Helper\n")
    result = cli("import", "tickets", str(source), "--create-users")
    assert result.exit_code == 0, result.stderr
    assert "new users: rita.helper" in result.stderr
    assert users.get_user(team, "rita.helper").role == "service"
    assert tickets.get_ticket(team, "T-1").assignee == "rita.helper"


def test_the_same_ticket_twice_is_skipped_and_a_dry_run_changes_nothing(team, tmp_path, cli, counts):
    source = _write(tmp_path, ZENDESK)
    before = counts()
    dry = cli("import", "tickets", str(source), "--dry-run")
    assert dry.exit_code == 0 and "would import 4 tickets" in dry.stderr
    assert counts() == before
    assert cli("import", "tickets", str(source)).exit_code == 0
    again = cli("import", "tickets", str(source))
    assert "imported 0 tickets from 4 rows: 0 updated, 4 duplicates skipped" in again.stderr
    # (PostgreSQL numbers on from the ids the dry run took.)
    assert re.search(r"line 2: skipped: T-\d+ 'Login fails' of C-1 exists", again.stderr)


# Cells as spreadsheets write them


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2025-03-15", None, date(2025, 3, 15)),
        ("2025/03/15", None, date(2025, 3, 15)),
        ("15.03.2025", None, date(2025, 3, 15)),
        ("15.3.25", None, date(2025, 3, 15)),
        ("03/15/2025", None, date(2025, 3, 15)),
        ("15/03/2025", None, date(2025, 3, 15)),
        ("04/04/2025", None, date(2025, 4, 4)),
        ("03/04/2025", "dmy", date(2025, 4, 3)),
        ("03/04/2025", "mdy", date(2025, 3, 4)),
        ("3-4-99", "mdy", date(1999, 3, 4)),
        ("15 Mar 2025", None, date(2025, 3, 15)),
        ("15-Mar-25", None, date(2025, 3, 15)),
        ("March 15, 2025", None, date(2025, 3, 15)),
        ("Sept 1st 2025", None, date(2025, 9, 1)),
        ("2025-03-15T23:30:00+01:00", None, date(2025, 3, 15)),
        ("03/15/2025 2:30 PM", None, date(2025, 3, 15)),
    ],
)
def test_days_as_spreadsheets_write_them(text, order, expected):
    assert cells.parse_sheet_date(text, "date", order) == expected


@pytest.mark.parametrize(
    "text", ["15/15/2025", "2025-13-01", "31.02.2025", "Smarch 3 2025", "tomorrow", "2025-03-15 25:00", "1e5"]
)
def test_bad_days_are_refused(text):
    with pytest.raises(Invalid, match="invalid date"):
        cells.parse_sheet_date(text, "date", "dmy")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-15 14:30", _utc(2025, 3, 15, 13, 30)),
        ("15.03.2025 14:30:15", _utc(2025, 3, 15, 13, 30, 15)),
        ("03/15/2025 2:30 PM", _utc(2025, 3, 15, 13, 30)),
        ("03/15/2025 12:05 am", _utc(2025, 3, 14, 23, 5)),
        ("2025-07-01", _utc(2025, 6, 30, 22)),
        ("2025-07-01T10:00:00Z", _utc(2025, 7, 1, 10)),
        ("01 Jul 2025 10:00 UTC", _utc(2025, 7, 1, 10)),
    ],
)
def test_moments_without_an_offset_are_in_the_settings_zone(text, expected):
    from zoneinfo import ZoneInfo

    assert cells.parse_moment(text, "created date", ZoneInfo("Europe/Berlin")) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12000", ("12000", None)),
        ("12,500.00", ("12500.00", None)),
        ("$1,234,567.89", ("1234567.89", None)),
        ("€ 2.300,50", ("2300.50", None)),
        ("1.234.567", ("1234567", None)),
        ("1,5", ("1.5", None)),
        ("1,200", ("1200", None)),
        ("1.200", ("1.200", None)),
        ("CHF 1'250.50", ("1250.50", "CHF")),
        ("99 usd", ("99", "USD")),
        ("1\u00a0250,00 €", ("1250.00", None)),
        ("1.5E+3", ("1.5E+3", None)),
    ],
)
def test_amounts_as_spreadsheets_write_them(text, expected):
    assert cells.amount_and_currency(text) == expected


@pytest.mark.parametrize("text", ["abc", "12 apples", "1,2,3", "$", "EUR USD 5", "--5"])
def test_bad_amounts_are_refused(text):
    with pytest.raises(Invalid, match="invalid amount"):
        cells.amount_and_currency(text)


@given(st.dates(min_value=date(1970, 1, 1), max_value=date(2068, 12, 31)), st.sampled_from(["dmy", "mdy"]))
def test_every_day_reads_back_in_every_common_form(day, order):
    forms = [
        day.isoformat(),
        f"{day.day}.{day.month}.{day.year}",
        f"{day.day:02d}.{day.month:02d}.{day.year % 100:02d}",
        f"{day:%d %b %Y}",
        f"{day:%B} {day.day}, {day.year}",
        f"{day.day}/{day.month}/{day.year}" if order == "dmy" else f"{day.month}/{day.day}/{day.year}",
    ]
    for text in forms:
        assert cells.parse_sheet_date(text, "date", order) == day, text


HELPDESK = (
    "Subject,Requester,Requester email,Organization,Priority\n"
    "Printer jams,Ann Smith,ann@acme.example,,high\n"  # 2: Acme's contact, by her email
    "Invoice wrong,Bo Berg,bo@beta.example,Beta Ltd,normal\n"  # 3: Beta has no Bo yet
    "Cannot log in,,carla.diaz@mail.example,,urgent\n"  # 4: nobody crm knows
    "Where is my order,Dan Dee,dan@gamma.example,Gamma AG,low\n"  # 5: a company crm lacks
)


def test_helpdesk_tickets_bring_their_requesters(team, tmp_path, cli):
    source = _write(tmp_path, HELPDESK)
    without = cli("import", "tickets", str(source))
    assert without.exit_code == 9
    assert (
        "line 4: no customer: the row names no company or customer; with a requester's email, --create-customers makes the requester a person customer"
        in without.stderr
    )
    assert "line 5: no active customer 'Gamma AG'; add it first or pass --create-customers" in without.stderr
    found = {t.subject: t for t in tickets.list_tickets(team, status="all").tickets}
    assert (found["Printer jams"].customer, found["Printer jams"].contact) == ("C-1", "P-1")
    bo = contacts.list_contacts(team, "C-2")
    assert [(c.name, c.email) for c in bo] == [("Bo Berg", "bo@beta.example")]
    assert found["Invoice wrong"].contact == bo[0].ref

    result = cli("import", "tickets", str(source), "--create-customers")
    assert result.exit_code == 0, result.stderr
    assert "2 duplicates skipped" in result.stderr
    found = {t.subject: t for t in tickets.list_tickets(team, status="all").tickets}
    carla = customers.get_customer(team, found["Cannot log in"].customer)
    assert (carla.name, carla.kind, carla.email) == ("Carla Diaz", "person", "carla.diaz@mail.example")
    assert found["Cannot log in"].contact is None  # the person is the customer
    gamma = customers.get_customer(team, found["Where is my order"].customer)
    assert gamma.name == "Gamma AG"
    [dan] = contacts.list_contacts(team, gamma.ref)
    assert (dan.name, dan.email) == ("Dan Dee", "dan@gamma.example")


def test_a_requester_known_by_email_finds_their_ticket_again(team, tmp_path, cli):
    """A second file from the same helpdesk: the person customer made of a requester is
    found by their email, not made twice."""
    first = _write(tmp_path, "Subject,Requester email\nCannot log in,carla@mail.example\n", "a.csv")
    assert cli("import", "tickets", str(first), "--create-customers").exit_code == 0
    second = _write(tmp_path, "Subject,Requester email\nStill cannot,carla@mail.example\n", "b.csv")
    result = cli("import", "tickets", str(second))
    assert result.exit_code == 0, result.stderr
    owners = {t.customer for t in tickets.list_tickets(team, status="all").tickets}
    assert len(owners) == 1


def test_deals_with_no_company_go_to_the_default_customer(team, tmp_path, cli):
    source = _write(tmp_path, "Deal Name,Amount\nSide job,100\nAnother,50\n")
    refused = cli("import", "deals", str(source))
    assert refused.exit_code == 3 and "no column for the customer (company)" in refused.stderr
    result = cli("import", "deals", str(source), "--default-customer", "Walk-in customers")
    assert result.exit_code == 0, result.stderr
    walk_in = [c for c in customers.list_customers(team).customers if c.name == "Walk-in customers"]
    assert len(walk_in) == 1
    assert sorted(d.title for d in deals.list_deals(team).deals if d.customer == walk_in[0].ref) == [
        "Another",
        "Side job",
    ]
    mixed = _write(tmp_path, "Deal Name,Company\nKept,Acme GmbH\nLoose,\n", "mixed.csv")
    result = cli("import", "deals", str(mixed), "--default-customer", "Walk-in customers")
    assert result.exit_code == 0, result.stderr
    by_title = {d.title: d.customer for d in deals.list_deals(team).deals}
    assert (by_title["Kept"], by_title["Loose"]) == ("C-1", walk_in[0].ref)
