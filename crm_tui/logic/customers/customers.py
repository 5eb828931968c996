"""Customers: the companies and people the team sells to and serves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, tuple_, update

from crm_tui.logic.core import audit, users
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import CrmError, Duplicate, Invalid
from crm_tui.logic.core.records import check_version, fetch, set_archived
from crm_tui.logic.core.refs import parse_ref, ref
from crm_tui.logic.core.vocabulary import ActivityKind, CustomerKind, CustomerSort, Lifecycle
from crm_tui.logic.customers.schemas import (
    CustomerCreate,
    CustomerDetail,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
    DuplicateGroup,
    MergeResult,
)
from crm_tui.logic.customers.search import customer_filter, few_customers_match
from crm_tui.logic.values.normalise import (
    clean_country,
    clean_email,
    clean_phone,
    clean_tag,
    clean_text,
    clean_website,
    fold,
    name_key,
)
from crm_tui.storage.models import Activity, Contact, Customer, CustomerTag, Tag, Task, User
from crm_tui.storage.sql import no_index
from crm_tui.storage.types import utcnow

_TEXT_LIMITS = {
    "company": 200, "segment": 64, "street": 300, "city": 120, "postcode": 32,
    "industry": 120, "source": 120,
}  # fmt: skip
# Fields a merge copies from the merged customer where the survivor has none.
_FILLABLE = (
    "company", "segment", "owner_id", "email", "phone", "website", "street", "city",
    "postcode", "country", "industry", "source",
)  # fmt: skip


# Reading


def _reads(work: Work, customers: list[Customer]) -> list[CustomerRead]:
    """Read models for many customers with two extra queries, not two per customer."""
    ids = [customer.id for customer in customers]
    tags: dict[int, list[str]] = defaultdict(list)
    if ids:
        rows = work.session.execute(
            select(CustomerTag.customer_id, Tag.name)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(CustomerTag.customer_id.in_(ids))
            .order_by(Tag.name)
        )
        for customer_id, tag in rows:
            tags[customer_id].append(tag)
    owner_ids = {customer.owner_id for customer in customers if customer.owner_id}
    owners: dict[int, str] = {}
    if owner_ids:
        owners = dict(
            work.session.execute(select(User.id, User.username).where(User.id.in_(owner_ids))).all()
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
    return _reads(work, [customer])[0]


def get_customer(crm: Crm, reference: str | int) -> CustomerRead:
    """The customer named by ``reference`` (archived ones too)."""
    with crm.work() as work:
        return read_one(work, fetch(work, Customer, "customer", reference))


# Cleaning input


def clean_fields(work: Work, given: dict[str, Any], current: Customer | None) -> dict[str, Any]:
    """Column values for the fields the user gave, each checked and normalised."""
    values: dict[str, Any] = {}
    for field, raw in given.items():
        if field == "name":
            values["name"] = clean_text(raw, "name", required=True)
        elif field == "owner":
            values["owner_id"] = _owner_id(work, raw)
        elif field == "email":
            values["email"] = clean_email(raw)
        elif field == "website":
            values["website"] = clean_website(raw)
        elif field == "country":
            values["country"] = clean_country(raw)
        elif field in ("kind", "lifecycle"):
            if raw is None:
                raise Invalid(f"{field} must not be empty")
            values[field] = str(raw)
        elif field == "custom":
            values["custom"] = _merged_custom(current.custom if current else {}, raw or {})
        elif field in _TEXT_LIMITS:
            values[field] = clean_text(raw, field, limit=_TEXT_LIMITS[field])
        elif field not in ("phone", "tags"):
            raise Invalid(f"unknown field {field!r}")
    if "phone" in given:
        country = values.get("country", current.country if current else None)
        values["phone"] = clean_phone(given["phone"], country or work.crm.settings.default_country)
    kind = values.get("kind", current.kind if current else CustomerKind.company)
    if "name" in values or "kind" in values:
        name = values.get("name", current.name if current else "")
        values["name_key"] = name_key(name, company=kind == CustomerKind.company)
    if "company" in values:
        values["company_key"] = name_key(values["company"], company=True) if values["company"] else None
    return values


def _owner_id(work: Work, username: str | None) -> int | None:
    if not username:
        return None
    try:
        return users.find_active(work, username, "owner").id
    except CrmError as exc:
        raise type(exc)(str(exc), field="owner") from None


def _merged_custom(current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Custom fields after an edit: given keys are set, keys given as None are removed."""
    merged = dict(current)
    for key, value in given.items():
        key = key.strip()
        if not key:
            raise Invalid("a custom field needs a name")
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _find_duplicate(
    work: Work, values: dict[str, Any], exclude: int | None = None
) -> tuple[Customer, str] | None:
    """An active customer the new values would duplicate, and why.

    One query asks all three questions (same email, same phone, same name at the same
    company); the reason is read off the customer found, email first.
    """
    same_name = None
    if values.get("name_key"):
        company_key = values.get("company_key")
        same_company = (
            Customer.company_key.is_(None) if company_key is None else Customer.company_key == company_key
        )
        same_name = and_(
            Customer.name_key == values["name_key"],
            Customer.kind == values.get("kind"),
            same_company,
        )
    checks = [
        Customer.email == values["email"] if values.get("email") else None,
        Customer.phone == values["phone"] if values.get("phone") else None,
        same_name,
    ]
    conditions = [check for check in checks if check is not None]
    if not conditions:
        return None
    query = select(Customer).where(or_(*conditions), Customer.archived_at.is_(None))
    if exclude is not None:
        query = query.where(Customer.id != exclude)
    found = work.session.execute(query.order_by(Customer.id).limit(1)).scalar_one_or_none()
    if found is None:
        return None
    if values.get("email") and found.email == values["email"]:
        return found, f"the same email ({found.email})"
    if values.get("phone") and found.phone == values["phone"]:
        return found, f"the same phone ({found.phone})"
    return found, "the same name" + (f" at {found.company}" if found.company else "")


