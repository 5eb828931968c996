"""A deterministic crm database for benchmarks: customers with contacts, timeline and tasks,
and deals with their stage history, products and orders.

crm makes the schema itself (``open_crm`` runs the Alembic migrations and makes ``admin``
the first user); the rows are then written with the standard ``sqlite3`` module in large
``executemany`` transactions, with the indexes dropped during the load and rebuilt from
their own SQL afterwards, because the ORM would take far longer at a million customers.

    python -m bench.generate PATH --customers 100000 --deals 200000 [--tickets 300000] [--seed 1]

The same sizes and seed always give the same rows (only the admin user's creation time,
which crm sets, differs), and the customers do not depend on the number of deals. Emails
are unique and lower case; phones are E.164 and unique for up to 3,000,000 customers.
"""

from __future__ import annotations

import argparse
import bisect
import functools
import heapq
import math
import os
import random
import sqlite3
import time
from array import array
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite

from bench import words
from crm_tui.config import load_settings
from crm_tui.logic.core.context import open_crm
from crm_tui.logic.service.sla import measure_spans
from crm_tui.logic.service.working_time import WorkingTime
from crm_tui.logic.values.money import line_amounts
from crm_tui.logic.values.normalise import fold, name_key
from crm_tui.storage import sales_facts
from crm_tui.storage.schema import HEAD

DATA_DIR = Path(__file__).resolve().parent / "data"
# Bump when the generated rows change, so that cached databases are made anew.
GENERATOR_VERSION = 6
CHUNK = 20_000  # customers per transaction: big enough to be fast, small enough for memory
START = datetime(2020, 7, 1, 8, 0)  # customers are created between START and END
END = datetime(2025, 6, 30, 18, 0)
DEAL_START = datetime(2023, 7, 1, 8, 0)  # deals are created in the last two years before END
# Serial numbers that keep phone numbers apart: customers use their id, contacts and
# customers made for the import benchmark use these offsets.
CONTACT_PHONES = 3_000_000
NEW_CUSTOMER_PHONES = 8_000_000
# One customer with a long history, for the benchmark that opens a customer: the oldest,
# under a name no other customer has, so that the benchmark finds it by typing it.
LONG_TIMELINE_CUSTOMER = 1
LONG_TIMELINE_NAME = "Timeline Benchmark GmbH"
LONG_TIMELINE_ENTRIES = 1_000

COLUMNS = {
    "customers": (
        "id", "version", "name", "name_key", "kind", "company", "company_key", "lifecycle",
        "segment", "owner_id", "email", "phone", "website", "street", "city", "postcode",
        "country", "industry", "source", "custom", "created_at", "updated_at", "archived_at",
        "merged_into_id",
    ),
    "customer_tags": ("customer_id", "tag_id"),
    "contacts": (
        "id", "version", "customer_id", "name", "name_key", "title", "email", "phone", "mobile",
        "created_at", "updated_at",
    ),
    "activities": (
        "id", "version", "customer_id", "kind", "subject", "body", "author_id", "occurred_at",
        "created_at",
    ),
    "tasks": (
        "id", "version", "title", "notes", "customer_id", "assignee_id", "due_on", "done_at",
        "created_by_id", "created_at",
    ),
}  # fmt: skip

SALES_COLUMNS = {
    "products": (
        "id", "version", "sku", "name", "unit_price_minor", "currency", "tax_rate_bp", "active",
        "created_at", "updated_at",
    ),
    "deals": (
        "id", "version", "customer_id", "contact_id", "title", "amount_minor", "currency",
        "pipeline_id", "stage_id", "status", "owner_id", "expected_close", "closed_at",
        "lost_reason", "source", "created_at", "updated_at", "archived_at",
    ),
    # No id: the changes are numbered in time order when they are copied in from staging.
    "deal_stage_changes": ("deal_id", "from_stage_id", "to_stage_id", "at", "actor_id"),
    "orders": (
        "id", "version", "customer_id", "deal_id", "owner_id", "status", "currency", "net_minor",
        "tax_minor", "total_minor", "cancel_reason", "created_at", "updated_at", "confirmed_at",
        "fulfilled_at", "paid_at", "cancelled_at",
    ),
    "order_lines": (
        "id", "order_id", "position", "product_id", "description", "quantity_milli",
        "unit_price_minor", "discount_bp", "tax_rate_bp", "net_minor", "tax_minor",
    ),
}  # fmt: skip
TICKET_COLUMNS = {
    "tickets": (
        "id", "version", "customer_id", "contact_id", "order_id", "subject", "description", "type",
        "priority", "channel", "status", "assignee_id", "created_at", "updated_at",
        "first_response_due", "resolution_due", "first_response_at", "pending_since",
        "paused_seconds", "resolved_at", "closed_at", "resolution", "merged_into_id", "satisfaction",
        "satisfaction_comment", "archived_at", "response_seconds", "resolution_seconds", "met_sla",
    ),
    "ticket_messages": ("id", "ticket_id", "internal", "body", "author_id", "at"),
}  # fmt: skip
TABLES = COLUMNS | SALES_COLUMNS | TICKET_COLUMNS
STAGED_CHANGES = "temp.staged_changes"

# Weighted pools: rng.choice on a pool is several times faster than rng.choices.
COUNTRY_POOL = tuple(
    country
    for country, weight in zip(words.COUNTRIES, words.COUNTRY_WEIGHTS, strict=True)
    for _ in range(weight)
)
LIFECYCLE_POOL = ("lead",) * 35 + ("prospect",) * 25 + ("customer",) * 30 + ("inactive",) * 10
TAG_COUNTS = (0, 0, 1, 1, 1, 2, 3)  # tags per customer, about one on average
NL_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
UK_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
UK_AREAS = ("SW", "EC", "N", "M", "B", "LS", "G", "BS")
USD_SHARE = 0.15  # deals in USD; the rest are in EUR
FREE_TEXT_TAX_BP = {"EUR": 1900, "USD": 0}  # tax on order lines without a product
ORDERS_PER_WON_DEAL = 1 / 5
ORDER_STATUS_POOL = (
    ("draft",) * 8 + ("confirmed",) * 15 + ("fulfilled",) * 20 + ("paid",) * 47 + ("cancelled",) * 10
)
LINES_PER_ORDER = (1, 1, 1, 1, 1, 2, 2, 2, 3, 3)
DISCOUNTS_BP = (0, 0, 0, 0, 0, 0, 500, 1000, 1000, 1500)
TICKET_DAYS = 730  # tickets are created over the two years before the moment they are made for
TICKET_CHUNK = 50_000
# crm's default SLA policies (migration 0004): priority -> (first response, resolution) minutes.
SLA_MINUTES = {"urgent": (60, 240), "high": (240, 1440), "normal": (480, 4320), "low": (1440, 10080)}
TICKET_TYPE_POOL = ("question",) * 35 + ("service_request",) * 30 + ("incident",) * 20 + ("complaint",) * 15
PRIORITY_POOL = ("low",) * 20 + ("normal",) * 55 + ("high",) * 20 + ("urgent",) * 5
CHANNEL_POOL = ("email",) * 55 + ("phone",) * 30 + ("in_person",) * 5 + ("other",) * 10
SATISFACTION_POOL = (5,) * 45 + (4,) * 30 + (3,) * 12 + (2,) * 7 + (1,) * 6
LATE_RESPONSE = 0.02  # tickets whose first reply comes after its due time
LATE_RESOLUTION = 0.03  # tickets resolved after their due time
CALENDAR = WorkingTime()  # the SLA clock of generated tickets: crm's default
# Letters that NFKD does not take apart; \u0131 is the Turkish dotless i.
_ASCII = str.maketrans({"ø": "o", "æ": "ae", "\u0131": "i", "ł": "l", "đ": "d", "œ": "oe"})


