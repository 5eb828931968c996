"""The tables. Every editable record carries a ``version`` that the ORM checks on update.

Columns ending in ``_key`` hold normalised copies (case-folded, accents stripped) used
for matching duplicates and for sorting; logic fills them, storage only indexes them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer
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


class Versioned(SQLModel):
    """A record users edit: the ORM refuses an update whose version is no longer current."""

    version: int = Field(default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


class User(Versioned, table=True):
    __tablename__: ClassVar[str] = "users"

    id: int | None = Field(default=None, primary_key=True)
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

    id: int | None = Field(default=None, primary_key=True)
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

    id: int | None = Field(default=None, primary_key=True)
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
    __table_args__ = (Index("ix_contacts_customer_name", "customer_id", "name_key"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = _ref("customers.id", nullable=False, index=False, cascade=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    title: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    phone: str | None = Field(default=None, max_length=64, index=True)
    mobile: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Activity(Versioned, table=True):
    """One entry on a customer's timeline: a note, call, email, meeting or system event."""

    __tablename__: ClassVar[str] = "activities"
    __table_args__ = (Index("ix_activities_customer_when", "customer_id", "occurred_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = _ref("customers.id", nullable=False, index=False, cascade=True)
    kind: str = Field(default="note", max_length=16)
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(default="")
    author_id: int | None = _ref("users.id")
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Task(Versioned, table=True):
    """A follow-up someone must do, optionally about a customer, optionally by a date."""

    __tablename__: ClassVar[str] = "tasks"
    __table_args__ = (
        Index("ix_tasks_assignee_open_due", "assignee_id", "done_at", "due_on", "id"),
        Index("ix_tasks_open_due", "done_at", "due_on", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
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
        Index("ix_audit_actor", "actor_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = _ref("users.id", index=False)
    entity: str = Field(max_length=32)
    entity_id: int
    action: str = Field(max_length=32)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


metadata = SQLModel.metadata
