"""Full-text search: prefixes, accents, ranking, kinds, archive, and an index that never
falls behind the data, however the data was written."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from sqlalchemy import text

from crm_tui.config import load_settings
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.customers import batches as customer_batches
from crm_tui.logic.customers import contacts, customers, duplicates, search, timeline
from crm_tui.logic.customers.schemas import (
    ActivityCreate,
    ContactCreate,
    ContactUpdate,
    CustomerCreate,
    CustomerUpdate,
)
from crm_tui.logic.exchange import imports
from crm_tui.logic.sales import deals
from crm_tui.logic.sales.schemas import DealCreate
from crm_tui.logic.service import tickets
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.storage import search as index
from tests.conftest import POSTGRES


def add(crm, name, **fields):
    return customers.add_customer(crm, CustomerCreate(name=name, **fields))


def refs(crm, query, **options):
    return [hit.ref for hit in search.search(crm, query, **options)]


def names(crm, query, **options):
    return [hit.title for hit in search.search(crm, query, **options)]


def test_words_are_found_by_their_start_whatever_the_case_and_accents(crm):
    cafe = add(crm, "Café Zürich", email="hello@cafe.example", phone="+41 44 123 45 67")
    muller = add(crm, "Müller & Söhne GmbH")
    soren = add(crm, "Søren Łukasz", kind="person")
    add(crm, "Other")
    for query in ("zurich", "ZÜR", "café zür", "caf", "hello@cafe", "+41 44 123", "41441"):
        assert refs(crm, query) == [cafe.ref], query
    for query in ("muller", "MÜLL", "sohne", "söhne gmbh", "Mue"[:2]):
        assert muller.ref in refs(crm, query), query
    for query in ("soren", "søren", "lukasz", "łuk"):
        assert refs(crm, query) == [soren.ref], query
    assert refs(crm, "zurich acme") == []  # every word must match
    assert refs(crm, "rich") == []  # a word is found by its start, not its middle
    assert search.search(crm, "   ") == [] and search.search(crm, "%%") == []


def test_an_exact_name_comes_before_longer_names_and_before_notes(crm):
    note_only = add(crm, "Bravo")
    timeline.add_activity(crm, ActivityCreate(customer=note_only.ref, body="Lunch with the Acme people."))
    longer = add(crm, "Acme Industries International")
    exact = add(crm, "Acme")
    contact_of_other = contacts.add_contact(crm, ContactCreate(customer=note_only.ref, name="Ann Acmeson"))
    found = search.search(crm, "acme")
    assert [hit.ref for hit in found][:2] == [exact.ref, longer.ref]
    assert found[-1].ref == note_only.ref and found[-1].matched == "note"
    assert "Acme people" in found[-1].snippet
    # A prefix in a name still beats a whole word in a note.
    assert refs(crm, "acm")[-1] == note_only.ref
    assert contact_of_other.ref in refs(crm, "acm")


def test_each_kind_is_found_with_its_customer_and_can_be_filtered(crm):
    acme = add(crm, "Acme", email="info@acme.example")
    person = contacts.add_contact(
        crm, ContactCreate(customer=acme.ref, name="Jörg Falkenberg", email="jf@x.example")
    )
    deal = deals.add_deal(crm, DealCreate(customer=acme.ref, title="Falkenberg rollout", amount="100"))
    ticket = tickets.add_ticket(
        crm,
        TicketCreate(customer=acme.ref, subject="Printer jammed", description="Falkenberg office, 3rd floor"),
    )
    timeline.add_activity(
        crm, ActivityCreate(customer=acme.ref, subject="Visit", body="Talked to Falkenberg")
    )
    found = {hit.ref: hit for hit in search.search(crm, "falkenberg")}
    assert set(found) == {person.ref, deal.ref, ticket.ref, acme.ref}
    assert found[person.ref].kind == "contact" and found[person.ref].title == "Jörg Falkenberg"
    assert found[deal.ref].kind == "deal" and found[deal.ref].title == "Falkenberg rollout"
    assert found[ticket.ref].kind == "ticket" and found[ticket.ref].title == "Printer jammed"
    assert found[ticket.ref].matched == "text" and "Falkenberg office" in found[ticket.ref].snippet
    assert found[acme.ref].matched == "note"
    assert all(hit.customer_ref == acme.ref and hit.customer == "Acme" for hit in found.values())
    assert refs(crm, "falkenberg", kinds=["deal"]) == [deal.ref]
    assert set(refs(crm, "falkenberg", kinds=["contact", "ticket"])) == {person.ref, ticket.ref}
    assert refs(crm, "falkenberg", kinds=["customer"]) == [acme.ref]
    assert refs(crm, "falk", limit=2) == refs(crm, "falk")[:2]
    with pytest.raises(Invalid, match="unknown kind 'order'"):
        search.search(crm, "acme", kinds=["order"])
    with pytest.raises(Invalid, match="limit"):
        search.search(crm, "acme", limit=0)


def test_a_customer_with_many_matching_notes_is_listed_once(crm):
    acme = add(crm, "Acme")
    for n in range(5):
        timeline.add_activity(crm, ActivityCreate(customer=acme.ref, body=f"Invoice {n} sent"))
    assert refs(crm, "invoice") == [acme.ref]


def test_archived_records_and_those_of_archived_customers_are_hidden_unless_asked(crm):
    gone = add(crm, "Zeppelin Old")
    person = contacts.add_contact(crm, ContactCreate(customer=gone.ref, name="Zara Zeppelin"))
    kept = add(crm, "Zeppelin New")
    deal = deals.add_deal(crm, DealCreate(customer=kept.ref, title="Zeppelin hangar", amount="5"))
    customers.archive_customer(crm, gone.ref)
    deals.archive_deal(crm, deal.ref)
    assert refs(crm, "zeppelin") == [kept.ref]
    assert set(refs(crm, "zeppelin", archived=True)) == {gone.ref, person.ref, kept.ref, deal.ref}
    customers.restore_customer(crm, gone.ref)
    deals.restore_deal(crm, deal.ref)
    assert set(refs(crm, "zeppelin")) == {gone.ref, person.ref, kept.ref, deal.ref}


def _raw_customer(conn, name: str, key: str) -> None:
    conn.execute(
        text(
            "INSERT INTO customers (version, name, name_key, kind, lifecycle, custom, created_at, updated_at)"
            " VALUES (1, :name, :key, 'company', 'lead', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"name": name, "key": key},
    )


def test_the_index_follows_every_way_data_is_written(crm, db_url, tmp_path):
    # Create and edit.
    acme = add(crm, "Acme")
    person = contacts.add_contact(crm, ContactCreate(customer=acme.ref, name="Quentin Quill"))
    customers.update_customer(crm, acme.ref, CustomerUpdate(name="Azimuth Labs", email="hq@azimuth.example"))
    contacts.update_contact(crm, person.ref, ContactUpdate(name="Quentin Quark"))
    assert refs(crm, "acme") == [] and refs(crm, "azimuth") == [acme.ref]
    assert refs(crm, "hq@azimuth") == [acme.ref]
    assert refs(crm, "quill") == [] and refs(crm, "quark") == [person.ref]

    # Merge: the duplicate disappears, what it had is found under the survivor.
    twin = add(crm, "Azimuth Laboratories")
    twin_person = contacts.add_contact(crm, ContactCreate(customer=twin.ref, name="Xavier Xylo"))
    timeline.add_activity(crm, ActivityCreate(customer=twin.ref, body="Wants the yellow brochure"))
    duplicates.merge_customers(crm, acme.ref, twin.ref)
    # The survivor's timeline says what was merged into it, so the old name leads there.
    [survivor] = search.search(crm, "laboratories")
    assert (survivor.ref, survivor.matched) == (acme.ref, "note")
    assert set(refs(crm, "laboratories", archived=True)) == {twin.ref, acme.ref}
    [moved] = search.search(crm, "xylo")
    assert (moved.ref, moved.customer_ref) == (twin_person.ref, acme.ref)
    assert refs(crm, "yellow brochure") == [acme.ref]

    # Archive.
    customers.archive_customer(crm, acme.ref)
    assert refs(crm, "azimuth") == [] and refs(crm, "quark") == [] and refs(crm, "xylo") == []
    customers.restore_customer(crm, acme.ref)
    assert refs(crm, "quark") == [person.ref]

    # Bulk import: one Core executemany insert.
    with crm.work("customers.write") as work:
        outcomes = customer_batches.create_batch_in(
            work, [(1, CustomerCreate(name="Nimbus Bulk")), (2, CustomerCreate(name="Nimbus Batch"))]
        )
    bulk = {outcome.ref for _, outcome in outcomes}
    assert set(refs(crm, "nimbus")) == bulk
    assert names(crm, "nimb ba") == ["Nimbus Batch"]

    # A CSV import of contacts, indexed in one statement at the end of each batch.
    csv_file = io.StringIO("Name,Company,Email\nOrla Osprey,Azimuth Labs,orla@azimuth.example\n")
    assert imports.import_csv(crm, "contacts", csv_file, "contacts.csv").created == 1
    [orla] = search.search(crm, "osprey")
    assert (orla.kind, orla.customer_ref) == ("contact", acme.ref)
    assert refs(crm, "orla@azimuth") == [orla.ref]

    # Raw SQL, as another program or a restore by SQL would write.
    with crm.database.connection(write=True) as conn:
        _raw_customer(conn, "Raw Rhubarb", "raw rhubarb")
        conn.execute(
            text(
                "UPDATE contacts SET name = 'Quentin Quasar', name_key = 'quentin quasar' WHERE name = 'Quentin Quark'"
            )
        )
        conn.execute(text("DELETE FROM customers WHERE name = 'Nimbus Bulk'"))
    assert names(crm, "rhubarb") == ["Raw Rhubarb"]
    assert refs(crm, "quasar") == [person.ref] and refs(crm, "quark") == []
    assert names(crm, "nimbus") == ["Nimbus Batch"]

    # The customer list's filter reads the same index.
    listed = customers.list_customers(crm, text="rhub").customers
    assert [c.name for c in listed] == ["Raw Rhubarb"]

    # Rebuilding changes nothing but the time it takes.
    before = {
        query: refs(crm, query) for query in ("azimuth", "quasar", "xylo", "nimbus", "rhubarb", "osprey")
    }
    with crm.database.connection(write=True) as conn:
        assert index.rebuild(conn) >= 6
    assert {query: refs(crm, query) for query in before} == before


@pytest.mark.sqlite_only
def test_a_restored_file_brings_its_index_and_keeps_it_in_sync(crm, tmp_path):
    add(crm, "Kept Kestrel")
    crm.close()
    restored_path = tmp_path / "restored.sqlite3"
    shutil.copyfile(crm.database.path, restored_path)
    restored = open_crm(load_settings(db=str(restored_path)))
    try:
        assert names(restored, "kestrel") == ["Kept Kestrel"]
        add(restored, "New Kestrel")
        assert sorted(names(restored, "kestrel")) == ["Kept Kestrel", "New Kestrel"]
    finally:
        restored.close()


def test_the_customer_list_keeps_its_substring_cases(crm):
    add(crm, "Café Zürich", email="hello@cafe.example", phone="+41 44 123 45 67")
    add(crm, "Other")
    for query in ("zur", "e zü", "441234", "hello@cafe", "CAFÉ Z"):
        assert [c.name for c in customers.list_customers(crm, text=query).customers] == ["Café Zürich"], query
    assert customers.list_customers(crm, text="100%").customers == []
    assert customers.list_customers(crm, text="!!").customers == []


def test_snippets_are_short_and_show_the_match():
    words = search.query_words("zürich")
    body = "A long note. " * 10 + "We met in Zürich to talk about the new contract. " + "Filler text. " * 10
    shown = search.snippet(body, words)
    assert "Zürich" in shown and len(shown) <= 62 and shown.startswith("…") and shown.endswith("…")
    assert search.snippet("Short Zürich", words) == "Short Zürich"


def test_a_number_typed_the_national_way_finds_the_stored_international_one(db_url):
    """Numbers are kept from abroad (+49...); typed as at home (0170 ...), in the default
    country, they are found all the same, by search and by the customer list's filter."""
    crm = open_crm(load_settings(db=db_url, default_country="DE"))
    try:
        shop = add(crm, "Corner Shop", phone="030 1234567")
        contacts.add_contact(crm, ContactCreate(customer=shop.ref, name="Ann Lee", mobile="0170 7654321"))
        add(crm, "Far Away Ltd", phone="+44 20 1234 5678")
        assert names(crm, "0170 765") == ["Ann Lee"]
        assert names(crm, "030 123") == ["Corner Shop"]
        assert names(crm, "+49 30 123") == ["Corner Shop"]
        assert names(crm, "0044 20") == []  # a number from abroad is typed with its +
        listed = customers.list_customers(crm, text="030-1234567").customers
        assert [c.name for c in listed] == ["Corner Shop"]
    finally:
        crm.close()
    assert search.query_words("0170 765", "DE") == [["0170765", "49170765"]]
    assert search.query_words("0170 765", "us") == [["0170765"]]  # no trunk 0 there
    assert search.query_words("+0170 765", "DE") == [["0170765"]]
    assert search.query_words("0170 765") == [["0170765"]]


