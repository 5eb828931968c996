"""Contacts cleaned in a process of their own (``exchange/cleaning.py``) are stored
exactly as contacts cleaned in the importing process, refusals and all."""

from __future__ import annotations

import io
from concurrent.futures import Future

import pytest
from sqlmodel import col, select

from crm_tui.config import load_settings
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange import contact_import, imports
from crm_tui.storage.models import Contact

ROWS = [
    "Name,Company,Email,Phone,Mobile",
    *[f"Person {n},Acme GmbH,p{n}@acme.example,030 1234{n:03d},0170 3000{n:03d}" for n in range(12)],
    *[f"Bloke {n},Beta Ltd,b{n}@beta.example,020 7946 {n:04d}," for n in range(9)],
    "No Email,Acme GmbH,not-an-email,,",
    "Bad Phone,Beta Ltd,bad@beta.example,12,",
    "New Firm,Gamma AG,g@gamma.example,+41 44 668 18 00,",
    "Twice,Acme GmbH,p1@acme.example,,",
]


def _imported(crm, tmp_path, name: str):
    for company, country in (("Acme GmbH", "DE"), ("Beta Ltd", "GB")):
        customers.add_customer(crm, CustomerCreate(name=company, country=country))
    options = imports.ImportOptions(rejects_path=tmp_path / f"{name}.rejected.csv", create_customers=True)
    summary = imports.import_csv(
        crm, "contacts", io.StringIO("\n".join(ROWS) + "\n"), "in.csv", options, batch_size=5
    )
    with crm.work() as work:
        stored = [
            contact.model_dump(
                include={"customer_id", "name", "name_key", "title", "email", "phone", "mobile", "custom"}
            )
            for contact in work.session.exec(select(Contact).order_by(col(Contact.id)))
        ]
    rejected = (tmp_path / f"{name}.rejected.csv").read_text(encoding="utf-8")
    return summary.created, summary.skipped, summary.refused, stored, rejected


@pytest.fixture
def inline(monkeypatch) -> list[str]:
    """The names of the rows the importing process cleans itself, in order."""
    names: list[str] = []
    clean_here = contact_import.clean_contact

    def cleaned_here(*args, **kwargs):
        names.append(args[0].get("name"))
        return clean_here(*args, **kwargs)

    monkeypatch.setattr(contact_import, "clean_contact", cleaned_here)
    return names


def test_contacts_cleaned_apart_are_stored_as_contacts_cleaned_here(crm, tmp_path, monkeypatch, inline):
    submitted = []
    submit = contact_import.ContactCleaning.submit

    def counted(self, crm, batch, options):
        submitted.append(len(batch))
        future = submit(self, crm, batch, options)
        future.result()  # ready when its batch is stored: the importer does not wait while the process starts
        return future

    monkeypatch.setattr(contact_import.ContactCleaning, "submit", counted)
    apart = _imported(crm, tmp_path, "apart")
    assert submitted == [5, 5, 5, 5]  # every batch but the first
    assert inline == [f"Person {n}" for n in range(5)]  # the first batch's rows, cleaned here
    here_crm = open_crm(load_settings(db=tmp_path / "here.sqlite3"))
    try:
        monkeypatch.setattr(imports, "ContactCleaning", None)
        here = _imported(here_crm, tmp_path, "here")
    finally:
        here_crm.close()
    assert apart == here
    created, skipped, refused, stored, rejected = apart
    assert (created, skipped, refused) == (22, 1, 2)
    assert {"name": "Person 3", "phone": "+49301234003", "mobile": "+491703000003"}.items() <= stored[
        3
    ].items()
    assert stored[12]["phone"] == "+442079460000"
    assert "not-an-email" in rejected and "Bad Phone" in rejected


def test_a_batch_the_process_has_not_finished_while_starting_is_cleaned_here(
    crm, tmp_path, monkeypatch, inline
):
    submit = contact_import.ContactCleaning.submit
    calls = []

    def slow_start(self, crm, batch, options):
        calls.append(len(batch))
        future = submit(self, crm, batch, options)
        if len(calls) == 1:
            return Future()  # the process is still starting: nothing back yet
        future.result()
        return future

    monkeypatch.setattr(contact_import.ContactCleaning, "submit", slow_start)
    apart = _imported(crm, tmp_path, "apart")
    assert inline == [f"Person {n}" for n in range(10)]  # the first two batches
    here_crm = open_crm(load_settings(db=tmp_path / "here.sqlite3"))
    try:
        monkeypatch.setattr(imports, "ContactCleaning", None)
        assert _imported(here_crm, tmp_path, "here") == apart
    finally:
        here_crm.close()
