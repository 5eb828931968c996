"""Customers: what is stored, what lists show, how duplicates are found and merged."""

from __future__ import annotations

import pytest

from crm_tui.logic.core import users
from crm_tui.logic.core.errors import Duplicate, Invalid
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.core.vocabulary import CustomerSort
from crm_tui.logic.customers import contacts, customers, duplicates, tasks, timeline
from crm_tui.logic.customers.schemas import (
    ActivityCreate,
    ContactCreate,
    CustomerCreate,
    CustomerUpdate,
    TaskCreate,
)
from crm_tui.logic.reports import audit_trail
from crm_tui.logic.sales import deals
from crm_tui.logic.sales.schemas import DealCreate
from crm_tui.logic.service import tickets
from crm_tui.logic.service.schemas import TicketCreate


def add(crm, name, **fields):
    return customers.add_customer(crm, CustomerCreate(name=name, **fields))


def test_values_are_normalised_when_stored(crm, monkeypatch):
    crm.settings.default_country = "DE"
    created = add(
        crm, "  Müller & Söhne GmbH ", email=" Info@Mueller.EXAMPLE ", phone="030 1234567",
        website="mueller.example", country="de", tags=["Key Account", "VIP"], custom={"vat": "DE123"},
    )  # fmt: skip
    assert created.name == "Müller & Söhne GmbH"
    assert created.email == "info@mueller.example"
    assert created.phone == "+49301234567"
    assert created.website == "https://mueller.example"
    assert created.country == "DE"
    assert created.tags == ["key-account", "vip"]
    assert created.custom == {"vat": "DE123"}
    assert customers.get_customer(crm, created.ref) == created


def test_a_phone_with_a_country_code_needs_no_default_country(crm):
    assert add(crm, "A", phone="+1 (415) 555-0100").phone == "+14155550100"


def test_a_phone_that_cannot_be_read_is_kept_as_typed(crm):
    assert add(crm, "A", phone="0800 123").phone == "0800 123"


def test_same_name_with_another_legal_form_is_a_duplicate(crm):
    add(crm, "Acme GmbH")
    with pytest.raises(Duplicate, match="C-1 Acme GmbH has the same name"):
        add(crm, "ACME gmbh.")
    with pytest.raises(Duplicate):
        add(crm, "Acme Inc")


def test_people_of_the_same_name_at_different_companies_are_not_duplicates(crm):
    add(crm, "Jane Doe", kind="person", company="Acme")
    add(crm, "Jane Doe", kind="person", company="Beta")
    with pytest.raises(Duplicate, match="the same name at Acme"):
        add(crm, "jane doe", kind="person", company="ACME GmbH")


def test_an_archived_customer_does_not_block_a_new_one(crm):
    add(crm, "Acme", email="a@acme.example")
    customers.archive_customer(crm, "C-1")
    assert add(crm, "Acme", email="a@acme.example").ref == "C-2"


def test_an_edit_that_makes_a_duplicate_is_refused(crm):
    add(crm, "Acme", email="a@acme.example")
    add(crm, "Beta")
    with pytest.raises(Duplicate, match="C-1 Acme has the same email"):
        customers.update_customer(crm, "C-2", CustomerUpdate(email="a@acme.example"))
    customers.update_customer(crm, "C-1", CustomerUpdate(email="a@acme.example", city="Oslo"))


def test_clearing_fields_and_custom_values(crm):
    add(crm, "Acme", city="Oslo", custom={"a": "1", "b": "2"})
    updated = customers.update_customer(crm, "C-1", CustomerUpdate(city="", custom={"a": None, "c": 3}))
    assert updated.city is None
    assert updated.custom == {"b": "2", "c": 3}


def test_an_empty_edit_is_refused(crm):
    add(crm, "Acme")
    with pytest.raises(Invalid, match="nothing to change"):
        customers.update_customer(crm, "C-1", CustomerUpdate())


