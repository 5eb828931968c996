"""Deals and tickets go in row by row, through the same door as typed ones; what their
rows name (customers, owners or assignees) is looked up once for the whole batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from crm_tui.logic.core.context import Work
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange.cells import time_zone
from crm_tui.logic.exchange.companies import RowCustomer, customer_finder
from crm_tui.logic.exchange.options import ImportOptions
from crm_tui.logic.exchange.people import People, people_named
from crm_tui.logic.exchange.runner import Outcomes, Row, Tally, each_row


@dataclass
class BatchLookups:
    """What a batch's rows name, found once for all of them."""

    customer: Callable[[str | None], RowCustomer]
    people: People  # owners or assignees: the username each cell names
    zone: tzinfo | None  # of the times the file writes without an offset
    seen: dict[tuple[Any, ...], int] = field(default_factory=dict)  # a record's key -> the line that added it

    def username(self, text: str | None) -> str | None:
        """The username of the person a cell names; the error when it names nobody."""
        return self.people.username(text)


AddRow = Callable[[Work, Row, RowCustomer, BatchLookups, ImportOptions], None]
# Fills in the customer of rows that name none (a default customer, a requester's) and
# says what to add for those crm does not have.
FindCustomers = Callable[[Work, list[Row], ImportOptions], dict[str, CustomerCreate]]


def add_row_by_row(
    work: Work, batch: list[Row], outcomes: Outcomes, tally: Tally, options: ImportOptions,
    person: tuple[str, str], add_row: AddRow, find_customers: FindCustomers | None = None, hint: str = "",
) -> None:  # fmt: skip
    """Add each row of the batch with ``add_row`` in its own savepoint. ``person`` is
    the column naming a user and the role of users --create-users adds for it; ``hint``
    says how a row naming no customer can be taken in."""
    column, role = person
    templates = find_customers(work, batch, options) if find_customers else None
    found = BatchLookups(
        customer_finder(work, batch, options.create_customers, templates, hint),
        people_named(work, batch, column, role, options.create_users),
        time_zone(work),
    )
    for row in batch:
        with each_row(work, row, outcomes, tally):
            add_row(work, row, found.customer(row.values.get("customer")), found, options)
    found.people.count_new(tally)