def duplicate_error(existing: str, reason: str) -> Duplicate:
    """The refusal of a likely duplicate of ``existing`` (a record, or a line of a file)."""
    return Duplicate(f"{existing} has {reason}; use --force to save it anyway, or merge the two")


def _refuse_duplicate(work: Work, values: dict[str, Any], exclude: int | None = None) -> None:
    found = _find_duplicate(work, values, exclude)
    if found:
        other, reason = found
        raise duplicate_error(f"{ref('customer', other.id)} {other.name}", reason)


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
    return work.session.get(User, values["owner_id"]).username if values.get("owner_id") else None


def create_in(work: Work, data: CustomerCreate, *, force: bool = False) -> CustomerRead:
    """Create a customer inside ``work``; likely duplicates are refused unless forced."""
    work.require("customers.write")
    values, tags = _new_values(work, data)
    if not force:
        _refuse_duplicate(work, values)
    customer = Customer(**values)
    work.session.add(customer)
    work.session.flush()
    _add_tags(work, customer.id, tags, new=True)
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
            probe = {
                key: value
                for key, value in values.items()
                if key in ("email", "phone", "name_key", "company_key")
            }
            if "name_key" in probe:
                probe.setdefault("company_key", customer.company_key)
                probe.setdefault("company", customer.company)
                probe["kind"] = values.get("kind", customer.kind)
            _refuse_duplicate(work, probe, exclude=customer.id)
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


def _tag_ids(work: Work, names: Iterable[str]) -> dict[str, int]:
    """Ids of the named tags, creating the ones that do not exist yet."""
    wanted = {clean_tag(name) for name in names}
    if not wanted:
        return {}
    found = dict(work.session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(wanted))).all())
    for name in sorted(wanted - found.keys()):
        tag = Tag(name=name)
        work.session.add(tag)
        work.session.flush()
        found[name] = tag.id
    return found


def _add_tags(work: Work, customer_id: int, names: Iterable[str], *, new: bool = False) -> set[str]:
    """Link the tags to the customer; returns the tags that were newly linked.

    ``new`` says the customer was just created and so has no links to check.
    """
    ids = _tag_ids(work, names)
    if not ids:
        return set()
    linked = (
        set()
        if new
        else set(
            work.session.execute(
                select(CustomerTag.tag_id).where(
                    CustomerTag.customer_id == customer_id, CustomerTag.tag_id.in_(ids.values())
                )
            ).scalars()
        )
    )
    added = {name for name, tag_id in ids.items() if tag_id not in linked}
    for name in added:
        work.session.add(CustomerTag(customer_id=customer_id, tag_id=ids[name]))
    work.session.flush()
    return added