def insert_sql(table: str) -> str:
    """INSERT INTO table (columns) VALUES (?, ...) for the columns the generator fills."""
    columns = TABLES[table]
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def stamp(moment: datetime) -> str:
    """A naive UTC time as SQLAlchemy's SQLite DATETIME stores it: 2025-06-30 18:00:00.000000."""
    return moment.isoformat(" ", "microseconds")


@functools.lru_cache(maxsize=200_000)
def key(name: str, company: bool) -> str:
    """crm's own name key; cached because person names repeat a lot."""
    return name_key(name, company=company)


@functools.lru_cache(maxsize=50_000)
def slug(text: str, separator: str = "-") -> str:
    """Lower-case ASCII words for emails and domains: "Ødegaard & Søn" gives "odegaard-son"."""
    plain = fold(text).translate(_ASCII).encode("ascii", "ignore").decode()
    return separator.join(plain.split())


def phone_number(country: words.Country, prefix: str, digits: int, serial: int) -> str:
    """An E.164 number; the subscriber part is the serial scrambled, so distinct serials
    below 10**7 give distinct numbers (7919 is coprime to 10, the map is one-to-one)."""
    width = digits - len(prefix)
    subscriber = (serial * 7919 + 1_234_567) % 10**width
    return f"+{country.dial}{prefix}{subscriber:0{width}d}"


