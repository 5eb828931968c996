"""The tables. Every editable record carries a ``version`` that the ORM checks on update.

Columns ending in ``_key`` hold normalised copies (case-folded, accents stripped) used
for matching duplicates and for sorting; logic fills them, storage only indexes them.

An ``id`` is typed ``int``, not ``int | None``: the database numbers a new row when the
session flushes it, and logic reads the id of saved rows only (it flushes a new row
before naming it in a reference or the audit trail). Until then the id is None.

In SQL expressions a column is written ``col(Deal.stage_id)`` (sqlmodel's ``col``):
the class attribute is typed as the value it holds, ``int``, not as a column.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, Table, inspect, text
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from crm_tui.storage.types import UTCDateTime, utcnow


def _ref(target: str, *, nullable: bool = True, index: bool = True, cascade: bool = False) -> Any:
    """A foreign key column; ``cascade`` deletes the row with its parent."""
    return Field(
        default=None,
        sa_column_args=[ForeignKey(target, ondelete="CASCADE" if cascade else None)],
        sa_type=Integer,
        nullable=nullable,
        index=index,
    )


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for bulk statements that skip the ORM.

    SQLModel's types do not declare the ``__table__`` SQLAlchemy gives a mapped class;
    its mapper names the same table.
    """
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


class Versioned(SQLModel):
    """A record users edit: the ORM refuses an update whose version is no longer current."""

    version: int = Field(default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # Runs while the class is being mapped, so no mapper to ask yet; SQLAlchemy has
        # just set __table__, which SQLModel's types do not declare.
        return {"version_id_col": cls.__table__.c.version}  # pyright: ignore[reportAttributeAccessIssue]


class User(Versioned, table=True):
    __tablename__: ClassVar[str] = "users"

    id: int = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=16)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Customer(Versioned, table=True):
    __tablename__: ClassVar[str] = "customers"
    __table_args__ = (
        Index("ix_customers_active_name", "archived_at", "name_key", "id"),
        Index("ix_customers_lifecycle_name", "lifecycle", "name_key", "id"),
        Index("ix_customers_owner_name", "owner_id", "name_key", "id"),
        # Lists show active customers, so the archive mark leads every sort index.
        Index("ix_customers_active_created", "archived_at", "created_at", "id"),
        Index("ix_customers_active_updated", "archived_at", "updated_at", "id"),
    )

    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    kind: str = Field(default="company", max_length=16)
    company: str | None = Field(default=None, max_length=200)
    company_key: str | None = Field(default=None, max_length=200)
    lifecycle: str = Field(default="lead", max_length=16)
    segment: str | None = Field(default=None, max_length=64, index=True)
    owner_id: int | None = _ref("users.id", index=False)
    email: str | None = Field(default=None, max_length=320, index=True)
    phone: str | None = Field(default=None, max_length=64, index=True)
    website: str | None = Field(default=None, max_length=300)
    street: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=120)
    postcode: str | None = Field(default=None, max_length=32)
    country: str | None = Field(default=None, max_length=2)
    industry: str | None = Field(default=None, max_length=120)
    source: str | None = Field(default=None, max_length=120)
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    merged_into_id: int | None = _ref("customers.id", index=False)


class Tag(SQLModel, table=True):
    __tablename__: ClassVar[str] = "tags"

    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)


class CustomerTag(SQLModel, table=True):
    __tablename__: ClassVar[str] = "customer_tags"
    __table_args__ = (Index("ix_customer_tags_tag", "tag_id", "customer_id"),)

    customer_id: int = Field(
        sa_column_args=[ForeignKey("customers.id", ondelete="CASCADE")],
        sa_type=Integer,
        primary_key=True,
    )
    tag_id: int = Field(
        sa_column_args=[ForeignKey("tags.id", ondelete="CASCADE")],
        sa_type=Integer,
        primary_key=True,
    )


