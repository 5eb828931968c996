"""Follow-up tasks: who must do what, about which customer, by when."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import col

from crm_tui.logic.core import audit, users
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.records import check_version, fetch
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.vocabulary import TaskScope
from crm_tui.logic.customers.schemas import TaskCreate, TaskRead
from crm_tui.logic.values.dates import local_today
from crm_tui.logic.values.normalise import clean_text, refuse_control_characters
from crm_tui.storage.models import Customer, Task, User
from crm_tui.storage.types import utcnow


def read(task: Task, customer_name: str | None, assignee: str | None, today: date) -> TaskRead:
    return TaskRead(
        id=task.id,
        ref=ref("task", task.id),
        title=task.title,
        notes=task.notes,
        customer=ref("customer", task.customer_id) if task.customer_id else None,
        customer_name=customer_name,
        assignee=assignee,
        due=task.due_on,
        done=task.done_at is not None,
        done_at=task.done_at,
        overdue=task.done_at is None and task.due_on is not None and task.due_on < today,
        created_at=task.created_at,
        version=task.version,
    )


def _read_one(work: Work, task: Task) -> TaskRead:
    customer = work.session.get(Customer, task.customer_id) if task.customer_id else None
    assignee = work.session.get(User, task.assignee_id) if task.assignee_id else None
    return read(
        task,
        customer.name if customer else None,
        assignee.username if assignee else None,
        local_today(),
    )


def create_in(work: Work, data: TaskCreate) -> TaskRead:
    """Create a task inside ``work``; it is the actor's own unless assigned to someone."""
    work.require("tasks.write")
    title = clean_text(data.title, "title", required=True, limit=300)
    customer_id = None
    if data.customer is not None and str(data.customer).strip():
        customer = fetch(work, Customer, "customer", data.customer)
        if customer.archived_at is not None:
            raise Invalid(f"{ref('customer', customer.id)} is archived; restore it to plan work on it")
        customer_id = customer.id
    assignee = users.find_active(work, data.assignee, "assignee") if data.assignee else work.actor
    task = Task(
        title=title,
        notes=refuse_control_characters((data.notes or "").strip(), "notes", multiline=True),
        customer_id=customer_id,
        assignee_id=assignee.id,
        due_on=data.due,
        created_by_id=work.actor.id,
    )
    work.session.add(task)
    work.session.flush()
    created = _read_one(work, task)
    fields = created.model_dump(include={"title", "customer", "assignee", "due", "notes"})
    work.audit("task", task.id, "create", audit.diff({}, {k: v for k, v in fields.items() if v}))
    return created


def add_task(crm: Crm, data: TaskCreate) -> TaskRead:
    """Plan a follow-up."""
    with crm.work("tasks.write") as work:
        return create_in(work, data)


def list_tasks(
    crm: Crm,
    *,
    assignee: str | None = "me",
    scope: TaskScope = TaskScope.open,
    customer: str | int | None = None,
    limit: int = 50,
    today: date | None = None,
) -> list[TaskRead]:
    """Tasks by due date (undated last); ``assignee`` None means everyone's.

    Scopes: open, today (due today), overdue (due before today), week (due within
    seven days, overdue included), done (newest first), all.
    """
    today = today or local_today()
    with crm.work() as work:
        query = (
            select(Task, col(Customer.name), col(User.username))
            .outerjoin(Customer, col(Customer.id) == col(Task.customer_id))
            .outerjoin(User, col(User.id) == col(Task.assignee_id))
        )
        if assignee:
            query = query.where(col(Task.assignee_id) == users.find(work, assignee).id)
        if customer is not None:
            query = query.where(col(Task.customer_id) == fetch(work, Customer, "customer", customer).id)
        scope = TaskScope(scope)
        if scope == TaskScope.done:
            query = query.where(col(Task.done_at).is_not(None)).order_by(
                col(Task.done_at).desc(), col(Task.id).desc()
            )
        else:
            if scope != TaskScope.all:
                query = query.where(col(Task.done_at).is_(None))
            if scope == TaskScope.today:
                query = query.where(col(Task.due_on) == today)
            elif scope == TaskScope.overdue:
                query = query.where(col(Task.due_on) < today)
            elif scope == TaskScope.week:
                query = query.where(col(Task.due_on) <= today + timedelta(days=7))
            query = query.order_by(col(Task.due_on).is_(None), col(Task.due_on), col(Task.id))
        rows = work.session.execute(query.limit(limit)).all()
        return [read(task, name, username, today) for task, name, username in rows]


def get_task(crm: Crm, reference: str | int) -> TaskRead:
    with crm.work() as work:
        return _read_one(work, fetch(work, Task, "task", reference))


def set_done(
    crm: Crm, reference: str | int, done: bool = True, *, expected_version: int | None = None
) -> TaskRead:
    """Mark a task done (or open again); doing it twice is an error, not a no-op."""
    with crm.work("tasks.write") as work:
        task = fetch(work, Task, "task", reference, for_update=True)
        check_version(work, "task", task, expected_version)
        if (task.done_at is not None) == done:
            raise Invalid(f"{ref('task', task.id)} is already {'done' if done else 'open'}")
        before = task.done_at
        task.done_at = utcnow() if done else None
        work.session.flush()
        work.audit(
            "task",
            task.id,
            "done" if done else "reopen",
            {"done_at": [audit.plain(before), audit.plain(task.done_at)]},
        )
        return _read_one(work, task)