class Generator:
    """Makes the rows of one database; every choice comes from one seeded Random."""

    def __init__(self, customers: int, seed: int, users: list[tuple[int, str]]) -> None:
        self.rng = random.Random(seed)
        # The long history has its own Random, so that every other row is as without it.
        self.history_rng = random.Random(f"timeline-{seed}")
        self.user_ids = [user_id for user_id, _ in users]
        owners = [user_id for user_id, role in users if role in ("sales", "manager")]
        # One customer in 25 has no owner yet.
        self.owner_pool = [*owners * 6, None]
        self.assignee_pool = [user_id for user_id, role in users if role != "admin"]
        span = int((END - START).total_seconds() * 1_000_000)
        self.step = max(1, span // customers)  # creation times grow with the id
        self.next_ids = {"contacts": 1, "activities": 1, "tasks": 1}
        # What deals need to know of customer N, at index N - 1: microseconds from START
        # to its creation, its owner (0 for none), its first contact id and contact count.
        self.created_us = array("q")
        self.owners = array("l")
        self.first_contacts = array("l")
        self.contact_counts = array("b")

    # Pieces shared by the database rows and the import benchmark's records

    def company_name(self, country: words.Country, city: str) -> str:
        rng = self.rng
        pattern = rng.random()
        if pattern < 0.35:
            base = f"{rng.choice(words.LAST_NAMES)} {rng.choice(words.COMPANY_TRADES)}"
        elif pattern < 0.65:
            base = f"{rng.choice(words.COMPANY_WORDS)} {rng.choice(words.COMPANY_TRADES)}"
        elif pattern < 0.80:
            base = f"{rng.choice(words.LAST_NAMES)} & {rng.choice(words.LAST_NAMES)}"
        elif pattern < 0.90:
            base = (
                f"{rng.choice(words.COMPANY_WORDS)} {rng.choice(words.COMPANY_WORDS)} "
                f"{rng.choice(words.COMPANY_TRADES)}"
            )
        else:
            base = f"{city} {rng.choice(words.COMPANY_TRADES)}"
        return self.with_legal_form(base, country)

    def with_legal_form(self, base: str, country: words.Country) -> str:
        if self.rng.random() < 0.7:
            return f"{base} {self.rng.choice(country.legal_forms)}"
        return base

    def person_name(self) -> tuple[str, str]:
        return self.rng.choice(words.FIRST_NAMES), self.rng.choice(words.LAST_NAMES)

    def address(self, country: words.Country) -> tuple[str, str]:
        """(street, postcode) in the country's style."""
        rng = self.rng
        street, number = rng.choice(country.streets), rng.randint(1, 180)
        line = f"{number} {street}" if country.number_first else f"{street} {number}"
        return line, self.postcode(country.postcode_style)

    def postcode(self, style: str) -> str:
        rng = self.rng
        if style == "nl":
            return f"{rng.randint(1000, 9999)} {rng.choice(NL_LETTERS)}{rng.choice(NL_LETTERS)}"
        if style == "uk":
            inward = f"{rng.randint(1, 9)}{rng.choice(UK_LETTERS)}{rng.choice(UK_LETTERS)}"
            return f"{rng.choice(UK_AREAS)}{rng.randint(1, 20)} {inward}"
        return f"{rng.randint(1000, 99999):05d}"

    def moment_after(self, start: datetime) -> datetime:
        """A time between ``start`` and END."""
        span = int((END - start).total_seconds() * 1_000_000)
        return start + timedelta(microseconds=self.rng.randrange(max(1, span)))

    # Whole customers with everything attached

    def chunk(self, first: int, count: int) -> dict[str, list[tuple[Any, ...]]]:
        """Rows for customers first .. first+count-1 and their tags, contacts, notes, tasks."""
        rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in COLUMNS}
        for customer_id in range(first, first + count):
            self.customer(customer_id, rows)
        return rows

    def customer(self, customer_id: int, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        rng = self.rng
        country = rng.choice(COUNTRY_POOL)
        city, area = rng.choice(country.cities)
        offset = (customer_id - 1) * self.step + rng.randrange(self.step)
        created = START + timedelta(microseconds=offset)
        updated = created if rng.random() < 0.4 else self.moment_after(created)
        company = company_key = website = None
        if rng.random() < 0.7:
            kind = "company"
            name = self.company_name(country, city)
            domain = f"{slug(key(name, True))}.{country.tld}"
            email = f"{rng.choice(words.COMPANY_MAILBOXES)}.{customer_id}@{domain}"
            if rng.random() < 0.8:
                website = f"https://www.{domain}"
        else:
            kind = "person"
            first, last = self.person_name()
            name = f"{first} {last}"
            domain = rng.choice(words.WEBMAIL)
            email = f"{slug(first, '')}.{slug(last, '')}{customer_id}@{domain}"
            if rng.random() < 0.4:
                company = self.company_name(country, city)
                company_key = key(company, True)
        phone = phone_number(country, area, country.national_digits, customer_id)
        street, postcode = self.address(country)
        archived = stamp(updated) if rng.random() < 0.02 else None
        rows["customers"].append(
            (
                customer_id, 1, name, key(name, kind == "company"), kind, company, company_key,
                rng.choice(LIFECYCLE_POOL), rng.choice(words.SEGMENTS), rng.choice(self.owner_pool),
                email, phone if rng.random() < 0.9 else None, website, street, city, postcode,
                country.code, rng.choice(words.INDUSTRIES), rng.choice(words.SOURCES), "{}",
                stamp(created), stamp(updated), archived, None,
            )
        )  # fmt: skip
        self.created_us.append(offset)
        self.owners.append(rows["customers"][-1][9] or 0)
        self.first_contacts.append(self.next_ids["contacts"])
        tag_ids = rng.sample(range(1, len(words.TAGS) + 1), rng.choice(TAG_COUNTS))
        rows["customer_tags"].extend((customer_id, tag_id) for tag_id in sorted(tag_ids))
        self.contacts(customer_id, country, domain, created, rows["contacts"])
        self.contact_counts.append(self.next_ids["contacts"] - self.first_contacts[-1])
        first_activity = self.next_ids["activities"]
        self.activities(customer_id, created, rows["activities"])
        if customer_id == LONG_TIMELINE_CUSTOMER:
            self.long_history(country, created, first_activity, rows)
        if rng.random() < 1 / 3:
            self.task(customer_id, name, created, rows["tasks"])

    def long_history(
        self,
        country: words.Country,
        created: datetime,
        first_activity: int,
        rows: dict[str, list[tuple[Any, ...]]],
    ) -> None:
        """Make the customer just added the one with a long history: an active company
        named LONG_TIMELINE_NAME whose timeline has LONG_TIMELINE_ENTRIES entries in place
        of its own few, numbered in time order. Its other fields stay as drawn."""
        domain = f"{slug(key(LONG_TIMELINE_NAME, True))}.{country.tld}"
        row = list(rows["customers"][-1])
        customer_id = row[0]
        row[2:7] = [LONG_TIMELINE_NAME, key(LONG_TIMELINE_NAME, True), "company", None, None]
        row[10] = f"info.{customer_id}@{domain}"
        row[12] = f"https://www.{domain}"
        row[22] = None  # not archived: it is opened from the list of active customers
        rows["customers"][-1] = tuple(row)
        entries = rows["activities"]
        del entries[len(entries) - (self.next_ids["activities"] - first_activity) :]
        self.next_ids["activities"] = first_activity
        saved, self.rng = self.rng, self.history_rng
        try:
            for _ in range(LONG_TIMELINE_ENTRIES):
                self.activity(customer_id, created, entries)
        finally:
            self.rng = saved
        added = sorted(entries[len(entries) - LONG_TIMELINE_ENTRIES :], key=lambda entry: entry[7])
        entries[len(entries) - LONG_TIMELINE_ENTRIES :] = [
            (first_activity + index, *entry[1:]) for index, entry in enumerate(added)
        ]

    def contacts(
        self,
        customer_id: int,
        country: words.Country,
        domain: str,
        created: datetime,
        rows: list[tuple[Any, ...]],
    ) -> None:
        """0 to 4 people at the customer, 2 on average."""
        rng = self.rng
        for _ in range(rng.randrange(5)):
            contact_id = self._next("contacts")
            first, last = self.person_name()
            name = f"{first} {last}"
            serial = CONTACT_PHONES + contact_id
            city_area = rng.choice(country.cities)[1]
            phone = phone_number(country, city_area, country.national_digits, serial)
            mobile = phone_number(country, rng.choice(country.mobile_prefixes), country.mobile_digits, serial)
            added = self.moment_after(created)
            rows.append(
                (
                    contact_id, 1, customer_id, name, key(name, False),
                    rng.choice(words.JOB_TITLES),
                    f"{slug(first, '')}.{slug(last, '')}.{contact_id}@{domain}",
                    phone if rng.random() < 0.7 else None,
                    mobile if rng.random() < 0.5 else None,
                    stamp(added), stamp(added),
                )
            )  # fmt: skip

    def activities(self, customer_id: int, created: datetime, rows: list[tuple[Any, ...]]) -> None:
        """0 to 6 timeline entries, 3 on average."""
        for _ in range(self.rng.randrange(7)):
            self.activity(customer_id, created, rows)

    def activity(self, customer_id: int, created: datetime, rows: list[tuple[Any, ...]]) -> None:
        """A note, call, email or meeting some time after ``created``."""
        rng = self.rng
        kind = rng.choice(words.ACTIVITY_KINDS)
        occurred = self.moment_after(created)
        logged = occurred + timedelta(seconds=rng.randrange(600))
        body = " ".join(rng.sample(words.SENTENCES, rng.randint(1, 3)))
        rows.append(
            (
                self._next("activities"), 1, customer_id, kind,
                rng.choice(words.SUBJECTS[kind]), body, rng.choice(self.user_ids),
                stamp(occurred), stamp(logged),
            )
        )  # fmt: skip

    def task(self, customer_id: int, name: str, created: datetime, rows: list[tuple[Any, ...]]) -> None:
        """One follow-up; four in ten are done, most have a due date around END."""
        rng = self.rng
        made = self.moment_after(created)
        due = None
        if rng.random() < 0.9:
            due = (END.date() + timedelta(days=rng.randint(-90, 60))).isoformat()
        done = stamp(self.moment_after(made)) if rng.random() < 0.4 else None
        rows.append(
            (
                self._next("tasks"), 1, rng.choice(words.TASK_TITLES).format(name=name),
                rng.choice(("", "", rng.choice(words.SENTENCES))), customer_id,
                rng.choice(self.assignee_pool), due, done, rng.choice(self.user_ids), stamp(made),
            )
        )  # fmt: skip

    def _next(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    # Records for `crm customer add --from`

    def new_customer(self, number: int) -> dict[str, str]:
        """A customer record as `crm customer add --from` reads it, unlike any other.

        The company name carries ``number`` and the email and phone are made from it, so
        crm's duplicate check (same email, phone, or name at the same company) never fires.
        """
        rng = self.rng
        country = rng.choice(COUNTRY_POOL)
        city, area = rng.choice(country.cities)
        trade = f"{rng.choice(words.COMPANY_WORDS)} {rng.choice(words.COMPANY_TRADES)}"
        company = self.with_legal_form(f"{trade} {number:05d}", country)
        domain = f"{slug(key(company, True))}.{country.tld}"
        street, postcode = self.address(country)
        record = {"kind": "company", "name": company}
        if rng.random() < 0.3:
            first, last = self.person_name()
            record = {"kind": "person", "name": f"{first} {last}", "company": company}
        serial = NEW_CUSTOMER_PHONES + number
        record |= {
            "lifecycle": rng.choice(LIFECYCLE_POOL),
            "segment": rng.choice(words.SEGMENTS),
            "email": f"{rng.choice(words.COMPANY_MAILBOXES)}.new{number}@{domain}",
            "phone": phone_number(country, area, country.national_digits, serial),
            "website": f"https://www.{domain}",
            "street": street,
            "postcode": postcode,
            "city": city,
            "country": country.code,
            "industry": rng.choice(words.INDUSTRIES),
            "source": rng.choice(words.SOURCES),
        }
        return {field: value for field, value in record.items() if value is not None}


def new_customers(count: int, seed: int = 1) -> list[dict[str, str]]:
    """``count`` distinct customer records for the import benchmark."""
    generator = Generator(1, seed, [(1, "admin")])
    return [generator.new_customer(number) for number in range(1, count + 1)]


# Deals, products and orders


@dataclass(frozen=True)
class Pipeline:
    """The stages deals move through, as crm made them (the default pipeline)."""

    id: int
    open: tuple[int, ...]  # the open stages' ids, by position
    won: int
    lost: int


def _open_share(age: float) -> float:
    """The share of deals still open at ``age`` (0 the youngest, 1 the oldest): 40 % over all."""
    return 0.65 - 0.5 * age


def _chosen_open(deals: int, count: int, seed: int) -> bytearray:
    """A flag per deal id (index 0 unused): ``count`` of the ``deals`` are open, drawn
    without replacement with each deal's weight its open share by age, so that young
    deals stay mostly open (Efraimidis and Spirakis: the largest keys ``u ** (1 / w)``)."""
    rng = random.Random(f"open-{seed}")
    keys = [rng.random() ** (1 / _open_share(1 - index / deals)) for index in range(deals)]
    flags = bytearray(deals + 1)
    for index in heapq.nlargest(count, range(deals), key=keys.__getitem__):
        flags[index + 1] = 1
    return flags


def _linear_pool(size: int) -> tuple[int, ...]:
    """0 .. size-1, each i weighted size - i: early stages are where most deals stop."""
    return tuple(index for index in range(size) for _ in range(size - index))


class SalesGenerator:
    """Makes deals with their stage history, and orders for some won deals.

    It has its own seeded Random, so that the customers are the same whether or not
    deals are made; it reads what it needs of the customers from their generator.
    """

    def __init__(
        self,
        deals: int,
        seed: int,
        customers: Generator,
        users: list[tuple[int, str]],
        pipeline: Pipeline,
        open_deals: int | None = None,
    ) -> None:
        self.rng = random.Random(f"sales-{seed}")
        # Which deals end open, when their number is given; else each draws it by its age.
        self.open_flags = None if open_deals is None else _chosen_open(deals, open_deals, seed)
        self.customers = customers
        self.pipeline = pipeline
        sellers = [user_id for user_id, role in users if role == "sales"]
        managers = [user_id for user_id, role in users if role == "manager"]
        self.owner_pool = [*sellers * 3, *managers] or [users[0][0]]
        self.span_us = int((END - DEAL_START).total_seconds() * 1_000_000)
        self.step = max(1, self.span_us // deals)  # creation times grow with the id
        self.start_us = int((DEAL_START - START).total_seconds() * 1_000_000)
        self.stop_pool = _linear_pool(len(pipeline.open))
        self.products = [
            (product_id, *product)
            for product_id, product in enumerate(words.PRODUCTS, start=1)
            if product[6]  # only products still sold
        ]
        self.orders: list[tuple[Any, ...]] = []  # (created, order row without id, lines)

    def product_rows(self) -> list[tuple[Any, ...]]:
        added = stamp(DEAL_START - timedelta(days=90))
        retired = stamp(DEAL_START + timedelta(days=200))
        return [
            (product_id, 1, sku, name, price, currency, tax, active, added,
             added if active else retired)
            for product_id, (sku, name, price, currency, tax, _, active) in enumerate(
                words.PRODUCTS, start=1
            )
        ]  # fmt: skip

    def chunk(self, first: int, count: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Rows of deals first .. first+count-1, and of their stage changes."""
        deals: list[tuple[Any, ...]] = []
        changes: list[tuple[Any, ...]] = []
        for deal_id in range(first, first + count):
            self.deal(deal_id, deals, changes)
        return deals, changes

    def deal(self, deal_id: int, deals: list[tuple[Any, ...]], changes: list[tuple[Any, ...]]) -> None:
        rng = self.rng
        offset = (deal_id - 1) * self.step + rng.randrange(self.step)
        created = DEAL_START + timedelta(microseconds=offset)
        customer_id, contact_id, customer_owner = self.customer_at(offset)
        # Young deals are mostly open, old ones mostly closed: 40 % open over all.
        open_share = _open_share(1 - offset / self.span_us)
        chance = rng.random()  # the closed ones are won and lost alike
        if self.open_flags is None:
            won_below = 0.5 + open_share / 2
            outcome = "open" if chance < open_share else "won" if chance < won_below else "lost"
        else:
            outcome = "open" if self.open_flags[deal_id] else "won" if chance < 0.5 else "lost"
        stages = self.path(outcome)
        moments = self.history_times(created, len(stages), outcome)
        keep = customer_owner and rng.random() < 0.8  # mostly the customer's own owner
        owner = customer_owner if keep else rng.choice(self.owner_pool)
        previous = None
        for stage_id, moment in zip(stages, moments, strict=True):
            actor = owner if rng.random() < 0.9 else rng.choice(self.owner_pool)
            changes.append((deal_id, previous, stage_id, stamp(moment), actor))
            previous = stage_id
        last = moments[-1]
        currency = "USD" if rng.random() < USD_SHARE else "EUR"
        amount = self.amount()
        subject = rng.choice(words.DEAL_SUBJECTS)
        form = rng.random()
        if form < 0.3:
            title = f"{subject} {created.year}"
        elif form < 0.45:
            title = f"{subject} ({rng.randint(2, 60)} seats)"
        else:
            title = subject
        expected = None
        if rng.random() < 0.92:
            expected = created.date() + timedelta(days=rng.randint(14, 120))
            if outcome == "open" and expected < END.date() and rng.random() < 0.5:
                expected = END.date() + timedelta(days=rng.randint(1, 150))  # moved on
        closed = stamp(last) if outcome != "open" else None
        updated = last
        if outcome == "open" and rng.random() < 0.3:
            updated = self.moment_between(last, END)  # edited since its last move
        archived = None
        if rng.random() < 0.03:
            updated = self.moment_between(updated, END)
            archived = stamp(updated)
        deals.append(
            (
                deal_id, 1, customer_id, contact_id, title, amount, currency, self.pipeline.id,
                stages[-1], outcome, owner, expected.isoformat() if expected else None, closed,
                rng.choice(words.LOST_REASONS) if outcome == "lost" else None,
                rng.choice(words.SOURCES), stamp(created), stamp(updated), archived,
            )
        )  # fmt: skip
        if outcome == "won" and rng.random() < ORDERS_PER_WON_DEAL:
            self.order(deal_id, customer_id, owner, currency, amount, title, last)

    def customer_at(self, offset: int) -> tuple[int, int | None, int]:
        """(customer id, contact id or None, the customer's owner or 0) for a deal made
        ``offset`` microseconds after DEAL_START: any customer that existed by then."""
        facts = self.customers
        existing = bisect.bisect_right(facts.created_us, self.start_us + offset)
        customer_id = self.rng.randint(1, max(1, existing))
        index = customer_id - 1
        contact_id = None
        if facts.contact_counts[index] and self.rng.random() < 0.6:
            contact_id = facts.first_contacts[index] + self.rng.randrange(facts.contact_counts[index])
        return customer_id, contact_id, facts.owners[index]

    def amount(self) -> int:
        """Minor units: log-normal around 8,000, whole hundreds above 1,000; a few with cents."""
        rng = self.rng
        units = min(2_000_000, max(100, rng.lognormvariate(math.log(8_000), 1.0)))
        units = round(units, -1 if units < 1_000 else -2)
        cents = rng.randrange(1, 100) if rng.random() < 0.1 else 0
        return int(units) * 100 + cents

    def path(self, outcome: str) -> list[int]:
        """The stages a deal entered, in order: a start, forward moves (now and then two
        at once), the occasional step back, rarely a loss it was reopened from, and at
        the end the won or lost stage if it closed."""
        rng = self.rng
        opens = self.pipeline.open
        chance = rng.random()
        start = 0 if chance < 0.75 else min(1 if chance < 0.93 else 2, len(opens) - 1)
        if outcome == "won":
            stop = len(opens) - 1 if rng.random() < 0.75 else len(opens) - 2
        else:
            stop = rng.choice(self.stop_pool)
        stop = max(start, stop)
        here, backs, visited = start, 0, [start]
        while here < stop:
            if here > start and backs < 2 and rng.random() < 0.08:
                here, backs = here - 1, backs + 1
            elif here + 2 <= stop and rng.random() < 0.1:
                here += 2
            else:
                here += 1
            visited.append(here)
        stages = [opens[index] for index in visited]
        if rng.random() < 0.02:  # lost once, then reopened where it was
            stages += [self.pipeline.lost, opens[stop]]
        if outcome != "open":
            stages.append(self.pipeline.won if outcome == "won" else self.pipeline.lost)
        return stages

    def history_times(self, created: datetime, changes: int, outcome: str) -> list[datetime]:
        """``changes`` strictly increasing moments, the first ``created``; closed deals
        take a log-normal sales cycle (won about 5 weeks, lost about 3), cut short when
        it would run past END."""
        rng = self.rng
        if changes == 1:
            return [created]
        median_days = {"won": 35, "lost": 20, "open": 20}[outcome]
        days = min(400.0, max(0.5, rng.lognormvariate(math.log(median_days), 0.8)))
        seconds = days * 86_400
        available = (END - created).total_seconds()
        if seconds > available:
            seconds = available * (0.5 + 0.5 * rng.random())
        weights = [rng.expovariate(1.0) + 0.2 for _ in range(changes - 1)]
        return self.timeline(created, [seconds * weight / sum(weights) for weight in weights])

    @staticmethod
    def timeline(start: datetime, gaps: list[float]) -> list[datetime]:
        """``start`` and the moments ``gaps`` seconds apart, each at least a second later."""
        moments = [start]
        for gap in gaps:
            moments.append(moments[-1] + timedelta(seconds=1 + gap))
        return moments

    def moment_between(self, low: datetime, high: datetime) -> datetime:
        span = int((high - low).total_seconds() * 1_000_000)
        return low + timedelta(microseconds=self.rng.randrange(max(1, span)))

    # Orders

    def order(
        self,
        deal_id: int,
        customer_id: int,
        owner: int,
        currency: str,
        amount: int,
        title: str,
        won: datetime,
    ) -> None:
        """An order for a won deal, made within three days of the win; it got as far as
        its status allows before END (a recent one may still be a draft)."""
        rng = self.rng
        created = won + timedelta(hours=rng.uniform(0.5, 72))
        if created > END:
            created = self.moment_between(won, END)
        wanted = rng.choice(ORDER_STATUS_POOL)
        steps: list[tuple[str, float]] = []
        if wanted != "draft":
            steps.append(("confirmed", rng.uniform(0.5, 72)))
        if wanted in ("fulfilled", "paid"):
            steps.append(("fulfilled", rng.uniform(24, 21 * 24)))
        if wanted == "paid":
            steps.append(("paid", rng.uniform(3 * 24, 45 * 24)))
        if wanted == "cancelled":
            steps.append(("cancelled", rng.uniform(24, 10 * 24)))
        status, moment, updated, times = "draft", created, created, {}
        for name, hours in steps:
            moment += timedelta(hours=hours)
            if moment > END:
                break
            status, updated, times[name] = name, moment, stamp(moment)
        lines = self.lines(currency, amount, title)
        net = sum(line[-2] for line in lines)
        tax = sum(line[-1] for line in lines)
        row = (
            customer_id, deal_id, owner, status, currency, net, tax, net + tax,
            rng.choice(words.CANCEL_REASONS) if status == "cancelled" else None,
            stamp(created), stamp(updated), times.get("confirmed"), times.get("fulfilled"),
            times.get("paid"), times.get("cancelled"),
        )  # fmt: skip
        self.orders.append((created, deal_id, row, lines))

    def lines(self, currency: str, amount: int, title: str) -> list[tuple[Any, ...]]:
        """1 to 3 priced lines (product id, description, quantity, price, discount, tax
        rate, net, tax): the first is often the deal itself, as `crm deal win --order`
        drafts it, the others products in the order's currency."""
        rng = self.rng
        sold = [product for product in self.products if product[4] == currency]
        lines = []
        for position in range(1, rng.choice(LINES_PER_ORDER) + 1):
            if (position == 1 and rng.random() < 0.6) or not sold:
                product_id, description, price = None, title, amount
                quantity, tax_rate = 1000, FREE_TEXT_TAX_BP.get(currency, 0)
            else:
                product_id, _, description, price, _, tax_rate, style, _ = rng.choice(sold)
                if style == "seats":
                    quantity = rng.randint(1, 50) * 1000
                elif style == "hours":
                    quantity = rng.randint(1, 80) * 500
                else:
                    quantity = 1000 if rng.random() < 0.9 else 2000
            discount = rng.choice(DISCOUNTS_BP)
            net, tax = line_amounts(quantity, price, discount, tax_rate)
            lines.append((product_id, description, quantity, price, discount, tax_rate, net, tax))
        return lines

    def order_rows(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Rows of the orders and their lines, numbered in order of creation."""
        orders: list[tuple[Any, ...]] = []
        lines: list[tuple[Any, ...]] = []
        self.orders.sort(key=lambda order: (order[0], order[1]))
        for order_id, (_, _, row, priced) in enumerate(self.orders, start=1):
            orders.append((order_id, 1, *row))
            for position, line in enumerate(priced, start=1):
                lines.append((len(lines) + 1, order_id, position, *line))
        return orders, lines


# Tickets


@dataclass
class TicketTimes:
    """A generated ticket's times, as crm's ``measure_spans`` reads them from a ticket."""

    created_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    paused_seconds: int


class TicketGenerator:
    """Makes service tickets and their messages, over the two years before ``now``.

    The moment a ticket is made for is the real present (crm judges "breached" against
    its own clock), so young tickets are still waiting: new, open or pending. Each ticket
    gets a first reply and a resolution that mostly meet the default SLA policies; a few
    are late, and those still waiting past a due time are breached. The clock is calendar
    time, crm's default, and the spans each ticket keeps for the service report are
    measured from its times by crm's own ``measure_spans``.
    """

    def __init__(
        self, tickets: int, seed: int, customers: Generator, agents: list[int], now: datetime
    ) -> None:
        self.rng = random.Random(f"tickets-{seed}")
        self.customers = customers
        self.agents = agents
        self.now = now
        self.start = now - timedelta(days=TICKET_DAYS)
        self.span_us = TICKET_DAYS * 86_400_000_000
        self.step = max(1, self.span_us // max(1, tickets))
        self.start_us = int((self.start - START).total_seconds() * 1_000_000)
        self.next_message = 1
        self.last_of_customer: dict[int, int] = {}

    def chunk(self, first: int, count: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        tickets: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        for ticket_id in range(first, first + count):
            self.ticket(ticket_id, tickets, messages)
        return tickets, messages

    def _customer(self, offset: int) -> tuple[int, int | None]:
        facts = self.customers
        existing = bisect.bisect_right(facts.created_us, self.start_us + offset)
        customer_id = self.rng.randint(1, max(1, existing))
        index = customer_id - 1
        contact_id = None
        if facts.contact_counts[index] and self.rng.random() < 0.5:
            contact_id = facts.first_contacts[index] + self.rng.randrange(facts.contact_counts[index])
        return customer_id, contact_id

    def _text(self, kind: str) -> tuple[str, str]:
        rng = self.rng
        subject = rng.choice(words.TICKET_SUBJECTS[kind]).format(
            city=rng.choice(rng.choice(COUNTRY_POOL).cities)[0],
            name=rng.choice(words.FIRST_NAMES),
            number=rng.randint(10_000, 99_999),
        )
        return subject, " ".join(rng.sample(words.TICKET_SENTENCES, rng.randint(1, 3)))

    def ticket(self, ticket_id: int, tickets: list[tuple[Any, ...]], messages: list[tuple[Any, ...]]) -> None:
        rng, now = self.rng, self.now
        offset = (ticket_id - 1) * self.step + rng.randrange(self.step)
        created = self.start + timedelta(microseconds=offset)
        customer_id, contact_id = self._customer(offset)
        kind, priority = rng.choice(TICKET_TYPE_POOL), rng.choice(PRIORITY_POOL)
        channel = rng.choice(CHANNEL_POOL)
        subject, description = self._text(kind)
        response_minutes, resolution_minutes = SLA_MINUTES[priority]
        # Minutes after creation of the first public reply (None: never, e.g. solved on the
        # phone) and of the resolution, not counting time spent pending.
        chance = rng.random()
        if chance < 0.04:
            reply = None
        elif chance < 0.04 + LATE_RESPONSE:
            reply = response_minutes * rng.uniform(1.05, 3)
        else:
            reply = response_minutes * min(0.97, rng.lognormvariate(math.log(0.25), 0.8))
        if rng.random() < LATE_RESOLUTION:
            work = resolution_minutes * rng.uniform(1.05, 3)
        else:
            work = resolution_minutes * min(0.97, rng.lognormvariate(math.log(0.3), 0.9))
        work = max(work, (reply or 0) + rng.uniform(5, 120))
        # One pending spell (waiting on the customer) for a quarter of the tickets; a few
        # wait for weeks.
        pause_at = pause = None
        if rng.random() < 0.25:
            pause_from = (reply or 0) + 1
            pause_at = created + timedelta(
                minutes=pause_from + rng.random() * max(1, work - pause_from) * 0.8
            )
            days = (
                rng.uniform(30, 200)
                if rng.random() < 0.01
                else min(45.0, rng.lognormvariate(math.log(0.8), 1.0))
            )
            pause = timedelta(days=days)
        paused = pause if pause_at is not None and pause is not None and pause_at + pause <= now else None
        solved = created + timedelta(minutes=work) + (pause or timedelta())
        replied = created + timedelta(minutes=reply) if reply is not None else None
        if replied is not None and pause_at is not None and pause_at <= replied:
            replied += pause or timedelta()
        response_due = created + timedelta(minutes=response_minutes)
        resolution_due = created + timedelta(minutes=resolution_minutes)
        pending_since = resolved = closed = resolution = satisfaction = comment = None
        if solved <= now:
            status, resolved = "resolved", solved
            closing = solved + timedelta(days=rng.uniform(2, 10))
            if closing <= now and rng.random() < 0.9:
                status, closed = "closed", closing
            resolution = rng.choice(words.RESOLUTIONS)
            if rng.random() < 0.3:
                satisfaction = rng.choice(SATISFACTION_POOL)
                if rng.random() < 0.3:
                    comment = rng.choice(words.SATISFACTION_COMMENTS)
        elif pause_at is not None and pause is not None and pause_at <= now < pause_at + pause:
            status, pending_since, paused = "pending", pause_at, None
        elif (replied is not None and replied <= now) or paused is not None:
            status = "open"
        else:
            status = "new"
        if replied is not None and replied > now:
            replied = None
        if paused is not None:  # resumed: the due times moved on by the time it waited
            resolution_due += paused
            if replied is None or replied > pause_at:  # type: ignore[operator]
                response_due += paused
        assignee = rng.choice(self.agents)
        if rng.random() < (0.5 if status == "new" else 0.04):
            assignee = None
        merged = archived = None
        earlier = self.last_of_customer.get(customer_id)
        if earlier is not None and rng.random() < 0.01:  # a duplicate, merged into the earlier one
            merged, status, pending_since = earlier, "closed", None
            resolved = closed = min(now, created + timedelta(minutes=rng.uniform(5, 600)))
            resolution, satisfaction, comment = "Merged into an earlier ticket.", None, None
        self.last_of_customer[customer_id] = ticket_id
        last = max(moment for moment in (created, replied, pending_since, resolved, closed) if moment)
        if paused is not None:
            last = max(last, pause_at + paused)  # type: ignore[operator]
        if rng.random() < 0.003:
            archived = last = min(now, last + timedelta(days=rng.uniform(0, 30)))
        paused_seconds = round(paused.total_seconds()) if paused is not None else 0
        spans = measure_spans(
            CALENDAR,
            TicketTimes(
                created_at=created, first_response_due=response_due, resolution_due=resolution_due,
                first_response_at=replied, resolved_at=resolved, paused_seconds=paused_seconds,
            ),
        )  # fmt: skip
        tickets.append(
            (
                ticket_id, 1, customer_id, contact_id, None, subject, description, kind, priority,
                channel, status, assignee, stamp(created), stamp(last), stamp(response_due),
                stamp(resolution_due), stamp(replied) if replied else None,
                stamp(pending_since) if pending_since else None, paused_seconds,
                stamp(resolved) if resolved else None, stamp(closed) if closed else None, resolution,
                merged, satisfaction, comment, stamp(archived) if archived else None, *spans,
            )
        )  # fmt: skip
        self.messages(
            ticket_id, created, replied, resolved or min(now, last + timedelta(hours=1)), assignee, messages
        )

    def messages(
        self,
        ticket_id: int,
        created: datetime,
        replied: datetime | None,
        until: datetime,
        assignee: int | None,
        rows: list[tuple[Any, ...]],
    ) -> None:
        """1 to 4 messages: the first public reply if there was one, then replies and notes."""
        rng = self.rng
        found: list[tuple[datetime, bool, str, int]] = []
        count = rng.randint(1, 4)
        if replied is not None:
            found.append(
                (replied, False, rng.choice(words.TICKET_REPLIES), assignee or rng.choice(self.agents))
            )
        while len(found) < count:
            moment = self.between(created, max(until, created + timedelta(seconds=2)))
            internal = replied is None or moment <= replied or rng.random() < 0.35
            body = rng.choice(words.TICKET_NOTES if internal else words.TICKET_REPLIES)
            author = assignee if assignee and rng.random() < 0.8 else rng.choice(self.agents)
            found.append((moment, internal, body, author))
        for moment, internal, body, author in sorted(found, key=lambda message: message[0]):
            rows.append((self.next_message, ticket_id, int(internal), body, author, stamp(moment)))
            self.next_message += 1

    def between(self, low: datetime, high: datetime) -> datetime:
        span = int((high - low).total_seconds() * 1_000_000)
        return low + timedelta(microseconds=1_000_000 + self.rng.randrange(max(1, span - 1_000_000)))


# Writing a database


def _insert_users(db: sqlite3.Connection) -> list[tuple[int, str]]:
    """The team after crm's own first admin; returns (id, role) of every user."""
    admin_id = db.execute("SELECT id FROM users WHERE username = 'admin'").fetchone()[0]
    joined = stamp(START - timedelta(days=30))
    db.executemany(
        "INSERT INTO users (id, version, username, display_name, role, active, created_at)"
        " VALUES (?, 1, ?, ?, ?, 1, ?)",
        [
            (admin_id + offset, username, display, role, joined)
            for offset, (username, display, role) in enumerate(words.USERS, start=1)
        ],
    )
    return [(admin_id, "admin")] + [
        (admin_id + offset, role) for offset, (_, _, role) in enumerate(words.USERS, start=1)
    ]


def _drop_indexes(db: sqlite3.Connection) -> list[str]:
    """Drop the indexes of the bulk tables and return the SQL that makes them again.

    Filling a table and then building each index in one sorted pass is several times
    faster than updating eight indexes row by row.
    """
    tables = ", ".join(f"'{table}'" for table in TABLES)
    found = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({tables}) ORDER BY name"
    ).fetchall()
    for name, _ in found:
        db.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


def _default_pipeline(db: sqlite3.Connection) -> Pipeline:
    """The pipeline crm's migrations made, with its stages' ids."""
    pipeline_id = db.execute("SELECT id FROM pipelines WHERE is_default").fetchone()[0]
    stages = db.execute(
        "SELECT id, kind FROM stages WHERE pipeline_id = ? AND removed_at IS NULL ORDER BY position",
        (pipeline_id,),
    ).fetchall()
    of_kind = {kind: [stage_id for stage_id, k in stages if k == kind] for kind in ("won", "lost")}
    return Pipeline(
        id=pipeline_id,
        open=tuple(stage_id for stage_id, kind in stages if kind == "open"),
        won=of_kind["won"][0],
        lost=of_kind["lost"][0],
    )


def _load_sales(
    db: sqlite3.Connection,
    deals: int,
    seed: int,
    customers: Generator,
    users: list[tuple[int, str]],
    open_deals: int | None = None,
) -> None:
    """Products, deals with their stage history, and orders, inside the open transaction.

    The stage changes go through a staging table and are copied over sorted by time, so
    that their ids follow time across deals, as they would in a database used for years.
    """
    sales = SalesGenerator(deals, seed, customers, users, _default_pipeline(db), open_deals)
    db.executemany(insert_sql("products"), sales.product_rows())
    staged = SALES_COLUMNS["deal_stage_changes"]
    db.execute(f"CREATE TABLE {STAGED_CHANGES} ({', '.join(staged)})")
    stage_sql = f"INSERT INTO {STAGED_CHANGES} VALUES ({', '.join('?' * len(staged))})"
    for first in range(1, deals + 1, CHUNK):
        deal_rows, change_rows = sales.chunk(first, min(CHUNK, deals - first + 1))
        db.executemany(insert_sql("deals"), deal_rows)
        db.executemany(stage_sql, change_rows)
        db.execute("COMMIT")
        db.execute("BEGIN")
    # The conversion flags start false; _set_sales_facts sets them once the indexes are back.
    db.execute(
        f"INSERT INTO deal_stage_changes ({', '.join(staged)}, first_entry, advanced)"
        f" SELECT {', '.join(staged)}, 0, 0 FROM {STAGED_CHANGES} ORDER BY at, deal_id"
    )
    db.execute(f"DROP TABLE {STAGED_CHANGES}")
    orders, lines = sales.order_rows()
    db.executemany(insert_sql("orders"), orders)
    db.executemany(insert_sql("order_lines"), lines)


def _insert_agents(db: sqlite3.Connection, users: list[tuple[int, str]]) -> list[int]:
    """The service users, with more added if there are fewer than four; returns their ids."""
    agents = [user_id for user_id, role in users if role == "service"]
    joined = stamp(START - timedelta(days=30))
    next_id = max(user_id for user_id, _ in users) + 1
    for username, display, role in words.SERVICE_AGENTS[: max(0, 4 - len(agents))]:
        db.execute(
            "INSERT INTO users (id, version, username, display_name, role, active, created_at)"
            " VALUES (?, 1, ?, ?, ?, 1, ?)",
            (next_id, username, display, role, joined),
        )
        agents.append(next_id)
        next_id += 1
    return agents


def _load_tickets(
    db: sqlite3.Connection,
    tickets: int,
    seed: int,
    customers: Generator,
    users: list[tuple[int, str]],
    now: datetime,
) -> None:
    """Tickets and their messages, inside the open transaction. The full-text triggers
    index each ticket as it goes in, as they do for customers, contacts and deals."""
    service = TicketGenerator(tickets, seed, customers, _insert_agents(db, users), now)
    for first in range(1, tickets + 1, TICKET_CHUNK):
        ticket_rows, message_rows = service.chunk(first, min(TICKET_CHUNK, tickets - first + 1))
        db.executemany(insert_sql("tickets"), ticket_rows)
        db.executemany(insert_sql("ticket_messages"), message_rows)
        db.execute("COMMIT")
        db.execute("BEGIN")


def _bulk_load(
    db: sqlite3.Connection,
    customers: int,
    deals: int,
    seed: int,
    tickets: int = 0,
    now: datetime = END,
    open_deals: int | None = None,
) -> None:
    # Nobody else can see the file until it is renamed into place, so a crash may
    # leave it broken: no journal, no syncs.
    for pragma in (
        "journal_mode = OFF", "synchronous = OFF", "cache_size = -262144", "threads = 2",
        "temp_store = MEMORY",
    ):  # fmt: skip
        db.execute(f"PRAGMA {pragma}")
    indexes = _drop_indexes(db)
    db.execute("BEGIN")
    users = _insert_users(db)
    db.executemany("INSERT INTO tags (id, name) VALUES (?, ?)", enumerate(words.TAGS, start=1))
    generator = Generator(customers, seed, users)
    for first in range(1, customers + 1, CHUNK):
        rows = generator.chunk(first, min(CHUNK, customers - first + 1))
        for table, batch in rows.items():
            db.executemany(insert_sql(table), batch)
        db.execute("COMMIT")
        db.execute("BEGIN")
    if deals:
        _load_sales(db, deals, seed, generator, users, open_deals)
    if tickets:
        _load_tickets(db, tickets, seed, generator, users, now)
    db.execute("COMMIT")
    for sql in indexes:
        db.execute(sql)
    if deals:
        _set_sales_facts(db)
    # crm runs in WAL mode; setting it here spares the first crm command the switch.
    db.execute("PRAGMA journal_mode = WAL")


def _set_sales_facts(db: sqlite3.Connection) -> None:
    """The stage conversion flags of every stage change, from the history, by crm's own
    ``sales_facts.recompute`` (its statements run here through ``sqlite3``)."""

    class Statements:
        def execute(self, statement: Any) -> None:
            compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
            db.execute(str(compiled))

    db.execute("BEGIN")
    sales_facts.recompute(Statements())  # type: ignore[arg-type]
    db.execute("COMMIT")


def remove_database(path: Path) -> None:
    """Delete a SQLite file with its -wal and -shm companions, if they exist."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def create_empty(path: Path) -> None:
    """A new database with crm's schema and ``admin`` as its first user, made by crm."""
    crm = open_crm(load_settings(db=str(path), user="admin"))
    crm.close()


def ticket_moment() -> datetime:
    """The present as naive UTC, to the hour: what generated tickets are made for."""
    return datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)


def generate(
    path: str | Path,
    customers: int,
    seed: int = 1,
    *,
    deals: int = 0,
    open_deals: int | None = None,
    tickets: int = 0,
    now: datetime | None = None,
) -> Path:
    """Write a new crm database with ``customers`` customers, ``deals`` deals (of which
    ``open_deals`` are open if given, else about 40 %) and ``tickets`` tickets at
    ``path``; the tickets are made for the moment ``now`` (naive UTC, default the present
    hour), since crm judges them against its clock.

    The data is written to PATH.partial and renamed at the end, so ``path`` is either
    absent or complete.
    """
    path = Path(path)
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if deals < 0 or tickets < 0:
        raise ValueError("deals and tickets must not be negative")
    if open_deals is not None and not 0 <= open_deals <= deals:
        raise ValueError("open deals must be between 0 and the number of deals")
    if path.exists():
        raise FileExistsError(f"{path} exists; generate writes new databases only")
    partial = path.with_name(path.name + ".partial")
    remove_database(partial)
    create_empty(partial)
    with closing(sqlite3.connect(partial, isolation_level=None)) as db:
        _bulk_load(db, customers, deals, seed, tickets, now or ticket_moment(), open_deals)
    os.replace(partial, path)
    return path


def cached_database(
    customers: int, seed: int = 1, *, deals: int = 0, open_deals: int | None = None, tickets: int = 0
) -> Path:
    """The database for (customers, deals, open deals, tickets, seed) under bench/data/,
    generated on first use.

    The name holds the schema revision and the generator version, so a database made
    by older code is never reused; with tickets it also holds the day (UTC), because
    which tickets are waiting or breached depends on when they were made for.
    """
    made_for = ticket_moment()
    sizes = f"{customers}-{deals}deals"
    if open_deals is not None:
        sizes += f"-{open_deals}open"
    if tickets:
        sizes += f"-{tickets}tickets-{made_for:%Y%m%d}"
    name = f"crm-{sizes}-seed{seed}-schema{HEAD}-gen{GENERATOR_VERSION}.sqlite3"
    path = DATA_DIR / name
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        generate(path, customers, seed, deals=deals, open_deals=open_deals, tickets=tickets, now=made_for)
    return path


def row_counts(path: Path) -> dict[str, int]:
    """Rows per table, for the summary line."""
    with closing(sqlite3.connect(path)) as db:
        return {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("users", "tags", *TABLES)
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description="Write a crm database full of test data."
    )
    parser.add_argument("path", type=Path, help="the database file to create")
    parser.add_argument("--customers", type=int, default=100_000, help="default: 100000")
    parser.add_argument("--deals", type=int, default=200_000, help="default: 200000; 0 for none")
    parser.add_argument(
        "--open-deals", type=int, help="how many of the deals are open (default: about 40 %%, by age)"
    )
    parser.add_argument("--tickets", type=int, default=0, help="default: 0 (none)")
    parser.add_argument("--seed", type=int, default=1, help="default: 1")
    parser.add_argument("--force", action="store_true", help="replace PATH if it exists")
    args = parser.parse_args(argv)
    if args.force:
        remove_database(args.path)
    started = time.perf_counter()
    try:
        generate(
            args.path,
            args.customers,
            args.seed,
            deals=args.deals,
            open_deals=args.open_deals,
            tickets=args.tickets,
        )
    except (FileExistsError, ValueError) as exc:
        parser.error(f"{exc} (--force replaces an existing file)")
    elapsed = time.perf_counter() - started
    counts = ", ".join(f"{count:,} {table}" for table, count in row_counts(args.path).items())
    print(f"wrote {args.path} in {elapsed:.1f} s: {counts}")


if __name__ == "__main__":
    main()
