"""Importing customers, contacts, deals and tickets from files written by other tools.

- CSV columns are matched to fields by their header, ignoring case, spaces and
  punctuation, with the names other tools use ("Company Name", "E-mail Address",
  "Deal Stage", "Close Date", ...); ``--map COLUMN=FIELD`` overrides, and ``custom.KEY``
  stores a column as a custom field of a customer. Contacts may come as vCards instead
  (``vcard.py``), recognised by the file's extension or its first line.
- Every row goes through the same rules as one typed in (cleaning, duplicates, audit):
  deals through ``deals.create_in`` and tickets through ``tickets.create_in``, so they
  are checked, owned, priced and given SLA due times as `crm deal add` and `crm ticket
  add` do it.
- Good rows go in one transaction per batch, so a run stopped halfway leaves whole
  batches only; each refused row is reported with its line and reason.
- Duplicates are skipped (the default), updated (the file wins) or merged (only empty
  fields are filled in); contacts, deals and tickets are only ever skipped.
- A dry run does all of it in transactions that are rolled back.

Deals and tickets carry their history along:

- A deal's pipeline and stage are named as in crm (any case or spacing), or mapped
  with ``--pipeline FROM=TO`` and ``--stage FROM=TO``; "Closed Won" and "Closed Lost"
  mean the pipeline's won and lost stages. A deal in a won or lost stage is opened and then closed the way
  `crm deal win` and `crm deal lose` close it (a lost deal needs a reason: its row's
  or ``--lost-reason``), at its closed date (else its close date, else now).
- A ticket opened at its file's created date gets the due times its priority's SLA
  policy gives from that moment; a resolved or closed one needs a resolution (its
  row's or ``--resolution``) and is resolved at its closed date (else now).
- Changing a record's dates to the file's is its own audit entry ("import"), after
  the entries the record's creation and closing wrote, so the trail tells both.
"""

from __future__ import annotations

import csv
import gc
import itertools
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, insert, or_, select, tuple_, update

from crm_tui.logic.core import audit, users
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import CrmError, Duplicate, Forbidden, Invalid, NotFound
from crm_tui.logic.core.refs import parse_ref, ref
from crm_tui.logic.core.schemas import Output, UserCreate, validated
from crm_tui.logic.customers import batches as customer_batches
from crm_tui.logic.customers.customers import clean_fields as clean_customer
from crm_tui.logic.customers.customers import read_one as read_customer
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange import vcard
from crm_tui.logic.sales import deals, pipelines
from crm_tui.logic.sales.schemas import DealCreate
from crm_tui.logic.service import tickets
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.logic.values.normalise import clean_email, clean_phone, clean_text, fold, name_key
from crm_tui.storage import search as search_index
from crm_tui.storage.models import (
    Activity,
    AuditEntry,
    Contact,
    Customer,
    Deal,
    DealStageChange,
    Pipeline,
    Stage,
    Ticket,
    User,
)
from crm_tui.storage.types import utcnow

BATCH_SIZE = 2_000
POLICIES = ("skip", "update", "merge")
DATE_ORDERS = ("dmy", "mdy")
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
_COMPANY = (
    "customer company companyname account accountname organization organisation organizationname "
    "associatedcompany customername"
)
_CREATED = "created createdate createddate createdat createdon datecreated creationdate"
_DEAL_HEADERS = {
    "title": "title dealname deal name opportunityname opportunity dealtitle",
    "customer": _COMPANY,
    "contact": "contact contactname primarycontact associatedcontact contactemail",
    "pipeline": "pipeline dealpipeline salespipeline",
    "stage": "stage dealstage stagename opportunitystage salesstage",
    "amount": "amount value dealvalue dealamount opportunityamount",
    "currency": "currency currencycode dealcurrency dealcurrencycode opportunitycurrency",
    "owner": "owner dealowner opportunityowner assignedto salesrep ownername owneremail",
    "expected_close": "closedate expectedclosedate expectedclose closingdate estimatedclosedate "
    "expectedclosingdate",
    "closed": "closeddate dateclosed closedat actualclosedate wondate lostdate closedwondate closedlostdate",
    "created": _CREATED,
    "source": "source leadsource dealsource origin",
    "lost_reason": "lostreason closedlostreason lossreason reasonlost",
}
_TICKET_HEADERS = {
    "subject": "subject ticketname ticketsubject title summary name",
    "description": "description ticketdescription body details message content",
    "type": "type tickettype category issuetype",
    "priority": "priority ticketpriority urgency severity",
    "status": "status ticketstatus state",
    "channel": "channel source ticketsource via origin medium",
    "customer": _COMPANY + " requesterorganization",
    "contact": "contact contactname requester requestername requesteremail contactemail email "
    "associatedcontact",
    "assignee": "assignee assignedto ticketowner owner agent assigneename assigneeemail",
    "created": _CREATED + " opened openedat submittedat",
    "resolution": "resolution resolutionnote solution",
    "closed": "closed closeddate closedat dateclosed resolved resolveddate resolvedat solvedat solveddate",
}
HEADERS = {
    "customers": _CUSTOMER_HEADERS,
    "contacts": _CONTACT_HEADERS,
    "deals": _DEAL_HEADERS,
    "tickets": _TICKET_HEADERS,
}
# Columns other tools export that crm keeps elsewhere: ignored, and the summary says why.
_KEPT_ELSEWHERE = {
    "deals": {
        "probability dealprobability winprobability": "a deal's probability is its stage's",
        "weightedamount forecastamount expectedrevenue": "crm weighs the amount by the stage",
    },
}
# A row needs a column for each of these (a name may come as first and last name).
_REQUIRED = {
    "customers": ("name",),
    "contacts": ("name", "customer"),
    "deals": ("title", "customer"),
    "tickets": ("subject", "customer"),
}
_FIELD_WORDS = {"name": "the name", "customer": "the customer (company)", "title": "the deal's title"}
_FOLD = re.compile(r"[^a-z0-9]+")


