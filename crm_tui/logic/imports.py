"""Importing customers and contacts from CSV files written by other CRMs and spreadsheets.

- Columns are matched to fields by their header, ignoring case, spaces and punctuation,
  with the names other tools use ("Company Name", "E-mail Address", "Zip Code", ...);
  ``--map COLUMN=FIELD`` overrides, and ``custom.KEY`` stores a column as a custom field.
- Every row goes through the same rules as one typed in (cleaning, duplicates, audit).
- Good rows go in one transaction per batch, so a run stopped halfway leaves whole
  batches only; each refused row is reported with its line and reason.
- Duplicates are skipped (the default), updated (the file wins) or merged (only empty
  fields are filled in).
- A dry run does all of it in transactions that are rolled back.
"""

from __future__ import annotations

import csv
import gc
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, insert, or_, select, tuple_
from sqlalchemy import text as sql_text

from crm_tui.logic import audit, customer_batches
from crm_tui.logic.context import Crm, Work
from crm_tui.logic.customers import _clean as clean_customer
from crm_tui.logic.customers import read_one as read_customer
from crm_tui.logic.errors import CrmError, Duplicate, Invalid
from crm_tui.logic.normalise import clean_email, clean_phone, clean_text, name_key
from crm_tui.logic.refs import parse_ref, ref
from crm_tui.logic.schemas import CustomerCreate, Output, UserCreate
from crm_tui.storage.models import AuditEntry, Contact, Customer, User
from crm_tui.storage.types import utcnow

BATCH_SIZE = 2_000
POLICIES = ("skip", "update", "merge")
# csv's default cell limit is 128 KiB; a longer cell is a broken file, said so.
csv.field_size_limit(1 << 24)

# field: header spellings (folded: lower case, letters and digits only)
_CUSTOMER_HEADERS = {
    "name": "name companyname company accountname organization organisation organizationname "
    "customer customername businessname account",
    "first_name": "firstname givenname forename",
    "last_name": "lastname surname familyname",
    "kind": "kind type customertype",
    "lifecycle": "lifecycle lifecyclestage stage customerstage",
    "segment": "segment tier",
    "owner": "owner accountowner contactowner companyowner assignedto salesrep ownername",
    "email": "email emailaddress mail email1 primaryemail workemail",
    "phone": "phone phonenumber telephone tel businessphone workphone primaryphone mainphone",
    "website": "website web url homepage websiteurl companywebsite",
    "street": "street address streetaddress address1 addressline1 billingstreet mailingstreet",
    "city": "city town billingcity mailingcity",
    "postcode": "postcode postalcode zip zipcode billingzippostalcode billingpostalcode mailingzip",
    "country": "country countrycode billingcountry mailingcountry countryregion",
    "industry": "industry sector",
    "source": "source leadsource origin",
    "tags": "tags labels tag",
}
_CONTACT_HEADERS = {
    "name": "name fullname contactname displayname",
    "first_name": "firstname givenname forename",
    "last_name": "lastname surname familyname",
    "customer": "customer company companyname account accountname organization organisation "
    "organizationname employer",
    "title": "title jobtitle position role",
    "email": "email emailaddress mail email1 primaryemail workemail",
    "phone": "phone phonenumber telephone tel businessphone workphone officephone",
    "mobile": "mobile mobilephone cell cellphone mobilenumber",
}
HEADERS = {"customers": _CUSTOMER_HEADERS, "contacts": _CONTACT_HEADERS}
_FOLD = re.compile(r"[^a-z0-9]+")


def _fold_header(text: str) -> str:
    return _FOLD.sub("", text.lower())


class ImportSummary(Output):
    """What an import did, or would do on a dry run."""

    entity: str
    rows: int
    created: int
    updated: int
    skipped: int
    rejected: int
    dry_run: bool
    mapping: dict[str, str]
    ignored_columns: list[str]
    created_users: list[str]
    rejects_file: str | None


