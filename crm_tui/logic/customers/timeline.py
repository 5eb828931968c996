"""The timeline: notes, calls, emails, meetings and system events on a customer."""

from __future__ import annotations

from sqlalchemy import select, tuple_
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.records import fetch
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.vocabulary import ActivityKind
from crm_tui.logic.customers.schemas import ActivityCreate, ActivityRead
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import Activity, Customer, User
from crm_tui.storage.types import utcnow

BODY_LIMIT = 20_000


def read(activity: Activity, author: str | None) -> ActivityRead:
    return ActivityRead(
        id=activity.id,
        ref=ref("activity", activity.id),
        customer=ref("customer", activity.customer_id),
        kind=ActivityKind(activity.kind),
        subject=activity.subject,
        body=activity.body,
        author=author,
        occurred_at=activity.occurred_at,
        version=activity.version,
    )


def create_in(work: Work, data: ActivityCreate) -> ActivityRead:
    """Add an entry to a customer's timeline inside ``work``; it needs a subject or a body."""
    work.require("customers.write")
    if data.kind == ActivityKind.system:
        raise Invalid("system entries are written by crm itself; use note, call, email or meeting")
    customer = fetch(work, Customer, "customer", data.customer)
    if customer.archived_at is not None:
        raise Invalid(f"{ref('customer', customer.id)} is archived; restore it to add to its timeline")
    subject = clean_text(data.subject, "subject", limit=300)
    body = clean_text(data.body, "body", limit=BODY_LIMIT, multiline=True) or ""
    if not subject and not body:
        raise Invalid(f"a {data.kind} needs some text")
    when = data.occurred_at or utcnow()
    if when.tzinfo is None:
        when = when.astimezone()  # a time typed without a zone is the user's local time
    activity = Activity(
        customer_id=customer.id,
        kind=data.kind,
        subject=subject,
        body=body,
        author_id=work.actor.id,
        occurred_at=when,
    )
    # The customer row is left alone: a note must not turn a colleague's open edit of
    # the record into a conflict.
    work.session.add(activity)
    work.session.flush()
    created = read(activity, work.actor.username)
    work.audit(
        "activity",
        activity.id,
        "create",
        audit.diff({}, created.model_dump(include={"customer", "kind", "subject", "body"})),
    )
    return created


def add_activity(crm: Crm, data: ActivityCreate) -> ActivityRead:
    """Add a note (or call, email, meeting) to a customer's timeline."""
    with crm.work("customers.write") as work:
        return create_in(work, data)


def entries(
    work: Work, customer_id: int, *, limit: int = 50, before: str | int | None = None
) -> list[ActivityRead]:
    """A customer's timeline, newest first; ``before`` continues from an entry."""
    query = (
        select(Activity, col(User.username))
        .outerjoin(User, col(User.id) == col(Activity.author_id))
        .where(col(Activity.customer_id) == customer_id)
    )
    if before is not None:
        anchor = fetch(work, Activity, "activity", before)
        query = query.where(
            tuple_(col(Activity.occurred_at), col(Activity.id)) < tuple_(anchor.occurred_at, anchor.id)
        )
    query = query.order_by(col(Activity.occurred_at).desc(), col(Activity.id).desc()).limit(limit)
    return [read(activity, author) for activity, author in work.session.execute(query)]


def timeline(
    crm: Crm, customer: str | int, *, limit: int = 50, before: str | int | None = None
) -> list[ActivityRead]:
    with crm.work() as work:
        return entries(work, fetch(work, Customer, "customer", customer).id, limit=limit, before=before)