class Contact(Versioned, table=True):
    __tablename__: ClassVar[str] = "contacts"
    __table_args__ = (
        Index("ix_contacts_customer_name", "customer_id", "name_key"),
        Index("ix_contacts_name", "name_key", "id"),
    )

    id: int = Field(default=None, primary_key=True)
    customer_id: int = _ref("customers.id", nullable=False, index=False, cascade=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    title: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    # No index on phone or mobile: nothing looks contacts up by them (migration 0010).
    phone: str | None = Field(default=None, max_length=64)
    mobile: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Activity(Versioned, table=True):
    """One entry on a customer's timeline: a note, call, email, meeting or system event."""

    __tablename__: ClassVar[str] = "activities"
    __table_args__ = (Index("ix_activities_customer_when", "customer_id", "occurred_at", "id"),)

    id: int = Field(default=None, primary_key=True)
    customer_id: int = _ref("customers.id", nullable=False, index=False, cascade=True)
    kind: str = Field(default="note", max_length=16)
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(default="")
    author_id: int | None = _ref("users.id")
    deal_id: int | None = _ref("deals.id", index=False)
    ticket_id: int | None = _ref("tickets.id", index=False)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _money() -> Any:
    """An amount in minor units (cents); 64-bit, since totals add up."""
    return Field(default=0, sa_type=BigInteger, nullable=False)


class Pipeline(Versioned, table=True):
    """An ordered set of stages deals move through; one is the default."""

    __tablename__: ClassVar[str] = "pipelines"

    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    is_default: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Stage(Versioned, table=True):
    """A step of a pipeline: open, won or lost, with a default win probability.

    A removed stage stays as a row (``removed_at`` set) because the stage history of
    deals that passed through it still names it; names are unique among live stages.
    """

    __tablename__: ClassVar[str] = "stages"
    __table_args__ = (Index("ix_stages_pipeline_position", "pipeline_id", "position"),)

    id: int = Field(default=None, primary_key=True)
    pipeline_id: int = _ref("pipelines.id", nullable=False, index=False, cascade=True)
    name: str = Field(max_length=80)
    position: int
    probability: int = Field(default=0)  # percent, 0 to 100
    kind: str = Field(default="open", max_length=8)  # open, won, lost
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Deal(Versioned, table=True):
    """An opportunity: what a customer may buy, for how much, and how far along it is."""

    __tablename__: ClassVar[str] = "deals"
    __table_args__ = (
        Index("ix_deals_active_stage", "archived_at", "stage_id", "id"),
        Index("ix_deals_active_updated", "archived_at", "updated_at", "id"),
        Index("ix_deals_active_created", "archived_at", "created_at", "id"),
        Index("ix_deals_active_amount", "archived_at", "amount_minor", "id"),
        Index("ix_deals_owner_status", "owner_id", "status", "id"),
        Index("ix_deals_status_closed", "status", "closed_at"),
        Index("ix_deals_status_expected", "status", "expected_close"),
        Index(
            "ix_deals_open_pipeline",
            *("status", "pipeline_id", "stage_id", "currency", "archived_at", "owner_id", "amount_minor"),
            "expected_close",
        ),
        Index("ix_deals_customer", "customer_id", "id"),
        # An import's duplicate check: the same title for the same customer, in any case.
        Index("ix_deals_customer_title", "customer_id", text("lower(title)")),
    )

    id: int = Field(default=None, primary_key=True)
    customer_id: int = _ref("customers.id", nullable=False, index=False)
    contact_id: int | None = _ref("contacts.id", index=False)
    title: str = Field(max_length=200)
    amount_minor: int = _money()
    currency: str = Field(max_length=3)
    pipeline_id: int = _ref("pipelines.id", nullable=False, index=False)
    stage_id: int = _ref("stages.id", nullable=False, index=False)
    status: str = Field(default="open", max_length=8)  # the stage's kind, kept for reports
    owner_id: int | None = _ref("users.id", index=False)
    expected_close: date | None = Field(default=None)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lost_reason: str | None = Field(default=None, max_length=500)
    source: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DealStageChange(SQLModel, table=True):
    """One move of a deal between stages; the history cycle times are measured on.

    ``first_entry`` and ``advanced`` are facts for stage conversion, kept by logic as the
    deal moves (see ``storage/sales_facts.py``): the deal's first entry into
    ``to_stage_id``, and whether it later entered a higher, not-lost stage.
    """

    __tablename__: ClassVar[str] = "deal_stage_changes"
    __table_args__ = (
        Index("ix_stage_changes_deal", "deal_id", "at", "id"),
        # Stage conversion: first entries of a stage in a period, with what it counts.
        Index("ix_stage_changes_first_entry", "first_entry", "to_stage_id", "at", "advanced", "deal_id"),
    )

    id: int = Field(default=None, primary_key=True)
    deal_id: int = _ref("deals.id", nullable=False, index=False, cascade=True)
    from_stage_id: int | None = _ref("stages.id", index=False)
    to_stage_id: int = _ref("stages.id", nullable=False, index=False)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = _ref("users.id", index=False)
    first_entry: bool = Field(default=False)
    advanced: bool = Field(default=False)


class Product(Versioned, table=True):
    __tablename__: ClassVar[str] = "products"

    id: int = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    unit_price_minor: int = _money()
    currency: str = Field(max_length=3)
    tax_rate_bp: int = Field(default=0)  # basis points: 1900 is 19 %
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Order(Versioned, table=True):
    """What a customer ordered; totals are kept in sync with the lines by logic."""

    __tablename__: ClassVar[str] = "orders"
    __table_args__ = (
        Index("ix_orders_status_confirmed", "status", "confirmed_at"),
        Index("ix_orders_status", "status", "id"),
        Index("ix_orders_customer", "customer_id", "id"),
        Index("ix_orders_deal", "deal_id"),
        Index("ix_orders_owner", "owner_id", "id"),
    )

    id: int = Field(default=None, primary_key=True)
    customer_id: int = _ref("customers.id", nullable=False, index=False)
    deal_id: int | None = _ref("deals.id", index=False)
    owner_id: int | None = _ref("users.id", index=False)
    status: str = Field(default="draft", max_length=12)
    currency: str = Field(max_length=3)
    net_minor: int = _money()
    tax_minor: int = _money()
    total_minor: int = _money()
    cancel_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fulfilled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrderLine(SQLModel, table=True):
    """One line of an order: a product or free text, quantity, price, discount, tax."""

    __tablename__: ClassVar[str] = "order_lines"
    __table_args__ = (
        Index("ix_order_lines_order", "order_id", "position"),
        Index("ix_order_lines_product", "product_id"),
    )

    id: int = Field(default=None, primary_key=True)
    order_id: int = _ref("orders.id", nullable=False, index=False, cascade=True)
    position: int
    product_id: int | None = _ref("products.id", index=False)
    description: str = Field(max_length=300)
    quantity_milli: int  # thousandths: 1500 is 1.5
    unit_price_minor: int = _money()
    discount_bp: int = Field(default=0)  # basis points of the price taken off
    tax_rate_bp: int = Field(default=0)
    net_minor: int = _money()
    tax_minor: int = _money()


class SlaPolicy(Versioned, table=True):
    """How fast a ticket of one priority must be answered and resolved."""

    __tablename__: ClassVar[str] = "sla_policies"

    priority: str = Field(max_length=8, primary_key=True)
    first_response_minutes: int
    resolution_minutes: int


class Ticket(Versioned, table=True):
    """A complaint, service request, question or incident, from first message to rating.

    The due times are kept true: while a ticket is pending (waiting on the customer)
    its clock stops, and on resuming the due times move on by the time it waited.

    ``response_seconds``, ``resolution_seconds`` and ``met_sla`` are the service report's
    figures of the ticket, kept by logic as the facts happen (``logic/tickets.py``); the
    report's indexes lead with them so that medians are read at a rank, not sorted.
    """

    __tablename__: ClassVar[str] = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_resolution_due", "status", "resolution_due", "id"),
        Index("ix_tickets_status_response_due", "status", "first_response_due", "id"),
        Index("ix_tickets_assignee_status", "assignee_id", "status", "id"),
        Index("ix_tickets_customer", "customer_id", "id"),
        # An import's duplicate check: the same subject for the same customer, in any case.
        Index("ix_tickets_customer_subject", "customer_id", text("lower(subject)")),
        Index("ix_tickets_created", "created_at", "id"),
        Index("ix_tickets_resolved", "resolved_at"),
        # The service report's: each covers every column its query reads, so the report
        # never reads the wide ticket rows, and each span's order is an index's order.
        Index(
            "ix_tickets_volume",
            "assignee_id", "type", "priority", "channel", "status", "created_at", "archived_at",
            "merged_into_id", "response_seconds",
        ),
        Index(
            "ix_tickets_response_times",
            "response_seconds", "created_at", "assignee_id", "archived_at", "merged_into_id",
        ),
        Index(
            "ix_tickets_resolution_times",
            "resolution_seconds", "resolved_at", "assignee_id", "archived_at", "merged_into_id",
        ),
        Index(
            "ix_tickets_agent_resolution_times",
            "assignee_id", "resolution_seconds", "resolved_at", "archived_at", "merged_into_id",
            "met_sla", "satisfaction",
        ),
    )  # fmt: skip

    id: int = Field(default=None, primary_key=True)
    customer_id: int = _ref("customers.id", nullable=False, index=False)
    contact_id: int | None = _ref("contacts.id", index=False)
    order_id: int | None = _ref("orders.id", index=False)
    subject: str = Field(max_length=300)
    description: str = Field(default="")
    type: str = Field(default="question", max_length=16)
    priority: str = Field(default="normal", max_length=8)
    channel: str = Field(default="email", max_length=12)
    status: str = Field(default="new", max_length=10)
    assignee_id: int | None = _ref("users.id", index=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    first_response_due: datetime = Field(sa_type=UTCDateTime)
    resolution_due: datetime = Field(sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pending_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_seconds: int = Field(default=0)  # working time spent pending, in total
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution: str | None = Field(default=None)
    merged_into_id: int | None = _ref("tickets.id", index=False)
    satisfaction: int | None = Field(default=None)  # 1 to 5
    satisfaction_comment: str | None = Field(default=None, max_length=1000)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    response_seconds: int | None = Field(default=None)  # created to first public reply
    resolution_seconds: int | None = Field(default=None)  # created to resolved, less pending
    met_sla: bool | None = Field(default=None)  # once resolved: both due times met
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TicketMessage(SQLModel, table=True):
    """A public reply to the customer, or an internal note for the team."""

    __tablename__: ClassVar[str] = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_ticket", "ticket_id", "at", "id"),)

    id: int = Field(default=None, primary_key=True)
    ticket_id: int = _ref("tickets.id", nullable=False, index=False, cascade=True)
    internal: bool = Field(default=False)
    body: str
    author_id: int | None = _ref("users.id", index=False)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Task(Versioned, table=True):
    """A follow-up someone must do, optionally about a customer, optionally by a date."""

    __tablename__: ClassVar[str] = "tasks"
    __table_args__ = (
        Index("ix_tasks_assignee_open_due", "assignee_id", "done_at", "due_on", "id"),
        Index("ix_tasks_open_due", "done_at", "due_on", "id"),
    )

    id: int = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    notes: str = Field(default="")
    customer_id: int | None = _ref("customers.id", cascade=True)
    assignee_id: int | None = _ref("users.id", index=False)
    due_on: date | None = Field(default=None)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: int | None = _ref("users.id", index=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Who did what to which record, when, with each changed field's old and new value."""

    __tablename__: ClassVar[str] = "audit_entries"
    __table_args__ = (
        Index("ix_audit_record", "entity", "entity_id", "id"),
        Index("ix_audit_kind", "entity", "id"),
        Index("ix_audit_actor", "actor_id", "id"),
    )

    id: int = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = _ref("users.id", index=False)
    entity: str = Field(max_length=32)
    entity_id: int
    action: str = Field(max_length=32)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


metadata = SQLModel.metadata