@dataclass
class Row:
    line: int
    cells: list[str]
    values: dict[str, Any]


@dataclass
class _Run:
    """The counters and rejected rows of one import run."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    rows: int = 0
    new_users: list[str] = field(default_factory=list)
    rejects: Any = None


# Reading and mapping


def map_columns(entity: str, header: list[str], explicit: dict[str, str]) -> tuple[dict[int, str], list[str]]:
    """Which column feeds which field; returns (index to field, ignored columns)."""
    known = HEADERS[entity]
    spellings = {spelling: name for name, words in known.items() for spelling in words.split()}
    folded = {_fold_header(column): index for index, column in enumerate(header)}
    mapping: dict[int, str] = {}
    for column, target in explicit.items():
        index = folded.get(_fold_header(column))
        if index is None:
            raise Invalid(f"--map {column}={target}: the file has no column {column!r}")
        if target not in known and not (entity == "customers" and target.startswith("custom.")):
            raise Invalid(
                f"--map {column}={target}: {entity} have no field {target!r} (known: {', '.join(known)})"
            )
        mapping[index] = target
    taken = set(mapping.values())
    for index, column in enumerate(header):
        target = spellings.get(_fold_header(column))
        if index not in mapping and target and target not in taken:
            mapping[index] = target
            taken.add(target)
    if "name" not in taken and not {"first_name", "last_name"} & taken:
        raise Invalid(f"no column for the name among {_shown_header(header)}; map one with --map COLUMN=name")
    if entity == "contacts" and "customer" not in taken:
        raise Invalid(
            f"no column for the customer (company) among {_shown_header(header)}; "
            "map one with --map COLUMN=customer"
        )
    ignored = [column for index, column in enumerate(header) if index not in mapping]
    return mapping, ignored


def _shown_header(header: list[str]) -> str:
    shown = ", ".join(repr(column) for column in header[:10])
    return shown + (f" and {len(header) - 10} more" if len(header) > 10 else "")


def read_rows(source: IO[str], name: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the (line, cells) of each non-blank row, streamed."""
    reader = csv.reader(source)

    def guarded() -> Iterator[list[str]]:
        try:
            yield from reader
        except UnicodeDecodeError as exc:
            raise Invalid(
                f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                "save it as UTF-8 or give its --encoding"
            ) from None
        except csv.Error as exc:
            raise Invalid(f"{name} line {reader.line_num}: not valid CSV ({exc})") from None

    rows = guarded()
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        raise Invalid(f"{name} is empty: expected a header line naming the columns")
    header = [cell.strip() for cell in header]

    def body() -> Iterator[tuple[int, list[str]]]:
        for cells in rows:
            if any(cell.strip() for cell in cells):
                yield reader.line_num, cells

    return header, body()