def test_archive_hides_from_lists_and_restore_brings_back(crm):
    add(crm, "Acme")
    add(crm, "Beta")
    customers.archive_customer(crm, "C-1")
    assert [c.name for c in customers.list_customers(crm).customers] == ["Beta"]
    assert [c.name for c in customers.list_customers(crm, archived="archived").customers] == ["Acme"]
    assert len(customers.list_customers(crm, archived="all").customers) == 2
    with pytest.raises(Invalid, match="already archived"):
        customers.archive_customer(crm, "C-1")
    customers.restore_customer(crm, "C-1")
    assert len(customers.list_customers(crm).customers) == 2
    kinds = [entry.kind for entry in timeline.timeline(crm, "C-1")]
    assert kinds == ["system", "system"]


def test_filters_combine(crm):
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    add(crm, "Acme", lifecycle="customer", segment="smb", owner="bob", tags=["vip"])
    add(crm, "Beta", lifecycle="customer", segment="smb", tags=["vip"])
    add(crm, "Gamma", lifecycle="lead", segment="smb", owner="bob", tags=["vip"])
    add(crm, "Delta", lifecycle="customer", segment="enterprise", owner="bob", tags=["vip"])
    add(crm, "Epsilon", lifecycle="customer", segment="smb", owner="bob")
    page = customers.list_customers(crm, lifecycle="customer", segment="smb", owner="bob", tag="VIP")
    assert [c.name for c in page.customers] == ["Acme"]


def test_text_search_ignores_case_and_accents_and_reads_emails_and_phones(crm):
    add(crm, "Café Zürich", email="hello@cafe.example", phone="+41 44 123 45 67")
    add(crm, "Other")
    for text in ("zurich", "CAFÉ", "hello@cafe", "441234", "e zü"):
        assert [c.name for c in customers.list_customers(crm, text=text).customers] == ["Café Zürich"], text
    assert customers.list_customers(crm, text="100%").customers == []


@pytest.mark.parametrize("few", [0, 10_000], ids=["many matches", "few matches"])
def test_text_filter_pages_are_the_same_whichever_way_the_matches_are_found(crm, monkeypatch, few):
    """Few matches are looked up and sorted, many are found walking the sort's index:
    the pages, filters and archived rule must not depend on which."""
    monkeypatch.setattr(customers, "_FEW", few)
    for n in (5, 3, 9, 1, 7, 2, 8, 4, 6, 0):
        add(crm, f"Nordwind {n}", lifecycle="customer" if n % 2 else "lead")
    add(crm, "Südwind")
    customers.archive_customer(crm, "C-1")  # Nordwind 5
    seen, after = [], None
    while True:
        page = customers.list_customers(crm, text="nord", lifecycle="customer", limit=2, after=after)
        seen += [c.name for c in page.customers]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == ["Nordwind 1", "Nordwind 3", "Nordwind 7", "Nordwind 9"]


@pytest.mark.parametrize("sort", list(CustomerSort))
@pytest.mark.parametrize("descending", [False, True])
def test_pages_cover_every_customer_once_in_order(crm, sort, descending):
    names = [f"Firm {n:02d}" for n in (5, 3, 9, 1, 7, 2, 8, 4, 6, 0, 11, 10)]
    for name in names:
        add(crm, name)
    add(crm, "firm 03", kind="person")  # same sort key as "Firm 03": ties are broken by id
    seen, after = [], None
    while True:
        page = customers.list_customers(crm, sort=sort, descending=descending, limit=5, after=after)
        seen.extend(page.customers)
        if page.next_after is None:
            break
        after = page.next_after
    assert len(seen) == len(names) + 1
    assert len({c.id for c in seen}) == len(seen)
    keys = {
        CustomerSort.alphabetical: lambda c: (c.name.casefold(), c.id),
        CustomerSort.created: lambda c: (c.created_at, c.id),
        CustomerSort.updated: lambda c: (c.updated_at, c.id),
    }[sort]
    assert seen == sorted(seen, key=keys, reverse=descending)