def tag_customer(crm: Crm, reference: str | int, tags: list[str]) -> CustomerRead:
    """Add tags to a customer; tags it already has are left as they are."""
    if not tags:
        raise Invalid("give at least one tag")
    with crm.work("customers.write") as work:
        customer = fetch(work, Customer, "customer", reference)
        added = _add_tags(work, customer.id, tags)
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
        names = {clean_tag(tag) for tag in tags}
        rows = dict(
            work.session.execute(
                select(Tag.name, Tag.id)
                .join(CustomerTag, CustomerTag.tag_id == Tag.id)
                .where(CustomerTag.customer_id == customer.id, Tag.name.in_(names))
            ).all()
        )
        missing = names - rows.keys()
        if missing:
            raise Invalid(f"{ref('customer', customer.id)} has no tag {', '.join(sorted(missing))}")
        work.session.execute(
            delete(CustomerTag).where(
                CustomerTag.customer_id == customer.id, CustomerTag.tag_id.in_(rows.values())
            )
        )
        customer.updated_at = utcnow()
        work.audit("customer", customer.id, "untag", {"tags": [sorted(names), None]})
        return read_one(work, customer)


# Lists


_SORT_COLUMNS = {
    CustomerSort.name: Customer.name_key,
    CustomerSort.created: Customer.created_at,
    CustomerSort.updated: Customer.updated_at,
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
    sort: CustomerSort = CustomerSort.name,
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
            query = query.where(plain(Customer.archived_at).is_(None))
        elif archived == "archived":
            query = query.where(plain(Customer.archived_at).is_not(None))
        elif archived != "all":
            raise Invalid(f"archived must be active, archived or all, not {archived!r}")
        if lifecycle:
            query = query.where(plain(Customer.lifecycle) == Lifecycle(lifecycle))
        if segment:
            query = query.where(plain(Customer.segment) == segment.strip())
        if owner:
            query = query.where(plain(Customer.owner_id) == users.find(work, owner).id)
        if tag:
            tagged = (
                select(CustomerTag.customer_id)
                .join(Tag, Tag.id == CustomerTag.tag_id)
                .where(Tag.name == clean_tag(tag))
            )
            query = query.where(Customer.id.in_(tagged))
        if text and text.strip():
            query = query.where(_matches(text, Customer.id if few else no_index(Customer.id), country))
        column = _SORT_COLUMNS[CustomerSort(sort)]
        sort_by = plain(column)
        if after is not None:
            anchor = fetch(work, Customer, "customer", after)
            key = tuple_(sort_by, Customer.id)
            mark = tuple_(getattr(anchor, column.key), anchor.id)
            query = query.where(key < mark if descending else key > mark)
        order = (sort_by.desc(), Customer.id.desc()) if descending else (sort_by, Customer.id)
        rows = list(work.session.execute(query.order_by(*order).limit(limit + 1)).scalars())
        more = len(rows) > limit
        rows = rows[:limit]
        return CustomerPage(
            customers=_reads(work, rows),
            next_after=ref("customer", rows[-1].id) if more else None,
        )


def _as_is(column: Any) -> Any:
    return column


def _name_starts_with(prefix: str) -> ColumnElement[bool]:
    """Name keys starting with ``prefix``, as a range the name index answers in order
    (a LIKE 'm%' would be read row by row: the index is not case-insensitive)."""
    following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(Customer.name_key >= prefix, Customer.name_key < following)


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
        conditions.append(and_(after_first, Customer.name_key.contains(folded, autoescape=True)))
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 3:
        conditions.append(Customer.phone.contains(digits, autoescape=True))
    return or_(*conditions)


# Duplicates


def find_duplicates(crm: Crm, *, limit: int = 100) -> list[DuplicateGroup]:
    """Groups of active customers sharing an email, a phone, or a name at one company."""
    with crm.work() as work:
        groups: list[DuplicateGroup] = []
        active = Customer.archived_at.is_(None)
        for match, columns in (
            ("email", (Customer.email,)),
            ("phone", (Customer.phone,)),
            ("name", (Customer.name_key, Customer.kind, Customer.company_key)),
        ):
            keys = work.session.execute(
                select(*columns)
                .where(active, columns[0].is_not(None), columns[0] != "")
                .group_by(*columns)
                .having(func.count() > 1)
                .order_by(*columns)
                .limit(limit - len(groups))
            ).all()
            for key in keys:
                condition = [active] + [
                    column.is_(None) if value is None else column == value
                    for column, value in zip(columns, key, strict=True)
                ]
                members = list(
                    work.session.execute(select(Customer).where(*condition).order_by(Customer.id)).scalars()
                )
                reads = _reads(work, members)
                value = key[0] if match != "name" else reads[0].name
                groups.append(DuplicateGroup(match=match, value=value, customers=reads))
            if len(groups) >= limit:
                break
        return groups


def merge_customers(crm: Crm, survivor_ref: str | int, merged_ref: str | int) -> MergeResult:
    """Merge one customer into another.

    Contacts, timeline, tasks and tags move to the survivor; fields the survivor lacks
    are taken from the merged customer, which is archived with a link to the survivor.
    The audit trail lists everything that moved.
    """
    if parse_ref("customer", survivor_ref) == parse_ref("customer", merged_ref):
        raise Invalid("a customer cannot be merged into itself")
    with crm.work("customers.write") as work:
        survivor = fetch(work, Customer, "customer", survivor_ref, for_update=True)
        merged = fetch(work, Customer, "customer", merged_ref, for_update=True)
        for customer in (survivor, merged):
            if customer.archived_at is not None:
                raise Invalid(f"{ref('customer', customer.id)} is archived; restore it before merging")
        work.subject = ref("customer", survivor.id)
        before = read_one(work, survivor)
        moved = _move_children(work, merged.id, survivor.id)
        moved["tags"] = sorted(_add_tags(work, survivor.id, _tag_names(work, merged.id)))
        for column in _FILLABLE:
            if getattr(survivor, column) in (None, "") and getattr(merged, column) not in (
                None,
                "",
            ):
                setattr(survivor, column, getattr(merged, column))
        survivor.custom = {**(merged.custom or {}), **(survivor.custom or {})}
        now = utcnow()
        survivor.updated_at = now
        merged.archived_at = now
        merged.updated_at = now
        merged.merged_into_id = survivor.id
        merged_name = f"{ref('customer', merged.id)} {merged.name}"
        summary = ", ".join(f"{len(v)} {k}" for k, v in moved.items() if k != "tags")
        work.session.add(
            Activity(
                customer_id=survivor.id,
                kind=ActivityKind.system,
                author_id=work.actor.id,
                body=f"Merged {merged_name} into this customer ({summary})",
            )
        )
        work.session.flush()
        after = read_one(work, survivor)
        fields = audit.diff(before.model_dump(), after.model_dump(exclude={"updated_at", "version", "tags"}))
        work.audit(
            "customer",
            survivor.id,
            "merge",
            {"merged": ref("customer", merged.id), **moved, "fields": fields},
        )
        work.audit(
            "customer",
            merged.id,
            "merged_into",
            {
                "merged_into": [None, ref("customer", survivor.id)],
                "archived_at": [None, audit.plain(now)],
            },
        )
        return MergeResult(survivor=after, merged=ref("customer", merged.id), moved=moved)


def _tag_names(work: Work, customer_id: int) -> list[str]:
    return list(
        work.session.execute(
            select(Tag.name)
            .join(CustomerTag, CustomerTag.tag_id == Tag.id)
            .where(CustomerTag.customer_id == customer_id)
        ).scalars()
    )


def _move_children(work: Work, from_id: int, to_id: int) -> dict[str, list[str]]:
    """Re-point everything a customer has; returns the references moved, by kind."""
    from crm_tui.storage.models import Deal, Order, Ticket

    moved: dict[str, list[str]] = {}
    kinds = (
        ("contacts", "contact", Contact), ("activities", "activity", Activity), ("tasks", "task", Task),
        ("deals", "deal", Deal), ("orders", "order", Order), ("tickets", "ticket", Ticket),
    )  # fmt: skip
    for name, kind, model in kinds:
        ids = list(
            work.session.execute(
                select(model.id).where(model.customer_id == from_id).order_by(model.id)
            ).scalars()
        )
        if ids:
            values = {"customer_id": to_id}
            if hasattr(model, "version"):
                values["version"] = model.version + 1
            work.session.execute(
                update(model).where(model.id.in_(ids)).values(**values),
                execution_options={"synchronize_session": False},
            )
        moved[name] = [ref(kind, record_id) for record_id in ids]
    return moved


def customer_detail(crm: Crm, reference: str | int, *, timeline_limit: int = 20) -> CustomerDetail:
    """A customer with its contacts, latest timeline entries and open tasks."""
    from crm_tui.logic.customers import contacts, tasks, timeline

    with crm.work() as work:
        customer = fetch(work, Customer, "customer", reference)
        people = work.session.execute(
            select(Contact).where(Contact.customer_id == customer.id).order_by(Contact.name_key, Contact.id)
        ).scalars()
        open_tasks = work.session.execute(
            select(Task, User.username)
            .outerjoin(User, User.id == Task.assignee_id)
            .where(Task.customer_id == customer.id, Task.done_at.is_(None))
            .order_by(Task.due_on.is_(None), Task.due_on, Task.id)
        ).all()
        today = tasks.local_today()
        return CustomerDetail(
            customer=read_one(work, customer),
            contacts=[contacts.read(person, customer) for person in people],
            timeline=timeline.entries(work, customer.id, limit=timeline_limit),
            open_tasks=[tasks.read(task, customer.name, username, today) for task, username in open_tasks],
        )