def _fold_header(text: str) -> str:
    return _FOLD.sub("", text.lower())


class ImportSummary(Output):
    """What an import did, or would do on a dry run."""

    entity: str
    format: str = "csv"
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
    error: str | None = None  # refused before it reached the database (a broken vCard)


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


@dataclass
class _Job:
    """What one import run was asked to do, beyond the rows themselves."""

    entity: str
    header: list[str]
    policy: str = "skip"
    dry_run: bool = False
    create_users: bool = False
    create_customers: bool = False
    rejects_path: Path | None = None
    on_reject: Callable[[int, str], None] | None = None
    pipelines: dict[str, str] = field(default_factory=dict)  # deals: the file's pipeline -> crm's
    stages: dict[str, str] = field(default_factory=dict)  # deals: the file's stage -> crm's
    lost_reason: str | None = None  # deals lost without a reason of their own
    resolution: str | None = None  # tickets resolved without a resolution of their own
    date_order: str | None = None  # dmy or mdy, for dates like 03/04/2025


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
    for needed in _REQUIRED[entity]:
        if needed not in taken and not (needed == "name" and {"first_name", "last_name"} & taken):
            raise Invalid(
                f"no column for {_FIELD_WORDS.get(needed, 'the ' + needed)} among {_shown_header(header)}; "
                f"map one with --map COLUMN={needed}"
            )
    ignored = [_why_ignored(entity, column) for index, column in enumerate(header) if index not in mapping]
    return mapping, ignored


def _why_ignored(entity: str, column: str) -> str:
    folded = _fold_header(column)
    for spellings, reason in _KEPT_ELSEWHERE.get(entity, {}).items():
        if folded in spellings.split():
            return f"{column} ({reason})"
    return column


def _shown_header(header: list[str]) -> str:
    shown = ", ".join(repr(column) for column in header[:10])
    return shown + (f" and {len(header) - 10} more" if len(header) > 10 else "")


def _not_text(name: str, exc: UnicodeDecodeError) -> Invalid:
    return Invalid(
        f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
        "save it as UTF-8 or give its --encoding"
    )


