"""A deterministic crm database for benchmarks: N customers with contacts, timeline and tasks.

crm makes the schema itself (``open_crm`` runs the Alembic migrations and makes ``admin``
the first user); the rows are then written with the standard ``sqlite3`` module in large
``executemany`` transactions, with the indexes dropped during the load and rebuilt from
their own SQL afterwards, because the ORM would take far longer at a million customers.

    python -m bench.generate PATH --customers 100000 [--seed 1]

The same size and seed always give the same rows (only the admin user's creation time,
which crm sets, differs). Emails are unique and lower case; phones are E.164 and unique
for up to 3,000,000 customers.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import sqlite3
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench import words
from crm_tui.config import load_settings
from crm_tui.logic.context import open_crm
from crm_tui.logic.normalise import fold, name_key
from crm_tui.storage.schema import HEAD

DATA_DIR = Path(__file__).resolve().parent / "data"
# Bump when the generated rows change, so that cached databases are made anew.
GENERATOR_VERSION = 1
CHUNK = 20_000  # customers per transaction: big enough to be fast, small enough for memory
START = datetime(2020, 7, 1, 8, 0)  # customers are created between START and END
END = datetime(2025, 6, 30, 18, 0)
# Serial numbers that keep phone numbers apart: customers use their id, contacts and
# customers made for the import benchmark use these offsets.
CONTACT_PHONES = 3_000_000
NEW_CUSTOMER_PHONES = 8_000_000

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
# Letters that NFKD does not take apart; \u0131 is the Turkish dotless i.
_ASCII = str.maketrans({"ø": "o", "æ": "ae", "\u0131": "i", "ł": "l", "đ": "d", "œ": "oe"})


def insert_sql(table: str) -> str:
    """INSERT INTO table (columns) VALUES (?, ...) for the columns the generator fills."""
    columns = COLUMNS[table]
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
        self.user_ids = [user_id for user_id, _ in users]
        owners = [user_id for user_id, role in users if role in ("sales", "manager")]
        # One customer in 25 has no owner yet.
        self.owner_pool = [*owners * 6, None]
        self.assignee_pool = [user_id for user_id, role in users if role != "admin"]
        span = int((END - START).total_seconds() * 1_000_000)
        self.step = max(1, span // customers)  # creation times grow with the id
        self.next_ids = {"contacts": 1, "activities": 1, "tasks": 1}

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
        created = START + timedelta(
            microseconds=(customer_id - 1) * self.step + rng.randrange(self.step)
        )
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
        tag_ids = rng.sample(range(1, len(words.TAGS) + 1), rng.choice(TAG_COUNTS))
        rows["customer_tags"].extend((customer_id, tag_id) for tag_id in sorted(tag_ids))
        self.contacts(customer_id, country, domain, created, rows["contacts"])
        self.activities(customer_id, created, rows["activities"])
        if rng.random() < 1 / 3:
            self.task(customer_id, name, created, rows["tasks"])

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
            mobile = phone_number(
                country, rng.choice(country.mobile_prefixes), country.mobile_digits, serial
            )
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
        rng = self.rng
        for _ in range(rng.randrange(7)):
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

    def task(
        self, customer_id: int, name: str, created: datetime, rows: list[tuple[Any, ...]]
    ) -> None:
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
    tables = ", ".join(f"'{table}'" for table in COLUMNS)
    found = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({tables}) ORDER BY name"
    ).fetchall()
    for name, _ in found:
        db.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


def _bulk_load(db: sqlite3.Connection, customers: int, seed: int) -> None:
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
    db.execute("COMMIT")
    for sql in indexes:
        db.execute(sql)
    # crm runs in WAL mode; setting it here spares the first crm command the switch.
    db.execute("PRAGMA journal_mode = WAL")


def remove_database(path: Path) -> None:
    """Delete a SQLite file with its -wal and -shm companions, if they exist."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def create_empty(path: Path) -> None:
    """A new database with crm's schema and ``admin`` as its first user, made by crm."""
    crm = open_crm(load_settings(db=str(path), user="admin"))
    crm.close()


def generate(path: str | Path, customers: int, seed: int = 1) -> Path:
    """Write a new crm database with ``customers`` customers at ``path``.

    The data is written to PATH.partial and renamed at the end, so ``path`` is either
    absent or complete.
    """
    path = Path(path)
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if path.exists():
        raise FileExistsError(f"{path} exists; generate writes new databases only")
    partial = path.with_name(path.name + ".partial")
    remove_database(partial)
    create_empty(partial)
    with closing(sqlite3.connect(partial, isolation_level=None)) as db:
        _bulk_load(db, customers, seed)
    os.replace(partial, path)
    return path


def cached_database(customers: int, seed: int = 1) -> Path:
    """The database for (customers, seed) under bench/data/, generated on first use.

    The name holds the schema revision and the generator version, so a database made
    by older code is never reused.
    """
    name = f"crm-{customers}-seed{seed}-schema{HEAD}-gen{GENERATOR_VERSION}.sqlite3"
    path = DATA_DIR / name
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        generate(path, customers, seed)
    return path


def row_counts(path: Path) -> dict[str, int]:
    """Rows per table, for the summary line."""
    with closing(sqlite3.connect(path)) as db:
        return {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("users", "tags", *COLUMNS)
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description="Write a crm database full of test data."
    )
    parser.add_argument("path", type=Path, help="the database file to create")
    parser.add_argument("--customers", type=int, default=100_000, help="default: 100000")
    parser.add_argument("--seed", type=int, default=1, help="default: 1")
    parser.add_argument("--force", action="store_true", help="replace PATH if it exists")
    args = parser.parse_args(argv)
    if args.force:
        remove_database(args.path)
    started = time.perf_counter()
    try:
        generate(args.path, args.customers, args.seed)
    except (FileExistsError, ValueError) as exc:
        parser.error(f"{exc} (--force replaces an existing file)")
    elapsed = time.perf_counter() - started
    counts = ", ".join(f"{count:,} {table}" for table, count in row_counts(args.path).items())
    print(f"wrote {args.path} in {elapsed:.1f} s: {counts}")


if __name__ == "__main__":
    main()
