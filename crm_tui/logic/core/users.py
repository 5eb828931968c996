"""Team members and their roles."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Duplicate, Invalid, NotFound, quoted
from crm_tui.logic.core.records import check_version
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.schemas import UserCreate, UserRead, UserUpdate
from crm_tui.logic.core.vocabulary import Role
from crm_tui.storage.models import User


def read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        ref=ref("user", user.id),
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        active=user.active,
        created_at=user.created_at,
        version=user.version,
    )


def find(work: Work, username: str) -> User:
    """The user called ``username`` (``me`` is the actor); NotFound if there is none."""
    name = username.strip()
    if name.lower() == "me":
        return work.actor
    user = work.users_by_name.get(name)
    if user is None:
        user = work.session.execute(select(User).where(col(User.username) == name)).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user {quoted(name)}")
        work.users_by_name[name] = user
    return user


def find_active(work: Work, username: str, what: str) -> User:
    """A user who may be given work (an owner, an assignee); inactive ones are refused."""
    user = find(work, username)
    if not user.active:
        raise Invalid(f"{user.username} is deactivated and cannot be the {what}")
    return user


def create_in(work: Work, data: UserCreate) -> UserRead:
    """Add a team member inside ``work``; usernames are unique."""
    work.require("users.manage")
    exists = work.session.execute(select(col(User.id)).where(col(User.username) == data.username)).first()
    if exists:
        raise Duplicate(f"there is already a user {quoted(data.username)}")
    user = User(username=data.username, display_name=data.display_name or data.username, role=data.role)
    work.session.add(user)
    work.session.flush()
    created = read(user)
    work.audit(
        "user",
        user.id,
        "create",
        audit.diff({}, created.model_dump(include={"username", "display_name", "role"})),
    )
    return created


def add_user(crm: Crm, data: UserCreate) -> UserRead:
    """Add a team member (admins only)."""
    with crm.work("users.manage") as work:
        return create_in(work, data)


def list_users(crm: Crm, *, include_inactive: bool = True) -> list[UserRead]:
    with crm.work() as work:
        query = select(User).order_by(col(User.username))
        if not include_inactive:
            query = query.where(col(User.active))
        return [read(user) for user in work.session.execute(query).scalars()]


def get_user(crm: Crm, username: str) -> UserRead:
    with crm.work() as work:
        return read(find(work, username))


def _active_admins(work: Work) -> int:
    return work.session.execute(
        select(func.count()).select_from(User).where(col(User.role) == Role.admin, col(User.active))
    ).scalar_one()


def update_user(
    crm: Crm, username: str, data: UserUpdate, *, expected_version: int | None = None
) -> UserRead:
    """Change a user's display name or role; the last active admin keeps the role."""
    with crm.work("users.manage") as work:
        user = find(work, username)
        check_version(work, "user", user, expected_version)
        before = read(user).model_dump()
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if (
            changes.get("role") not in (None, Role.admin) and user.role == Role.admin and user.active
        ) and _active_admins(work) <= 1:
            raise Invalid(f"{user.username} is the last active admin and must stay admin")
        for field, value in changes.items():
            setattr(user, field, value)
        work.session.flush()
        after = read(user)
        work.audit("user", user.id, "update", audit.diff(before, after.model_dump(include=set(changes))))
        return after


def set_active(crm: Crm, username: str, active: bool) -> UserRead:
    """Deactivate or reactivate a user; the last active admin cannot be deactivated."""
    with crm.work("users.manage") as work:
        user = find(work, username)
        work.subject = ref("user", user.id)
        if user.active == active:
            return read(user)
        if not active and user.role == Role.admin and _active_admins(work) <= 1:
            raise Invalid(f"{user.username} is the last active admin and cannot be deactivated")
        user.active = active
        work.session.flush()
        work.audit(
            "user",
            user.id,
            "activate" if active else "deactivate",
            {"active": [not active, active]},
        )
        return read(user)