def test_query_words_fold_and_keep_what_was_typed():
    assert search.query_words("Søren  Müller-Lüdenscheid") == [
        ["soren", "søren"], ["muller"], ["ludenscheid"]
    ]  # fmt: skip
    assert search.query_words("+41 (44) 123-45") == [["414412345"]]
    assert search.query_words(" ,; ") == []


def _run_search(runner, db_url, *args):
    from crm_tui.cli import GROUPS, app

    if "search" in GROUPS:
        return runner.invoke(app, ["--db", db_url, "search", *args], catch_exceptions=False)
    from crm_tui.cli.search import app as search_app

    env = {"CRM_DATABASE_URL": db_url}
    return runner.invoke(search_app, list(args), env=env, catch_exceptions=False)


def test_the_command_prints_hits_in_every_format(crm, runner, db_url):
    acme = add(crm, "Acme")
    deal = deals.add_deal(crm, DealCreate(customer=acme.ref, title="Acme renewal", amount="1"))
    result = _run_search(runner, db_url, "acm", "-f", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["ref"] for row in rows] == [acme.ref, deal.ref]
    assert set(rows[0]) == {"kind", "id", "ref", "title", "customer_ref", "customer", "matched", "snippet"}
    ids = _run_search(runner, db_url, "acme", "--kind", "deal", "-f", "ids")
    assert ids.stdout == f"{deal.ref}\n"
    table = _run_search(runner, db_url, "acme")
    assert "Acme renewal" in table.stdout and "C-1 Acme" in table.stdout
    csv = _run_search(runner, db_url, "acme", "-f", "csv", "--limit", "1")
    assert csv.stdout.splitlines()[0].startswith("kind,id,ref,title") and len(csv.stdout.splitlines()) == 2
    nothing = _run_search(runner, db_url, "zzz")
    assert nothing.exit_code == 0 and nothing.stdout == "" and "Nothing matches" in nothing.stderr
    assert _run_search(runner, db_url, "acme", "--kind", "order").exit_code == 2
    assert _run_search(runner, db_url, " ").exit_code == 2


