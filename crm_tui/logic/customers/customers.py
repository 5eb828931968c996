"""Customers: the companies and people the team sells to and serves."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, tuple_
from sqlmodel import col

from crm_tui.logic.core import audit, users
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.records import check_version, fetch, set_archived
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.vocabulary import ActivityKind, CustomerKind, CustomerSort, Lifecycle
from crm_tui.logic.customers.checks import clean_fields, refuse_duplicate, refuse_duplicate_edit
from crm_tui.logic.customers.schemas import (
    CustomerCreate,
    CustomerDetail,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
)
from crm_tui.logic.customers.search import customer_filter, few_customers_match
from crm_tui.logic.customers.tags import add_tags, remove_tags
from crm_tui.logic.values.normalise import clean_tag, fold
from crm_tui.storage.models import Activity, Contact, Customer, CustomerTag, Tag, Task, User
from crm_tui.storage.sql import no_index
from crm_tui.storage.types import utcnow

# Reading


def reads(work: Work, customers: list[Customer]) -> list[CustomerRead]:
    """Read models for many customers with two extra queries, not two per customer."""
    ids = [customer.id for customer in customers]
    tags: dict[int, list[str]] = defaultdict(list)
    if ids:
        rows = work.session.execute(
            select(col(CustomerTag.customer_id), col(Tag.name))
            .join(Tag, col(Tag.id) == col(CustomerTag.tag_id))
            .where(col(CustomerTag.customer_id).in_(ids))
            .order_by(col(Tag.name))
        )
        for customer_id, tag in rows:
            tags[customer_id].append(tag)
    owner_ids = {customer.owner_id for customer in customers if customer.owner_id}
    owners: dict[int, str] = {}
    if owner_ids:
        owners = dict(
            work.session.execute(
                select(col(User.id), col(User.username)).where(col(User.id).in_(owner_ids))
            ).all()
        )
    return [_read(customer, tags[customer.id], owners.get(customer.owner_id or 0)) for customer in customers]


def _read(customer: Customer | Any, tags: list[str], owner: str | None) -> CustomerRead:
    """The read model of a customer row (or of anything with the same attributes)."""
    return CustomerRead(
        id=customer.id,
        ref=ref("customer", customer.id),
        name=customer.name,
        kind=CustomerKind(customer.kind),
        company=customer.company,
        lifecycle=Lifecycle(customer.lifecycle),
        segment=customer.segment,
        owner=owner,
        email=customer.email,
        phone=customer.phone,
        website=customer.website,
        street=customer.street,
        city=customer.city,
        postcode=customer.postcode,
        country=customer.country,
        industry=customer.industry,
        source=customer.source,
        tags=tags,
        custom=dict(customer.custom or {}),
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        archived_at=customer.archived_at,
        merged_into=ref("customer", customer.merged_into_id) if customer.merged_into_id else None,
        version=customer.version,
    )


def read_one(work: Work, customer: Customer) -> CustomerRead:
    """The read model of one customer, with its tags and owner."""
    return reads(work, [customer])[0]


def get_customer(crm: Crm, reference: str | int) -> CustomerRead:
    """The customer named by ``reference`` (archived ones too)."""
    with crm.work() as work:
        return read_one(work, fetch(work, Customer, "customer", reference))


# Changing


def _new_values(work: Work, data: CustomerCreate) -> tuple[dict[str, Any], list[str]]:
    """Checked column values and tags for a new customer, with the defaults filled in."""
    given = data.model_dump(exclude={"tags"}, exclude_unset=True)
    given["name"] = data.name
    given.setdefault("kind", CustomerKind.company)
    given.setdefault("lifecycle", Lifecycle.lead)
    return clean_fields(work, given, None), sorted({clean_tag(tag) for tag in data.tags})


def _creation_changes(created: CustomerRead) -> dict[str, list[Any]]:
    """The audit entry of a new customer: every field it was given."""
    fields = created.model_dump(
        exclude={"id", "ref", "version", "created_at", "updated_at", "archived_at", "merged_into"}
    )
    return audit.diff({}, {k: v for k, v in fields.items() if v not in (None, [], {})})


def _owner_name(work: Work, values: dict[str, Any]) -> str | None:
    # The owner was loaded while cleaning, so this is answered from the session.
    return work.session.get_one(User, values["owner_id"]).username if values.get("owner_id") else None


def create_in(work: Work, data: CustomerCreate, *, force: bool = False) -> CustomerRead:
    """Create a customer inside ``work``; likely duplicates are refused unless forced."""
    work.require("customers.write")
    values, tags = _new_values(work, data)
    if not force:
        refuse_duplicate(work, values)
    customer = Customer(**values)
    work.session.add(customer)
    work.session.flush()
    add_tags(work, customer.id, tags, new=True)
    created = _read(customer, tags, _owner_name(work, values))
    work.audit("customer", customer.id, "create", _creation_changes(created))
    return created


def add_customer(crm: Crm, data: CustomerCreate, *, force: bool = False) -> CustomerRead:
    """Add a customer; one with the same email, phone, or name (at the same company)
    as an active customer is refused unless ``force``."""
    with crm.work("customers.write") as work:
        return create_in(work, data, force=force)


def update_customer(
    crm: Crm,
    reference: str | int,
    data: CustomerUpdate,
    *,
    expected_version: int | None = None,
    force: bool = False,
) -> CustomerRead:
    """Change the fields given in ``data``. An edit based on an older version than the
    stored one is refused (Conflict), as is one that makes it a likely duplicate."""
    with crm.work("customers.write") as work:
        customer = fetch(work, Customer, "customer", reference, for_update=True)
        check_version(work, "customer", customer, expected_version)
        given = data.model_dump(exclude_unset=True)
        if not given:
            raise Invalid("nothing to change: give at least one field")
        before = read_one(work, customer)
        values = clean_fields(work, given, customer)
        if not force:
            refuse_duplicate_edit(work, values, customer)
        for column, value in values.items():
            setattr(customer, column, value)
        customer.updated_at = utcnow()
        work.session.flush()
        after = read_one(work, customer)
        changes = audit.diff(before.model_dump(), after.model_dump(exclude={"updated_at", "version"}))
        work.audit("customer", customer.id, "update", changes)
        return after


def _set_archived(crm: Crm, reference: str | int, archived: bool) -> CustomerRead:
    with crm.work("customers.write") as work:
        customer = fetch(work, Customer, "customer", reference, for_update=True)
        if not archived and customer.merged_into_id and customer.archived_at is not None:
            raise Invalid(
                f"{ref('customer', customer.id)} was merged into {ref('customer', customer.merged_into_id)}; "
                "it stays archived"
            )
        action = set_archived(work, "customer", customer, archived)
        work.session.add(
            Activity(
                customer_id=customer.id,
                kind=ActivityKind.system,
                body=f"{action.capitalize()}d",
                author_id=work.actor.id,
            )
        )
        work.session.flush()
        return read_one(work, customer)


def archive_customer(crm: Crm, reference: str | int) -> CustomerRead:
    """Archive a customer: hidden from lists, kept with everything attached."""
    return _set_archived(crm, reference, True)


def restore_customer(crm: Crm, reference: str | int) -> CustomerRead:
    """Bring an archived customer back into lists."""
    return _set_archived(crm, reference, False)


# Tags


def tag_customer(crm: Crm, reference: str | int, tags: list[str]) -> CustomerRead:
    """Add tags to a customer; tags it already has are left as they are."""
    if not tags:
        raise Invalid("give at least one tag")
    with crm.work("customers.write") as work:
        customer = fetch(work, Customer, "customer", reference)
        added = add_tags(work, customer.id, tags)
        if added:
            customer.updated_at = utcnow()
            work.audit("customer", customer.id, "tag", {"tags": [None, sorted(added)]})
        return read_one(work, customer)


def untag_customer(crm: Crm, reference: str | int, tags: list[str]) -> CustomerRead:
    """Remove tags from a customer; asking to remove a tag it lacks is an error."""
    if not tags:
        raise Invalid("give at least one tag")
    with crm.work("customers.write") as work:
        customer = fetch(work, Customer, "customer", reference)
        removed = remove_tags(work, customer.id, tags)
        customer.updated_at = utcnow()
        work.audit("customer", customer.id, "untag", {"tags": [removed, None]})
        return read_one(work, customer)


# Lists


_SORT_COLUMNS = {
    CustomerSort.alphabetical: col(Customer.name_key),
    CustomerSort.created: col(Customer.created_at),
    CustomerSort.updated: col(Customer.updated_at),
}


# Up to this many customers matching a text filter are sorted; more, and the list walks
# its sort's index (each step then finds a match soon enough).
_FEW = 2_000


def list_customers(
    crm: Crm,
    *,
    text: str | None = None,
    lifecycle: Lifecycle | None = None,
    segment: str | None = None,
    tag: str | None = None,
    owner: str | None = None,
    archived: str = "active",
    sort: CustomerSort = CustomerSort.alphabetical,
    descending: bool = False,
    limit: int = 50,
    after: str | int | None = None,
) -> CustomerPage:
    """One page of customers matching every filter given, in ``sort`` order.

    Pages are keyset pages: ``after`` is the last customer of the previous page, so a
    page costs the same at row 10 as at row 1,000,000. ``archived`` is "active",
    "archived" or "all".
    """
    if limit < 1:
        raise Invalid("limit must be at least 1")
    with crm.work() as work:
        searching = bool(text and text.strip()) and not _is_name_prefix(text or "")
        country = crm.settings.default_country
        few = searching and few_customers_match(work.session, text or "", _FEW, country)
        # Few customers match the words: look them up and sort them, no index of the
        # other columns used. Many: walk the sort's index and keep the matches (one
        # comes up soon enough), rather than sort them all.
        plain = no_index if few else _as_is
        query = select(Customer)
        if archived == "active":
            query = query.where(plain(col(Customer.archived_at)).is_(None))
        elif archived == "archived":
            query = query.where(plain(col(Customer.archived_at)).is_not(None))
        elif archived != "all":
            raise Invalid(f"archived must be active, archived or all, not {archived!r}")
        if lifecycle:
            query = query.where(plain(col(Customer.lifecycle)) == Lifecycle(lifecycle))
        if segment:
            query = query.where(plain(col(Customer.segment)) == segment.strip())
        if owner:
            query = query.where(plain(col(Customer.owner_id)) == users.find(work, owner).id)
        if tag:
            tagged = (
                select(col(CustomerTag.customer_id))
                .join(Tag, col(Tag.id) == col(CustomerTag.tag_id))
                .where(col(Tag.name) == clean_tag(tag))
            )
            query = query.where(col(Customer.id).in_(tagged))
        if text and text.strip():
            query = query.where(
                _matches(text, col(Customer.id) if few else no_index(col(Customer.id)), country)
            )
        column = _SORT_COLUMNS[CustomerSort(sort)]
        sort_by = plain(column)
        if after is not None:
            anchor = fetch(work, Customer, "customer", after)
            key = tuple_(sort_by, col(Customer.id))
            mark = tuple_(getattr(anchor, column.key), anchor.id)
            query = query.where(key < mark if descending else key > mark)
        order = (sort_by.desc(), col(Customer.id).desc()) if descending else (sort_by, col(Customer.id))
        rows = list(work.session.execute(query.order_by(*order).limit(limit + 1)).scalars())
        more = len(rows) > limit
        rows = rows[:limit]
        return CustomerPage(
            customers=reads(work, rows),
            next_after=ref("customer", rows[-1].id) if more else None,
        )


def _as_is(column: Any) -> Any:
    return column


def _name_starts_with(prefix: str) -> ColumnElement[bool]:
    """Name keys starting with ``prefix``, as a range the name index answers in order
    (a LIKE 'm%' would be read row by row: the index is not case-insensitive)."""
    following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(col(Customer.name_key) >= prefix, col(Customer.name_key) < following)


def _is_name_prefix(text: str) -> bool:
    words = fold(text).split()
    return len(words) == 1 and len(words[0]) <= 2 and not words[0].isdigit()


def _matches(text: str, id_column: Any, country: str | None) -> ColumnElement[bool]:
    """Customers with a word in their name, company, email or phone starting with each
    word of ``text`` (case and accents ignored), through the full-text index.

    One or two letters alone are a name prefix, as in a phone book: "m" lists the names
    starting with M, straight from the name index, instead of every word starting with m.
    A word index sees where words start, not inside them, so two cases keep a substring
    test: a phrase that begins inside a word ("e zü" in "Café Zürich") is checked on the
    name key of the customers the later words find, and three or more digits are also
    looked for anywhere in the phone number ("441234" in +41441234567), a scan.
    """
    folded = fold(text)
    words = folded.split()
    if _is_name_prefix(text):
        return _name_starts_with(words[0])
    conditions = [customer_filter(id_column, text, country)]
    if len(words) >= 2:
        after_first = customer_filter(id_column, " ".join(words[1:]), country)
        conditions.append(and_(after_first, col(Customer.name_key).contains(folded, autoescape=True)))
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 3:
        conditions.append(col(Customer.phone).contains(digits, autoescape=True))
    return or_(*conditions)


def customer_detail(crm: Crm, reference: str | int, *, timeline_limit: int = 20) -> CustomerDetail:
    """A customer with its contacts, latest timeline entries and open tasks."""
    from crm_tui.logic.customers import contacts, tasks, timeline

    with crm.work() as work:
        customer = fetch(work, Customer, "customer", reference)
        people = work.session.execute(
            select(Contact)
            .where(col(Contact.customer_id) == customer.id)
            .order_by(col(Contact.name_key), col(Contact.id))
        ).scalars()
        open_tasks = work.session.execute(
            select(Task, col(User.username))
            .outerjoin(User, col(User.id) == col(Task.assignee_id))
            .where(col(Task.customer_id) == customer.id, col(Task.done_at).is_(None))
            .order_by(col(Task.due_on).is_(None), col(Task.due_on), col(Task.id))
        ).all()
        today = tasks.local_today()
        return CustomerDetail(
            customer=read_one(work, customer),
            contacts=[contacts.read(person, customer) for person in people],
            timeline=timeline.entries(work, customer.id, limit=timeline_limit),
            open_tasks=[tasks.read(task, customer.name, username, today) for task, username in open_tasks],
        )