def test_tags_add_and_remove(crm):
    add(crm, "Acme", tags=["vip"])
    assert customers.tag_customer(crm, "C-1", ["vip", "Partner"]).tags == ["partner", "vip"]
    assert customers.untag_customer(crm, "C-1", ["VIP"]).tags == ["partner"]
    with pytest.raises(Invalid, match="has no tag vip"):
        customers.untag_customer(crm, "C-1", ["vip"])


def test_dupes_lists_groups_by_email_phone_and_name(crm):
    add(crm, "Acme GmbH", email="a@acme.example")
    customers.add_customer(crm, CustomerCreate(name="Acme"), force=True)
    customers.add_customer(crm, CustomerCreate(name="Other", email="a@acme.example"), force=True)
    add(crm, "Tel One", phone="+4930111111")
    customers.add_customer(crm, CustomerCreate(name="Tel Two", phone="+49 30 111111"), force=True)
    add(crm, "Unique")
    groups = {(g.match, tuple(c.ref for c in g.customers)) for g in duplicates.find_duplicates(crm)}
    assert groups == {
        ("email", ("C-1", "C-3")),
        ("phone", ("C-4", "C-5")),
        ("name", ("C-1", "C-2")),
    }


def test_merge_moves_everything_and_archives_the_other(crm):
    keep = add(crm, "Acme GmbH", email="a@acme.example", tags=["vip"])
    other = customers.add_customer(
        crm,
        CustomerCreate(name="ACME", phone="+4930222222", city="Berlin", tags=["partner", "vip"]),
        force=True,
    )
    contacts.add_contact(crm, ContactCreate(customer=other.ref, name="Jo"))
    timeline.add_activity(crm, ActivityCreate(customer=other.ref, body="met at fair"))
    tasks.add_task(crm, TaskCreate(title="follow up", customer=other.ref))
    deals.add_deal(crm, DealCreate(customer=other.ref, title="Renewal"))
    tickets.add_ticket(crm, TicketCreate(customer=other.ref, subject="Broken login"))

    result = duplicates.merge_customers(crm, keep.ref, other.ref)

    survivor = result.survivor
    assert (survivor.email, survivor.phone, survivor.city) == (
        "a@acme.example",
        "+4930222222",
        "Berlin",
    )
    assert survivor.tags == ["partner", "vip"]
    assert result.moved == {
        "contacts": ["P-1"],
        "activities": ["N-1", "N-2"],  # the note, and the ticket's opening
        "tasks": ["K-1"],
        "deals": ["D-1"],
        "orders": [],
        "tickets": ["T-1"],
        "tags": ["partner"],
    }
    detail = customers.customer_detail(crm, keep.ref)
    assert [c.name for c in detail.contacts] == ["Jo"]
    assert [t.title for t in detail.open_tasks] == ["follow up"]
    assert deals.get_deal(crm, "D-1").customer == keep.ref
    assert tickets.get_ticket(crm, "T-1").customer == keep.ref
    assert "Merged C-2 ACME into this customer" in detail.timeline[0].body
    merged = customers.get_customer(crm, other.ref)
    assert merged.archived_at is not None and merged.merged_into == keep.ref
    assert [c.ref for c in customers.list_customers(crm).customers] == [keep.ref]
    with pytest.raises(Invalid, match="merged into C-1"):
        customers.restore_customer(crm, other.ref)

    entry = audit_trail.list_entries(crm, record=keep.ref, limit=1)[0]
    assert entry.action == "merge"
    assert entry.changes["merged"] == "C-2"
    assert entry.changes["contacts"] == ["P-1"]
    assert entry.changes["fields"]["city"] == [None, "Berlin"]


def test_merge_refusals(crm):
    add(crm, "Acme")
    add(crm, "Beta")
    with pytest.raises(Invalid, match="into itself"):
        duplicates.merge_customers(crm, "C-1", "1")
    customers.archive_customer(crm, "C-2")
    with pytest.raises(Invalid, match="C-2 is archived"):
        duplicates.merge_customers(crm, "C-1", "C-2")