def read_rows(source: Iterable[str], name: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the (line, cells) of each non-blank row, streamed."""
    reader = csv.reader(source)

    def guarded() -> Iterator[list[str]]:
        try:
            yield from reader
        except UnicodeDecodeError as exc:
            raise _not_text(name, exc) from None
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


def _first_line(source: IO[str], name: str) -> tuple[str, Iterator[str]]:
    """The first non-blank line of ``source`` and all its lines, that one included."""
    skipped = []
    try:
        for line in source:
            skipped.append(line)
            if line.strip():
                return line, itertools.chain(skipped, source)
    except UnicodeDecodeError as exc:
        raise _not_text(name, exc) from None
    return "", iter(skipped)


def _decoded_lines(lines: Iterable[str], name: str) -> Iterator[str]:
    try:
        yield from lines
    except UnicodeDecodeError as exc:
        raise _not_text(name, exc) from None


# The run


def import_file(crm: Crm, entity: str, source: IO[str], name: str, **options: Any) -> ImportSummary:
    """Import ``source`` as ``entity``: vCards for contacts when the file is named .vcf
    or .vcard or opens with BEGIN:VCARD, CSV otherwise (see ``import_csv``)."""
    first, lines = _first_line(source, name)
    is_vcard = Path(name).suffix.lower() in (".vcf", ".vcard") or vcard.looks_like_vcard(first)
    if not is_vcard:
        return import_csv(crm, entity, lines, name, **options)
    if entity != "contacts":
        raise Invalid(f"{name} holds vCards, which are contacts: use `crm import contacts`")
    if options.pop("mapping", None):
        raise Invalid("--map names CSV columns; a vCard's properties are read as they are")
    return import_vcards(crm, lines, name, **options)


def import_csv(
    crm: Crm,
    entity: str,
    source: Iterable[str],
    name: str,
    *,
    mapping: dict[str, str] | None = None,
    batch_size: int = BATCH_SIZE,
    **options: Any,
) -> ImportSummary:
    """Import ``source`` (CSV) as ``entity`` (customers, contacts, deals or tickets); see
    the module's rules. ``options`` are the fields of ``_Job``: policy, dry_run,
    create_users, create_customers, rejects_path, on_reject, pipelines, stages,
    lost_reason, resolution and date_order."""
    if entity not in HEADERS:
        raise Invalid(f"cannot import {entity!r} from CSV: choose {', '.join(HEADERS)}")
    job = _job(entity, [], options)
    header, body = read_rows(source, name)
    job.header = header
    columns, ignored = map_columns(entity, header, mapping or {})
    rows = (Row(line, cells, _values(cells, columns)) for line, cells in body)
    run = _run_rows(crm, job, rows, batch_size)
    return _summary(
        job, run, "csv", {header[index]: target for index, target in sorted(columns.items())}, ignored
    )


def import_vcards(
    crm: Crm, source: Iterable[str], name: str, *, batch_size: int = BATCH_SIZE, **options: Any
) -> ImportSummary:
    """Import contacts from vCards: FN (or N) is the name, ORG the customer, TITLE, the
    first EMAIL, TEL as the phone and TEL;TYPE=cell as the mobile (preferred ones first).
    A card that cannot be read is refused with its line; the others go in."""
    job = _job("contacts", ["card"], options)
    unused: set[str] = set()

    def rows() -> Iterator[Row]:
        for card in vcard.read_cards(_decoded_lines(source, name), name):
            if card.error is not None:
                yield Row(card.error_line or card.line, [card.text], {}, card.error)
                continue
            unused.update(vcard.unused_properties(card))
            try:
                values = vcard.contact_values(card)
                if "customer" not in values:
                    raise Invalid("the card has no ORG (company); crm keeps every contact at a customer")
            except Invalid as exc:
                yield Row(card.line, [card.text], {}, str(exc))
            else:
                yield Row(card.line, [card.text], values)

    run = _run_rows(crm, job, rows(), batch_size)
    mapping = {"FN (or N)": "name", "ORG": "customer", "TITLE": "title", "EMAIL": "email",
               "TEL": "phone", "TEL;TYPE=cell": "mobile"}  # fmt: skip
    return _summary(job, run, "vcard", mapping, sorted(unused))


def _job(entity: str, header: list[str], options: dict[str, Any]) -> _Job:
    job = _Job(entity=entity, header=header, **options)
    job.pipelines = {_fold_header(given): name for given, name in job.pipelines.items()}
    job.stages = {_fold_header(given): name for given, name in job.stages.items()}
    if job.policy not in POLICIES:
        raise Invalid(f"unknown duplicate policy {job.policy!r}: choose {', '.join(POLICIES)}")
    if job.date_order is not None and job.date_order not in DATE_ORDERS:
        raise Invalid(f"unknown date order {job.date_order!r}: choose {' or '.join(DATE_ORDERS)}")
    return job


def _run_rows(crm: Crm, job: _Job, rows: Iterable[Row], batch_size: int) -> _Run:
    run = _Run()
    batch: list[Row] = []
    # Everything alive before the run (SQLAlchemy's, pydantic's and phonenumbers' tables,
    # some 80,000 objects) is left out of the garbage collector's full passes while it
    # runs: each batch makes and drops tens of thousands of objects, and those passes
    # took a fifth of the time. Objects made during the run are collected as usual.
    gc.freeze()
    try:
        for row in rows:
            run.rows += 1
            batch.append(row)
            if len(batch) >= batch_size:
                _batch(crm, job, batch, run)
                batch = []
        if batch:
            _batch(crm, job, batch, run)
    finally:
        gc.unfreeze()
        if run.rejects is not None:
            run.rejects[0].close()
    return run


def _summary(job: _Job, run: _Run, fmt: str, mapping: dict[str, str], ignored: list[str]) -> ImportSummary:
    return ImportSummary(
        entity=job.entity, format=fmt, rows=run.rows, created=run.created, updated=run.updated,
        skipped=run.skipped, rejected=run.rejected, dry_run=job.dry_run, mapping=mapping,
        ignored_columns=ignored, created_users=run.new_users,
        rejects_file=str(job.rejects_path) if run.rejects is not None else None,
    )  # fmt: skip


_PERMISSIONS = {
    "customers": "customers.write",
    "contacts": "customers.write",
    "deals": "deals.write",
    "tickets": "tickets.write",
}


def _batch(crm: Crm, job: _Job, batch: list[Row], run: _Run) -> None:
    """One transaction: every good row of the batch, or (on a dry run) none."""
    outcomes: dict[int, str | None] = {row.line: row.error for row in batch if row.error is not None}
    ready = [row for row in batch if row.error is None]
    with crm.work(_PERMISSIONS[job.entity]) as work:
        savepoint = work.session.begin_nested() if job.dry_run else None
        if ready and job.entity == "customers":
            if job.create_users:
                _create_owners(work, ready, run)
            _customers(work, ready, outcomes, run, job.policy)
        elif ready and job.entity == "contacts":
            _contacts(work, ready, outcomes, run, job.policy, job.create_customers)
        elif ready and job.entity == "deals":
            _deals(work, ready, outcomes, run, job)
        elif ready:
            _tickets(work, ready, outcomes, run, job)
        if savepoint is not None:
            savepoint.rollback()
    for row in batch:
        reason = outcomes.get(row.line)
        if reason is not None:
            _reject(run, row, reason, job)


def _reject(run: _Run, row: Row, reason: str, job: _Job) -> None:
    run.rejected += 1
    if job.on_reject is not None:
        job.on_reject(row.line, reason)
    if job.rejects_path is None:
        return
    if run.rejects is None:
        stream = job.rejects_path.open("w", encoding="utf-8", newline="")
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(["line", "reason", *job.header])
        run.rejects = (stream, writer)
    run.rejects[1].writerow([row.line, reason, *row.cells])


class _Skip(Exception):
    """A row that duplicates a record: skipped, not refused."""


@contextmanager
def _each_row(work: Work, row: Row, outcomes: dict[int, str | None], run: _Run) -> Iterator[None]:
    """One row in its own savepoint: a refused row leaves nothing behind, and the rows
    around it are kept. Forbidden stops the run: no row would fare better."""
    savepoint = work.session.begin_nested()
    try:
        yield
    except Forbidden:
        savepoint.rollback()
        raise
    except _Skip as skip:
        savepoint.rollback()
        run.skipped += 1
        outcomes[row.line] = f"skipped: {skip}"
    except CrmError as exc:
        savepoint.rollback()
        outcomes[row.line] = str(exc)
    else:
        savepoint.commit()
        run.created += 1


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
        if username not in run.new_users:
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
            if not text:
                raise Invalid("no customer: the row names no company or customer")
            customer = owners.get(keys[text])
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
    seen_emails = _existing_emails(work, emails)
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


def _existing_emails(work: Work, emails: set[str]) -> set[str]:
    """The addresses among ``emails`` that contacts already have.

    On SQLite the statement goes straight to the driver: building and compiling an IN
    of thousands of bound values took SQLAlchemy a few microseconds per value, more than
    the index lookups themselves.
    """
    if not emails:
        return set()
    if not _is_sqlite(work):
        query = select(Contact.email).where(Contact.email.in_(emails))
        return set(work.session.execute(query).scalars())
    found: set[str] = set()
    connection = work.session.connection()
    listed = sorted(emails)
    for start in range(0, len(listed), _VALUES_PER_QUERY):
        chunk = listed[start : start + _VALUES_PER_QUERY]
        marks = ", ".join("?" * len(chunk))
        query = f"SELECT email FROM contacts WHERE email IN ({marks})"
        found.update(email for (email,) in connection.exec_driver_sql(query, tuple(chunk)))
    return found


def _existing_pairs(work: Work, pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """The (customer, name key) pairs among ``pairs`` that contacts already have.

    SQLite answers ``(a, b) IN (VALUES ...)`` by scanning the whole index, so a large
    table made every batch slower; a join from the listed pairs seeks the index once per
    pair instead. PostgreSQL plans the row-value IN well.
    """
    if not pairs:
        return set()
    if not _is_sqlite(work):
        query = select(Contact.customer_id, Contact.name_key).where(
            tuple_(Contact.customer_id, Contact.name_key).in_(pairs)
        )
        return {tuple(row) for row in work.session.execute(query)}
    found: set[tuple[int, str]] = set()
    connection = work.session.connection()
    listed = sorted(pairs)
    per_query = _VALUES_PER_QUERY // 2
    for start in range(0, len(listed), per_query):
        chunk = listed[start : start + per_query]
        rows = ", ".join("(?, ?)" for _ in chunk)
        query = (
            f"SELECT c.customer_id, c.name_key FROM (VALUES {rows}) AS v CROSS JOIN contacts AS c "
            "WHERE c.customer_id = v.column1 AND c.name_key = v.column2"
        )
        params = tuple(itertools.chain.from_iterable(chunk))
        found.update((customer_id, key) for customer_id, key in connection.exec_driver_sql(query, params))
    return found


def _is_sqlite(work: Work) -> bool:
    return work.session.get_bind().dialect.name == "sqlite"


_VALUES_PER_QUERY = 10_000  # bound values per statement: within SQLite's limit of 32,766


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
    sqlite = _is_sqlite(work)
    if sqlite:
        with search_index.indexed_at_end(session.connection(), "contacts") as last:
            ids = list(range(last + 1, last + 1 + len(rows)))
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
    if sqlite:
        _sqlite_insert(session, AuditEntry.__table__, entries)
    else:
        session.execute(insert(AuditEntry.__table__), entries)


def _sqlite_insert(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """One executemany on the driver: SQLAlchemy's own costs about 20 µs a row on
    SQLite. Each value still goes through its column type's bind processor (timestamps
    as UTC text, JSON as text), so the rows are stored exactly as a Core insert would."""
    dialect = session.get_bind().dialect
    names = list(rows[0])
    columns = [
        _bound([row[name] for row in rows], table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in names
    ]
    quoted = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    session.connection().exec_driver_sql(
        f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})', list(zip(*columns, strict=True))
    )


def _bound(values: list[Any], process: Callable[[Any], Any] | None) -> list[Any]:
    """One column's values as the driver takes them. A bind processor is a function of
    its value alone, so a run of the same object (a batch's one timestamp) is processed
    once."""
    if process is None:
        return values
    bound: list[Any] = []
    last: Any = bound  # a sentinel no value is
    done: Any = None
    for value in values:
        if value is not last:
            last, done = value, process(value)
        bound.append(done)
    return bound


# Owners and assignees, named as other tools name them


def _users_named(work: Work, texts: set[str], role: str, create: bool, run: _Run) -> dict[str, str | Invalid]:
    """The username each text names, or why none: a username (any case), a display name,
    an email whose address or local part is a username, or a name whose words joined by
    dots are one ("Jane Doe" is jane.doe). With ``create`` (admins only), a name that
    matches nobody becomes a user with ``role``."""
    everyone = list(work.session.execute(select(User.username, User.display_name)))
    by_login = {username.lower(): username for username, _ in everyone}
    by_name: dict[str, list[str]] = {}
    for username, display in everyone:
        by_name.setdefault(fold(display), []).append(username)
    found: dict[str, str | Invalid] = {}
    for text in sorted(texts):
        try:
            found[text] = _user_named(text.strip(), by_login, by_name)
        except Invalid as exc:
            found[text] = exc
        except NotFound as missing:
            if not create:
                found[text] = Invalid(f"{missing}; add them with `crm user add` or pass --create-users")
                continue
            try:
                username = _new_user(work, text.strip(), role, run)
            except Forbidden:
                raise
            except CrmError as exc:
                found[text] = Invalid(str(exc))
            else:
                found[text] = by_login[username.lower()] = username
    return found


def _user_named(text: str, by_login: dict[str, str], by_name: dict[str, list[str]]) -> str:
    if text.lower() in by_login:
        return by_login[text.lower()]
    named = by_name.get(fold(text), [])
    if len(named) > 1:
        raise Invalid(
            f"{text!r} is the name of {len(named)} users ({', '.join(sorted(named))}); give the username"
        )
    if named:
        return named[0]
    if "@" in text and text.partition("@")[0].lower() in by_login:
        return by_login[text.partition("@")[0].lower()]
    dotted = ".".join(fold(text).split())
    if dotted in by_login:
        return by_login[dotted]
    raise NotFound(f"no user {text!r} (by username, name or email)")


def _new_user(work: Work, text: str, role: str, run: _Run) -> str:
    """A new user for an owner or assignee the team does not have yet."""
    username = text if re.fullmatch(r"[A-Za-z0-9_.@-]+", text) else ".".join(fold(text).split())
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", username):
        raise Invalid(f"no user {text!r}, and no username can be made of it; add them with `crm user add`")
    users.create_in(work, UserCreate(username=username, display_name=text[:200], role=role))
    if username not in run.new_users:
        run.new_users.append(username)
    return username


def _people(
    work: Work, batch: list[Row], key: str, role: str, job: _Job, run: _Run
) -> dict[str, str | Invalid]:
    texts = {row.values[key] for row in batch if row.values.get(key)}
    return _users_named(work, texts, role, job.create_users, run) if texts else {}


def _username(people: dict[str, str | Invalid], text: str | None) -> str | None:
    if not text:
        return None
    found = people[text]
    if isinstance(found, Invalid):
        raise found
    return found


# Customers and contacts that deals and tickets name


def _customer_finder(work: Work, batch: list[Row], create: bool) -> Callable[[str | None], _Owner]:
    """A lookup of the batch's customers (by name or reference) with one query."""
    keys = {text: _customer_key(text) for text in {row.values.get("customer") for row in batch} if text}
    found = _customers_for(work, keys, batch, create)

    def customer(text: str | None) -> _Owner:
        if not text:
            raise Invalid("no customer: the row names no company or customer")
        owner = found.get(keys[text])
        if owner is None:
            raise Invalid(f"no active customer {text!r}; add it first or pass --create-customers")
        return owner

    return customer


def _contact_at(work: Work, customer: _Owner, text: str | None) -> str | None:
    """The contact a row names at its customer: by reference (P-7), email or name."""
    text = (text or "").strip()
    if not text:
        return None
    if re.fullmatch(r"[Pp]-?\d+", text):
        return text
    query = select(Contact.id).where(Contact.customer_id == customer.id)
    if "@" in text:
        query = query.where(Contact.email == clean_email(text))
    else:
        query = query.where(Contact.name_key == name_key(text, company=False))
    ids = list(work.session.execute(query.order_by(Contact.id).limit(2)).scalars())
    where = f"{ref('customer', customer.id)} {customer.name}"
    if not ids:
        raise Invalid(f"{where} has no contact {text!r}")
    if len(ids) > 1:
        raise Invalid(f"{where} has several contacts {text!r}; name one by its reference (P-12)")
    return ref("contact", ids[0])


# Cells: dates, amounts and the words other tools use

_MONTHS = {
    name: number
    for number, names in enumerate(
        ["jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july",
         "aug august", "sep sept september", "oct october", "nov november", "dec december"],
        start=1,
    )
    for name in names.split()
}  # fmt: skip
_NUMERIC_DATE = re.compile(r"(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})")
_NAMED_DATE = re.compile(
    r"(?:(\d{1,2})[\s.-]*([a-z]{3,9})\.?[\s,.-]*(\d{4}|\d{2})"
    r"|([a-z]{3,9})\.?\s*(\d{1,2})(?:st|nd|rd|th)?,?\s*(\d{4}))"
)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([ap])?\.?(?:m\.?)?")
_UTC_WORDS = ("z", "utc", "gmt")


def _bad_date(text: str, what: str) -> Invalid:
    return Invalid(
        f"invalid {what} {text!r}: write it like 2025-03-15, 15.03.2025, 03/15/2025 or 15 Mar 2025"
    )


def _year(text: str) -> int:
    # Two-digit years as POSIX reads them: 69 to 99 are 1969 to 1999, the rest 2000 on.
    year = int(text)
    return year + (1900 if year >= 69 else 2000) if len(text) <= 2 else year


def _day_month(first: int, second: int, text: str, what: str, order: str | None) -> tuple[int, int]:
    """(day, month) of a date written 15/03 or 03/15; a date that reads both ways
    needs the file's order (``--date-order``)."""
    if order == "dmy" or (order is None and first > 12):
        return first, second
    if order == "mdy" or (order is None and second > 12) or first == second:
        return second, first
    raise Invalid(
        f"{what} {text!r} reads as day/month and as month/day: pass --date-order dmy or --date-order mdy"
    )


def _calendar_day(text: str, what: str, order: str | None) -> tuple[date, str]:
    """The day at the start of ``text`` and what follows it (a time, perhaps)."""
    lowered = text.strip().lower()
    numeric = _NUMERIC_DATE.match(lowered)
    named = _NAMED_DATE.match(lowered)
    try:
        if numeric:
            a, separator, b, c = numeric.groups()
            rest = lowered[numeric.end() :]
            if len(a) == 4:  # 2025-03-15, 2025/03/15, 2025.03.15
                return date(int(a), int(b), int(c)), rest
            if separator == ".":  # 15.03.2025: day first wherever dots are written
                return date(_year(c), int(b), int(a)), rest
            day, month = _day_month(int(a), int(b), text, what, order)
            return date(_year(c), month, day), rest
        if named:
            day, month_name, year, month_first, day_second, year_second = named.groups()
            month = _MONTHS.get(month_name or month_first)
            if month is not None:
                if day is not None:
                    return date(_year(year), month, int(day)), lowered[named.end() :]
                return date(int(year_second), month, int(day_second)), lowered[named.end() :]
    except ValueError:
        pass
    raise _bad_date(text, what)


def parse_sheet_date(text: str | None, what: str, order: str | None = None) -> date | None:
    """A calendar day as spreadsheets write it: ISO, 15.03.2025, 03/15/2025, 15 Mar 2025;
    a time after it is allowed and left out."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip()).date()
    except ValueError:
        pass
    return _spreadsheet_moment(text, what, order).date()


def parse_moment(
    text: str | None, what: str, zone: tzinfo | None, order: str | None = None
) -> datetime | None:
    """An instant (UTC) as spreadsheets write it: a day as ``parse_sheet_date`` reads it, with an
    optional time (14:30, 2:30 PM); without an offset it is in ``zone`` (None: this
    machine's), and a day alone is the start of that day."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = _spreadsheet_moment(text, what, order)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone) if zone else moment.astimezone()
    return moment.astimezone(UTC)


def _spreadsheet_moment(text: str, what: str, order: str | None) -> datetime:
    """A day and an optional time of day after it (``T``, a space or a comma between),
    naive unless it ends in Z, UTC or GMT."""
    day, rest = _calendar_day(text, what, order)
    rest = rest.strip().removeprefix("t").strip(" ,")
    utc = False
    for word in _UTC_WORDS:
        if rest.endswith(word):
            rest, utc = rest.removesuffix(word).strip(), True
            break
    clock = time()
    if rest:
        matched = _TIME.fullmatch(rest)
        if not matched:
            raise _bad_date(text, what)
        hour, minute, second, half = matched.groups()
        hour = int(hour)
        if half is not None:
            if not 1 <= hour <= 12:
                raise _bad_date(text, what)
            hour = hour % 12 + (12 if half == "p" else 0)
        try:
            clock = time(hour, int(minute), int(second or 0))
        except ValueError:
            raise _bad_date(text, what) from None
    moment = datetime.combine(day, clock)
    return moment.replace(tzinfo=UTC) if utc else moment


def _zone(work: Work) -> tzinfo | None:
    """The time zone of times written without an offset: the settings', else this machine's."""
    from zoneinfo import ZoneInfo

    name = work.crm.settings.timezone
    return ZoneInfo(name) if name else None


def amount_and_currency(text: str | None) -> tuple[str | None, str | None]:
    """An amount as spreadsheets write it, as the plain number crm reads (and the ISO
    code written beside it, if any): ``$12,000.50`` is 12000.50, ``EUR 1.200,50`` is
    1200.50 in EUR. With one separator followed by three digits, the English reading
    holds: 1,200 is twelve hundred, 1.200 is one point two."""
    if not text or not text.strip():
        return None, None
    plain = "".join(
        char for char in text if not char.isspace() and unicodedata.category(char) != "Sc" and char != "'"
    )
    code = None
    coded = re.fullmatch(r"([A-Za-z]{3})?([^A-Za-z]*)([A-Za-z]{3})?", plain)
    if coded and (coded.group(1) or coded.group(3)) and not (coded.group(1) and coded.group(3)):
        code, plain = (coded.group(1) or coded.group(3)).upper(), coded.group(2)
    if "," in plain and "." in plain:
        decimal_mark = "," if plain.rfind(",") > plain.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        plain = plain.replace(grouping, "").replace(decimal_mark, ".")
    elif "," in plain:
        grouped = re.fullmatch(r"-?\d{1,3}(,\d{3})+", plain)
        plain = plain.replace(",", "") if grouped else plain.replace(",", ".", 1)
    elif plain.count(".") > 1 and re.fullmatch(r"-?\d{1,3}(\.\d{3})+", plain):
        plain = plain.replace(".", "")
    if not re.fullmatch(r"-?\d+(\.\d+)?([eE][+-]?\d+)?", plain):
        raise Invalid(f"invalid amount {text!r}: write it like 1234.50 or 1,234.50")
    return plain, code


def _word(text: str | None, what: str, words: dict[str, str], default: str) -> str:
    """One of crm's words for a value another tool spells its own way ("Medium" is normal)."""
    if not text:
        return default
    known = words.get(_fold_header(text))
    if known is None:
        choices = ", ".join(dict.fromkeys(words.values()))
        raise Invalid(f"unknown {what} {text!r}: use {choices}")
    return known


def _words(pairs: dict[str, str]) -> dict[str, str]:
    return {
        _fold_header(spelling): word for word, spellings in pairs.items() for spelling in spellings.split(",")
    }


_TICKET_TYPES = _words({
    "question": "question,inquiry,enquiry,general inquiry,how to,howto",
    "incident": "incident,problem,bug,outage,issue,defect",
    "service_request": "service request,service_request,request,task,feature request,change request",
    "complaint": "complaint,grievance",
})  # fmt: skip
_PRIORITIES = _words({
    "low": "low,lowest,minor",
    "normal": "normal,medium,moderate,standard",
    "high": "high,major,important",
    "urgent": "urgent,critical,highest,emergency,blocker",
})  # fmt: skip
_CHANNELS = _words({
    "email": "email,e-mail,mail",
    "phone": "phone,telephone,call,voice",
    "in_person": "in person,in_person,walk-in,visit,on site,onsite",
    "other": "other,web,web form,form,portal,chat,live chat,api,social,twitter,facebook,whatsapp,sms",
})  # fmt: skip
_TICKET_STATUSES = _words({
    "new": "new,unassigned",
    "open": "open,in progress,assigned,waiting on us,active",
    "pending": "pending,on hold,hold,waiting,waiting on contact,waiting on customer,awaiting customer",
    "resolved": "resolved,solved,fixed,done",
    "closed": "closed",
})  # fmt: skip


# Deals


def _deals(work: Work, batch: list[Row], outcomes: dict[int, str | None], run: _Run, job: _Job) -> None:
    customer = _customer_finder(work, batch, job.create_customers)
    owners = _people(work, batch, "owner", "sales", job, run)
    zone = _zone(work)
    seen: dict[tuple[int, str], int] = {}  # (customer, title) -> the line that has it
    for row in batch:
        with _each_row(work, row, outcomes, run):
            _deal(work, row, customer(row.values.get("customer")), owners, zone, job, seen)


def _deal(
    work: Work, row: Row, customer: _Owner, owners: dict[str, str | Invalid], zone: tzinfo | None,
    job: _Job, seen: dict[tuple[int, str], int],
) -> None:  # fmt: skip
    values = row.values
    title = clean_text(values.get("title"), "title", required=True)
    _skip_known_deal(work, customer, title, seen)
    pipeline = _pipeline_named(work, values.get("pipeline"), job.pipelines)
    stage = _stage_named(work, pipeline, values.get("stage"), job.stages)
    amount, code = amount_and_currency(values.get("amount"))
    currency = values.get("currency") or code
    if code and currency and code != currency.strip().upper():
        raise Invalid(f"the amount is in {code}, the currency column says {currency}")
    expected = parse_sheet_date(values.get("expected_close"), "close date", job.date_order)
    created = deals.create_in(
        work,
        validated(
            DealCreate,
            {"customer": ref("customer", customer.id), "title": title, "amount": amount, "currency": currency,
             "contact": _contact_at(work, customer, values.get("contact")), "pipeline": pipeline.name,
             "stage": stage.name if stage is not None and stage.kind == "open" else None,
             "owner": _username(owners, values.get("owner")), "expected_close": expected,
             "source": values.get("source")},
        ),
    )  # fmt: skip
    deal = work.session.get(Deal, created.id)
    if stage is not None and stage.kind != "open":
        deals.close_deal(work, deal, stage.kind, _lost_reason(values, stage, job))
    opened = parse_moment(values.get("created"), "created date", zone, job.date_order)
    closed = parse_moment(values.get("closed"), "closed date", zone, job.date_order)
    if closed is None and deal.status != "open" and expected is not None:
        closed = parse_moment(expected.isoformat(), "close date", zone)
    _date_deal(work, deal, opened, closed if deal.status != "open" else None)
    seen[(customer.id, title.lower())] = row.line


def _skip_known_deal(work: Work, customer: _Owner, title: str, seen: dict[tuple[int, str], int]) -> None:
    """A deal with the same title for the same customer is a duplicate (any case), in
    the database or on an earlier line of the batch that went in."""
    key = (customer.id, title.lower())
    if key in seen:
        raise _Skip(f"line {seen[key]} has the same deal for {ref('customer', customer.id)}")
    existing = work.session.execute(
        select(Deal.id)
        .where(Deal.customer_id == customer.id, func.lower(Deal.title) == func.lower(title))
        .where(Deal.archived_at.is_(None))
        .limit(1)
    ).scalar_one_or_none()
    if existing is not None:
        raise _Skip(f"{ref('deal', existing)} {title!r} of {ref('customer', customer.id)} exists")


def _pipeline_named(work: Work, name: str | None, mapped: dict[str, str]) -> Pipeline:
    """The pipeline a row names (any case), through ``--pipeline FROM=TO``; the default
    one when the row names none."""
    try:
        return pipelines.find_pipeline(work, mapped.get(_fold_header(name), name) if name else None)
    except NotFound:
        known = work.session.execute(select(Pipeline.name).order_by(Pipeline.name)).scalars()
        raise Invalid(
            f"no pipeline {name!r}: the pipelines are {', '.join(known)} "
            f"(or map it with --pipeline '{name}=PIPELINE')"
        ) from None


def _stage_named(work: Work, pipeline: Pipeline, name: str | None, mapped: dict[str, str]) -> Stage | None:
    """The pipeline's stage a row names (any case, spacing or punctuation), through
    ``--stage FROM=TO``; "Closed Won" and "Closed Lost" are the won and lost stages.
    None when the row names no stage: the deal starts in the first open one."""
    if not name:
        return None
    stages = pipelines.stages_of(work, pipeline.id)
    wanted = _fold_header(mapped.get(_fold_header(name), name))
    for stage in stages:
        if _fold_header(stage.name) == wanted:
            break
    else:
        kind = {"closedwon": "won", "won": "won", "closedlost": "lost", "lost": "lost"}.get(wanted)
        if kind is None:
            raise Invalid(
                f"pipeline {pipeline.name} has no stage {name!r}: its stages are "
                f"{', '.join(stage.name for stage in stages)} (or map it with --stage '{name}=STAGE')"
            )
        return pipelines.first_of_kind(work, pipeline.id, kind)
    if stage.kind != "open" and pipelines.first_of_kind(work, pipeline.id, stage.kind).id != stage.id:
        closing = pipelines.first_of_kind(work, pipeline.id, stage.kind).name
        raise Invalid(f"stage {stage.name}: {stage.kind} deals close in {closing}; map it with --stage")
    return stage


def _lost_reason(values: dict[str, Any], stage: Stage, job: _Job) -> str | None:
    if stage.kind != "lost":
        return None
    reason = clean_text(values.get("lost_reason") or job.lost_reason, "lost reason", limit=500)
    if not reason:
        raise Invalid("a lost deal needs a reason: give a Lost Reason column or --lost-reason TEXT")
    return reason


def _date_deal(work: Work, deal: Deal, opened: datetime | None, closed: datetime | None) -> None:
    """Give a deal the dates of the file: opened when it was created (else when it
    closed), closed when it closed; its stage history and timeline move with them."""
    if opened is None and closed is None:
        return
    now = utcnow()
    for moment, what in ((opened, "created date"), (closed, "closed date")):
        if moment is not None and moment > now:
            raise Invalid(f"the {what} {moment:%Y-%m-%d} is in the future")
    opened = opened or min(deal.created_at, closed)
    if closed is not None and closed < opened:
        raise Invalid(f"the deal closed ({closed:%Y-%m-%d}) before it was created ({opened:%Y-%m-%d})")
    before = {"created_at": deal.created_at, "closed_at": deal.closed_at}
    history = list(
        work.session.execute(
            select(DealStageChange).where(DealStageChange.deal_id == deal.id).order_by(DealStageChange.id)
        ).scalars()
    )
    deal.created_at = history[0].at = opened
    if closed is not None:
        deal.closed_at = history[-1].at = closed
        _date_timeline(work, Activity.deal_id == deal.id, closed)
    work.session.flush()
    changes = audit.diff(before, {"created_at": deal.created_at, "closed_at": deal.closed_at})
    if changes:
        work.audit("deal", deal.id, "import", changes)


def _date_timeline(work: Work, which: Any, moment: datetime) -> None:
    """Put the timeline entries ``which`` picks at ``moment``: the event they tell of
    happened then, not when it was imported."""
    work.session.flush()
    work.session.execute(
        update(Activity).where(which).values(occurred_at=moment),
        execution_options={"synchronize_session": False},
    )


# Tickets


def _tickets(work: Work, batch: list[Row], outcomes: dict[int, str | None], run: _Run, job: _Job) -> None:
    customer = _customer_finder(work, batch, job.create_customers)
    agents = _people(work, batch, "assignee", "service", job, run)
    zone = _zone(work)
    seen: dict[tuple[int, str, Any], int] = {}
    for row in batch:
        with _each_row(work, row, outcomes, run):
            _ticket(work, row, customer(row.values.get("customer")), agents, zone, job, seen)


def _ticket(
    work: Work, row: Row, customer: _Owner, agents: dict[str, str | Invalid], zone: tzinfo | None,
    job: _Job, seen: dict[tuple[int, str, Any], int],
) -> None:  # fmt: skip
    values = row.values
    subject = clean_text(values.get("subject"), "subject", required=True, limit=300)
    opened = parse_moment(values.get("created"), "created date", zone, job.date_order)
    _skip_known_ticket(work, customer, subject, opened, seen)
    status = _word(values.get("status"), "status", _TICKET_STATUSES, "new")
    closed = parse_moment(values.get("closed"), "closed date", zone, job.date_order)
    created = tickets.create_in(
        work,
        validated(
            TicketCreate,
            {"customer": ref("customer", customer.id), "subject": subject,
             "description": values.get("description") or "",
             "contact": _contact_at(work, customer, values.get("contact")),
             "type": _word(values.get("type"), "type", _TICKET_TYPES, "question"),
             "priority": _word(values.get("priority"), "priority", _PRIORITIES, "normal"),
             "channel": _word(values.get("channel"), "channel", _CHANNELS, "email"),
             "assignee": _username(agents, values.get("assignee"))},
        ),
    )  # fmt: skip
    ticket = work.session.get(Ticket, created.id)
    if opened is not None:
        _date_ticket(work, ticket, opened)
    _settle(work, ticket, status, values.get("resolution") or job.resolution, closed)
    seen[(customer.id, subject.lower(), opened)] = row.line


def _skip_known_ticket(
    work: Work, customer: _Owner, subject: str, opened: datetime | None, seen: dict[tuple[int, str, Any], int]
) -> None:
    """A ticket of the same customer with the same subject (any case) is a duplicate;
    when the file dates tickets, only one opened at the same moment."""
    key = (customer.id, subject.lower(), opened)
    if key in seen:
        raise _Skip(f"line {seen[key]} has the same ticket for {ref('customer', customer.id)}")
    query = select(Ticket.id).where(
        Ticket.customer_id == customer.id, func.lower(Ticket.subject) == func.lower(subject)
    )
    if opened is not None:
        query = query.where(Ticket.created_at == opened)
    existing = work.session.execute(query.limit(1)).scalar_one_or_none()
    if existing is not None:
        raise _Skip(f"{ref('ticket', existing)} {subject!r} of {ref('customer', customer.id)} exists")


def _date_ticket(work: Work, ticket: Ticket, opened: datetime) -> None:
    """Open the ticket at the file's moment: the SLA due times are its priority's
    targets counted from then on the working-time clock, as at `crm ticket add`."""
    if opened > utcnow():
        raise Invalid(f"the created date {opened:%Y-%m-%d %H:%M} is in the future")
    policy = tickets.sla_policy(work, ticket.priority)
    clock = tickets.working_time(work.crm)
    before = tickets.status_fields(ticket) | {"created_at": audit.plain(ticket.created_at)}
    ticket.created_at = opened
    ticket.first_response_due = clock.add(opened, policy.first_response_minutes * 60)
    ticket.resolution_due = clock.add(opened, policy.resolution_minutes * 60)
    _date_timeline(work, Activity.ticket_id == ticket.id, opened)
    work.session.flush()
    after = tickets.status_fields(ticket) | {"created_at": audit.plain(ticket.created_at)}
    work.audit("ticket", ticket.id, "import", audit.diff(before, after))


def _settle(work: Work, ticket: Ticket, status: str, resolution: str | None, closed: datetime | None) -> None:
    """Take a new ticket through the workflow to ``status``, each step audited as the
    ticket commands audit it; a resolved or closed one is resolved at ``closed``, with
    the service report's spans kept as `crm ticket resolve` keeps them."""
    now = utcnow()
    if status == "new":
        return
    if status in ("open", "pending"):
        before = tickets.status_fields(ticket)
        tickets.move_status(work, ticket, status, now)
        work.session.flush()
        work.audit("ticket", ticket.id, "status", audit.diff(before, tickets.status_fields(ticket)))
        return
    text = clean_text(resolution, "resolution", limit=tickets.BODY_LIMIT)
    if not text:
        raise Invalid(f"a {status} ticket needs a resolution: give a Resolution column or --resolution TEXT")
    moment = closed or now
    if moment > now:
        raise Invalid(f"the closed date {moment:%Y-%m-%d} is in the future")
    if moment < ticket.created_at:
        raise Invalid(f"the ticket was closed ({moment:%Y-%m-%d}) before it was created")
    name = ref("ticket", ticket.id)
    for step in ("resolved", "closed") if status == "closed" else ("resolved",):
        before = tickets.status_fields(ticket)
        tickets.move_status(work, ticket, step, moment)
        if step == "resolved":
            tickets.record_resolution(work, ticket, moment, text)  # with the spans it completes
            work.session.add(
                Activity(customer_id=ticket.customer_id, ticket_id=ticket.id, kind="system",
                         body=f"Resolved {name}: {text[:200]}", author_id=work.actor.id, occurred_at=moment)
            )  # fmt: skip
        else:
            ticket.closed_at = moment
        ticket.updated_at = now
        work.session.flush()
        work.audit("ticket", ticket.id, "resolve" if step == "resolved" else "close",
                   audit.diff(before, tickets.status_fields(ticket)))  # fmt: skip


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