@pytest.mark.sqlite_only
def test_a_bulk_write_that_fails_leaves_no_pause_behind(crm):
    add(crm, "Before Bulk")
    with (
        pytest.raises(RuntimeError),
        crm.database.connection(write=True) as conn,
        index.indexed_at_end(conn, "customers"),
    ):
        _raw_customer(conn, "Lost Lynx", "lost lynx")
        raise RuntimeError("the batch fails halfway")
    with crm.database.connection() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {index.PAUSED}")).scalar_one() == 0
    add(crm, "After Bulk")  # indexed by its trigger again
    assert sorted(names(crm, "bulk")) == ["After Bulk", "Before Bulk"]
    assert names(crm, "lynx") == []


def test_the_index_tables_are_the_storage_layers_own():
    assert index.is_index_table("search_index") and index.is_index_table("search_index_data")
    assert not index.is_index_table("customers")
    assert POSTGRES is None or POSTGRES  # the same tests run on both backends


def test_reindex_is_for_admins_and_finds_the_same(crm, as_user):
    from crm_tui.logic.core import users
    from crm_tui.logic.core.errors import Forbidden
    from crm_tui.logic.core.schemas import UserCreate

    acme = add(crm, "Acme")
    documents, deals = search.reindex(crm)
    assert documents >= 1 and deals == 0
    assert refs(crm, "acme") == [acme.ref]
    users.add_user(crm, UserCreate(username="sam", role="sales"))
    with pytest.raises(Forbidden):
        search.reindex(as_user("sam"))


def test_the_palette_names_a_contact_with_the_customer_it_opens(crm):
    from crm_tui.logic.reports import desk

    acme = add(crm, "Acme Rail")
    person = contacts.add_contact(crm, ContactCreate(customer=acme.ref, name="Quirin Quast"))
    (target,) = [t for t in desk.jump_targets(crm, "quirin") if t.kind == "contact"]
    assert (target.ref, target.label) == (acme.ref, "Quirin Quast at Acme Rail")
    assert target.detail.startswith(person.ref)
