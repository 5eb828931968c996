"""Cleaning contacts' rows in a process of its own while the batch before them is written.

A contact's cleaning (its phone numbers read by phonenumbers above all) took more of
an import's time than the database did, and SQLite takes one writer at a time: so the
second core cleans batch n + 1 while the first writes batch n. The cleaning needs the
customer's country, which a row's customer keeps for the whole import (customers the
import adds have none), so it is looked up before the batch before is written; the
importer checks it again, and cleans the row itself in the rare case it differs.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from crm_tui.logic.core.context import Crm
from crm_tui.logic.core.errors import CrmError
from crm_tui.logic.exchange.companies import RowCustomer, customer_finder
from crm_tui.logic.exchange.contact_import import clean_contact
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.logic.exchange.runner import Row

# One row's cleaning as the importer takes it: the country its phones were read in,
# and the cleaned fields or why the row is refused; None for a row not cleaned here.
Cleaned = tuple[str | None, dict[str, Any] | str] | None


class ContactCleaning:
    """A ``runner.Preparer``: one process that cleans contacts' rows."""

    def __init__(self) -> None:
        # "spawn": a fresh interpreter, not a fork of this one with its open database.
        context = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_ignore_interrupts)
        self.countries: dict[str | None, str | None] = {}  # by the cell naming the customer

    def submit(self, crm: Crm, batch: list[Row], options: ImportOptions) -> Callable[[], list[Cleaned]]:
        default = crm.settings.default_country
        self._learn_countries(crm, batch)
        items = [
            None
            if row.error or row.values.get("person")
            else (row.values, self.countries[row.values.get("customer")] or default)
            for row in batch
        ]
        return self.pool.submit(clean_rows, items).result

    def _learn_countries(self, crm: Crm, batch: list[Row]) -> None:
        """The country of each customer the batch's rows name that earlier batches did
        not; None for one crm does not have (yet: the import adds it with none)."""
        new = [row for row in batch if row.values.get("customer") not in self.countries]
        if not new:
            return
        with crm.work() as work:
            customers = customer_finder(work, new, create=False)
        found = customers.found
        for row in new:
            text = row.values.get("customer")
            key = customers.keys.get(text) if text else None
            self.countries[text] = found[key].country if key in found else None

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _ignore_interrupts() -> None:
    """Ctrl-C stops the import in the main process, which then closes this one."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def clean_rows(items: list[tuple[dict[str, Any], str | None] | None]) -> list[Cleaned]:
    """Each row's fields cleaned as ``contact_import.clean_contact`` cleans them, with
    phone numbers read in the country given; run in the cleaning process."""
    cleaned: list[Cleaned] = []
    for item in items:
        if item is None:
            cleaned.append(None)
            continue
        values, country = item
        try:
            cleaned.append((country, clean_contact(values, RowCustomer(0, "", country), None)))
        except CrmError as exc:
            cleaned.append((country, str(exc)))
    return cleaned