def _values(cells: list[str], mapping: dict[int, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for index, target in mapping.items():
        text = cells[index].strip() if index < len(cells) else ""
        if not text:
            continue
        if target.startswith("custom."):
            custom[target.removeprefix("custom.")] = text
        else:
            values[target] = text
    first, last = values.pop("first_name", None), values.pop("last_name", None)
    if "name" not in values and (first or last):
        values["name"] = " ".join(part for part in (first, last) if part)
        values.setdefault("kind", "person")
    if custom:
        values["custom"] = custom
    return values


# The run


def import_csv(
    crm: Crm,
    entity: str,
    source: IO[str],
    name: str,
    *,
    mapping: dict[str, str] | None = None,
    policy: str = "skip",
    dry_run: bool = False,
    create_users: bool = False,
    create_customers: bool = False,
    rejects_path: Path | None = None,
    batch_size: int = BATCH_SIZE,
    on_reject: Callable[[int, str], None] | None = None,
) -> ImportSummary:
    """Import ``source`` (CSV) as ``entity`` (customers or contacts); see the module rules."""
    if entity not in HEADERS:
        raise Invalid(f"cannot import {entity!r} from CSV: choose customers or contacts")
    if policy not in POLICIES:
        raise Invalid(f"unknown duplicate policy {policy!r}: choose {', '.join(POLICIES)}")
    header, body = read_rows(source, name)
    columns, ignored = map_columns(entity, header, mapping or {})
    run = _Run()
    batch: list[Row] = []
    # Everything alive before the run (SQLAlchemy's, pydantic's and phonenumbers' tables,
    # some 80,000 objects) is left out of the garbage collector's full passes while it
    # runs: each batch makes and drops tens of thousands of objects, and those passes
    # took a fifth of the time. Objects made during the run are collected as usual.
    gc.freeze()
    try:
        for line, cells in body:
            run.rows += 1
            batch.append(Row(line, cells, _values(cells, columns)))
            if len(batch) >= batch_size:
                _batch(
                    crm,
                    entity,
                    batch,
                    run,
                    policy,
                    dry_run,
                    create_users,
                    create_customers,
                    header,
                    rejects_path,
                    on_reject,
                )
                batch = []
        if batch:
            _batch(
                crm,
                entity,
                batch,
                run,
                policy,
                dry_run,
                create_users,
                create_customers,
                header,
                rejects_path,
                on_reject,
            )
    finally:
        gc.unfreeze()
        if run.rejects is not None:
            run.rejects[0].close()
    return ImportSummary(
        entity=entity, rows=run.rows, created=run.created, updated=run.updated, skipped=run.skipped,
        rejected=run.rejected, dry_run=dry_run,
        mapping={header[index]: target for index, target in sorted(columns.items())},
        ignored_columns=ignored, created_users=run.new_users,
        rejects_file=str(rejects_path) if run.rejects is not None else None,
    )  # fmt: skip


def _batch(
    crm, entity, batch, run, policy, dry_run, create_users, create_customers, header, rejects_path, on_reject
):
    """One transaction: every good row of the batch, or (on a dry run) none."""
    outcomes: dict[int, str | None] = {}
    with crm.work("customers.write") as work:
        savepoint = work.session.begin_nested() if dry_run else None
        if create_users:
            _create_owners(work, batch, run)
        if entity == "customers":
            _customers(work, batch, outcomes, run, policy)
        else:
            _contacts(work, batch, outcomes, run, policy, create_customers)
        if savepoint is not None:
            savepoint.rollback()
    for row in batch:
        reason = outcomes.get(row.line)
        if reason is not None:
            _reject(run, row, reason, header, rejects_path, on_reject)


def _reject(run: _Run, row: Row, reason: str, header: list[str], path: Path | None, on_reject) -> None:
    run.rejected += 1
    if on_reject is not None:
        on_reject(row.line, reason)
    if path is None:
        return
    if run.rejects is None:
        stream = path.open("w", encoding="utf-8", newline="")
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(["line", "reason", *header])
        run.rejects = (stream, writer)
    run.rejects[1].writerow([row.line, reason, *row.cells])


def _create_owners(work: Work, batch: list[Row], run: _Run) -> None:
    """With --create-users, owners not yet known become sales users (admins only)."""
    names = {row.values["owner"] for row in batch if row.values.get("owner")}
    if not names:
        return
    known = set(work.session.execute(select(User.username).where(User.username.in_(names))).scalars())
    missing = sorted(names - known)
    if missing:
        work.require("users.manage")
    for username in missing:
        try:
            data = UserCreate(username=username, role="sales")
        except Exception:
            continue  # not a valid username: the row is refused with the owner's error
        user = User(username=data.username, display_name=data.username, role=data.role)
        work.session.add(user)
        work.session.flush()
        work.audit("user", user.id, "create", {"username": [None, user.username], "role": [None, "sales"]})
        run.new_users.append(username)


# Customers


def _customers(work: Work, batch: list[Row], outcomes: dict[int, str | None], run: _Run, policy: str) -> None:
    items = []
    for row in batch:
        try:
            items.append((row.line, _customer_create(row.values)))
        except CrmError as exc:
            outcomes[row.line] = str(exc)
    by_line = {row.line: row for row in batch}
    for line, result in customer_batches.create_batch_in(work, items):
        if not isinstance(result, CrmError):
            run.created += 1
        elif isinstance(result, Duplicate) and policy != "skip":
            outcomes[line] = _update_duplicate(work, by_line[line].values, policy, run, str(result))
        elif isinstance(result, Duplicate):
            run.skipped += 1
            outcomes[line] = f"skipped: {result}"
        else:
            outcomes[line] = str(result)


def _customer_create(values: dict[str, Any]) -> CustomerCreate:
    from pydantic import ValidationError

    given = dict(values)
    if "tags" in given:
        given["tags"] = [tag for tag in re.split(r"[;,]", given["tags"]) if tag.strip()]
    if "kind" in given:
        given["kind"] = given["kind"].lower()
    if "lifecycle" in given:
        given["lifecycle"] = given["lifecycle"].lower()
    try:
        return CustomerCreate(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise Invalid(f"{where}: {error['msg'].lower()} (got {error.get('input')!r})") from None


def _update_duplicate(work: Work, values: dict[str, Any], policy: str, run: _Run, reason: str) -> str | None:
    """Update (file wins) or merge (fill empty fields) the customer a row duplicates."""
    match = re.match(r"C-(\d+) ", reason)
    if not match:  # a duplicate of an earlier line of this file
        run.skipped += 1
        return f"skipped: {reason}"
    customer = work.session.get(Customer, int(match.group(1)))
    given = {
        key: value for key, value in values.items() if key not in ("tags", "name", "first_name", "last_name")
    }
    savepoint = work.session.begin_nested()
    try:
        cleaned = clean_customer(work, given, customer)
        if policy == "merge":
            cleaned = {
                key: value for key, value in cleaned.items() if getattr(customer, key) in (None, "", {})
            }
        before = read_customer(work, customer)
        for column, value in cleaned.items():
            setattr(customer, column, value)
        if cleaned:
            customer.updated_at = utcnow()
        work.session.flush()
        after = read_customer(work, customer)
        changes = audit.diff(before.model_dump(), after.model_dump(exclude={"updated_at", "version"}))
        if changes:
            work.audit("customer", customer.id, "update", changes)
            run.updated += 1
        else:
            run.skipped += 1
    except CrmError as exc:
        savepoint.rollback()
        return str(exc)
    savepoint.commit()
    return None


# Contacts


def _contacts(
    work: Work,
    batch: list[Row],
    outcomes: dict[int, str | None],
    run: _Run,
    policy: str,
    create_customers: bool,
) -> None:
    keys = {
        text: _customer_key(text) for text in {row.values.get("customer") for row in batch} if text
    }  # each company named once per batch, however many rows name it
    owners = _customers_for(work, keys, batch, create_customers)
    default_country = work.crm.settings.default_country
    cleaned: list[tuple[Row, _Owner, dict[str, Any]]] = []
    for row in batch:
        try:
            text = row.values.get("customer")
            customer = owners.get(keys[text]) if text else None
            if customer is None:
                raise Invalid(f"no active customer {text!r}; add it first or pass --create-customers")
            cleaned.append((row, customer, _clean_contact(row.values, customer, default_country)))
        except CrmError as exc:
            outcomes[row.line] = str(exc)
    cleaned = _without_duplicate_contacts(work, cleaned, outcomes, run)
    if cleaned:
        _insert_contacts(work, cleaned)
        run.created += len(cleaned)


@dataclass(frozen=True)
class _Owner:
    """What a contact row needs of its customer."""

    id: int
    name: str
    country: str | None


def _customer_key(text: str | None) -> tuple[str, Any]:
    text = (text or "").strip()
    # Only a prefixed reference (C-12) names a customer by id: "3M" or "1&1" are names.
    if re.fullmatch(r"[Cc]-?\d+", text):
        return ("id", parse_ref("customer", text))
    return ("name", name_key(text, company=True))


def _customers_for(
    work: Work, keys: dict[str, tuple[str, Any]], batch: list[Row], create: bool
) -> dict[tuple[str, Any], _Owner]:
    """The active customers the rows name (by reference or by company name), one query."""
    ids = {value for kind, value in keys.values() if kind == "id"}
    names = {value for kind, value in keys.values() if kind == "name" and value}
    found: dict[tuple[str, Any], _Owner] = {}
    query = (
        select(Customer.id, Customer.name, Customer.name_key, Customer.country)
        .where(Customer.archived_at.is_(None), or_(Customer.id.in_(ids), Customer.name_key.in_(names)))
        .order_by(Customer.id)
    )
    for customer_id, name, key, country in work.session.execute(query):
        owner = _Owner(customer_id, name, country)
        found.setdefault(("id", customer_id), owner)
        found.setdefault(("name", key), owner)
    missing = sorted(name for name in names if ("name", name) not in found)
    if create and missing:
        spelled = {}
        for row in batch:
            text = row.values.get("customer")
            key = keys.get(text) if text else None
            if key is not None and key[0] == "name" and key[1] in missing:
                spelled.setdefault(key[1], text.strip())
        items = [(n, CustomerCreate(name=spelled[key])) for n, key in enumerate(missing, 1)]
        for _, result in customer_batches.create_batch_in(work, items):
            if not isinstance(result, CrmError):
                found[("name", name_key(result.name, company=True))] = _Owner(
                    result.id, result.name, result.country
                )
    return found


def _clean_contact(values: dict[str, Any], customer: _Owner, default_country: str | None) -> dict[str, Any]:
    country = customer.country or default_country
    name = clean_text(values.get("name"), "name", required=True)
    return {
        "customer_id": customer.id,
        "name": name,
        "name_key": name_key(name, company=False),
        "title": clean_text(values.get("title"), "title"),
        "email": clean_email(values.get("email")),
        "phone": clean_phone(values.get("phone"), country),
        "mobile": clean_phone(values.get("mobile"), country, "mobile"),
    }


def _without_duplicate_contacts(work, cleaned, outcomes, run):
    """Contacts with the same email anywhere, or the same name at the same customer,
    are skipped (contacts are not updated by an import in this version).

    One query for the emails and one for the (customer, name) pairs of the whole batch.
    """
    emails = {values["email"] for _, _, values in cleaned if values["email"]}
    pairs = {(values["customer_id"], values["name_key"]) for _, _, values in cleaned}
    seen_emails = (
        set(work.session.execute(select(Contact.email).where(Contact.email.in_(emails))).scalars())
        if emails
        else set()
    )
    seen_pairs = _existing_pairs(work, pairs)
    kept = []
    for row, customer, values in cleaned:
        pair = (values["customer_id"], values["name_key"])
        if values["email"] and values["email"] in seen_emails:
            reason = f"skipped: a contact with the email {values['email']} exists"
        elif pair in seen_pairs:
            reason = (
                f"skipped: {ref('customer', customer.id)} {customer.name} "
                f"has a contact named {values['name']}"
            )
        else:
            kept.append((row, customer, values))
            seen_pairs.add(pair)
            if values["email"]:
                seen_emails.add(values["email"])
            continue
        run.skipped += 1
        outcomes[row.line] = reason
    return kept


def _existing_pairs(work: Work, pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """The (customer, name key) pairs among ``pairs`` that contacts already have.

    SQLite answers ``(a, b) IN (VALUES ...)`` by scanning the whole index, so a large
    table made every batch slower; a join from the listed pairs seeks the index once per
    pair instead. PostgreSQL plans the row-value IN well.
    """
    if not pairs:
        return set()
    if work.session.get_bind().dialect.name != "sqlite":
        query = select(Contact.customer_id, Contact.name_key).where(
            tuple_(Contact.customer_id, Contact.name_key).in_(pairs)
        )
        return {tuple(row) for row in work.session.execute(query)}
    found: set[tuple[int, str]] = set()
    listed = sorted(pairs)
    for start in range(0, len(listed), _PAIRS_PER_QUERY):
        chunk = listed[start : start + _PAIRS_PER_QUERY]
        params: dict[str, Any] = {}
        for n, (customer_id, key) in enumerate(chunk):
            params[f"c{n}"], params[f"k{n}"] = customer_id, key
        rows = ", ".join(f"(:c{n}, :k{n})" for n in range(len(chunk)))
        query = sql_text(
            f"SELECT c.customer_id, c.name_key FROM (VALUES {rows}) AS v CROSS JOIN contacts AS c "
            "WHERE c.customer_id = v.column1 AND c.name_key = v.column2"
        )
        found.update((customer_id, key) for customer_id, key in work.session.execute(query, params))
    return found


_PAIRS_PER_QUERY = 5_000  # two parameters each: within SQLite's limit of 32,766


_AUDITED = ("name", "title", "email", "phone", "mobile")


def _insert_contacts(work: Work, cleaned: list[tuple[Row, _Owner, dict[str, Any]]]) -> None:
    """Insert the batch's contacts and their audit entries with two executemany calls.

    On SQLite the ids are given, not returned: the batch runs under BEGIN IMMEDIATE, so
    no other connection can insert a contact until it commits, and SQLite (contacts have
    no AUTOINCREMENT) would itself number new rows max(id) + 1, + 2, ... . Numbering them
    here saves INSERT ... RETURNING, which SQLAlchemy runs one row at a time on SQLite
    when the order of the ids must match the rows. Other databases use RETURNING, which
    they run in bulk.
    """
    now = utcnow()
    rows = [{**values, "version": 1, "created_at": now, "updated_at": now} for _, _, values in cleaned]
    table = Contact.__table__
    session = work.session
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        first = (session.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        ids = list(range(first, first + len(rows)))
        _sqlite_insert(session, table, [{"id": n, **values} for n, values in zip(ids, rows, strict=True)])
    else:
        ids = (
            session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
            .scalars()
            .all()
        )
    actor_id = work.actor.id
    entries = []
    for contact_id, (_, customer, values) in zip(ids, cleaned, strict=True):
        # What audit.diff({}, fields) gives for a new record: every field that has a value.
        changes = {"customer": [None, ref("customer", customer.id)]}
        for key in _AUDITED:
            if values[key]:
                changes[key] = [None, values[key]]
        entries.append(
            {"at": now, "actor_id": actor_id, "entity": "contact", "entity_id": contact_id,
             "action": "create", "changes": changes}
        )  # fmt: skip
    if dialect.name == "sqlite":
        _sqlite_insert(session, AuditEntry.__table__, entries)
    else:
        session.execute(insert(AuditEntry.__table__), entries)


def _sqlite_insert(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """One executemany on the driver: SQLAlchemy's own costs about 20 µs a row on
    SQLite. Each value still goes through its column type's bind processor (timestamps
    as UTC text, JSON as text), so the rows are stored exactly as a Core insert would."""
    dialect = session.get_bind().dialect
    names = list(rows[0])
    processors = [(name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names]
    params = [
        tuple(process(row[name]) if process else row[name] for name, process in processors) for row in rows
    ]
    columns = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    session.connection().exec_driver_sql(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', params)


def open_source(path: str, encoding: str) -> tuple[IO[str], str]:
    """The file to import (or stdin for -), decoded as ``encoding`` (BOM dropped)."""
    if path == "-":
        return sys.stdin, "standard input"
    file = Path(path).expanduser()
    try:
        return file.open(
            encoding="utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding, newline=""
        ), str(file)
    except FileNotFoundError:
        raise Invalid(f"no file {file}") from None
    except LookupError:
        raise Invalid(f"unknown encoding {encoding!r}") from None
    except OSError as exc:
        raise Invalid(f"cannot read {file}: {exc.strerror}") from None
