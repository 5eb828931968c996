"""Opening crm: the database, the acting user, and one unit of work per operation.

Every front end starts with ``open_crm`` and does each operation inside ``crm.work()``:
the actor is checked, the permission enforced, and the work committed as a whole with
its audit entries, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, col

from crm_tui.config import Settings, data_dir, load_settings
from crm_tui.logic.core import audit
from crm_tui.logic.core.access import allowed, roles_with
from crm_tui.logic.core.errors import Conflict, DatabaseProblem, Forbidden
from crm_tui.logic.core.vocabulary import Role
from crm_tui.storage import schema
from crm_tui.storage.database import Database, hold_setup_lock
from crm_tui.storage.errors import StaleRecord, StorageError, driver_message, is_access_problem
from crm_tui.storage.folders import private_folder
from crm_tui.storage.models import User


@dataclass
class Work:
    """One operation in progress: its session, its actor, and what it is changing."""

    session: Session
    actor: User
    crm: Crm
    subject: str | None = field(default=None)
    # Users looked up by name in this transaction; a batch asks for the same owner often.
    users_by_name: dict[str, User] = field(default_factory=dict)

    def audit(self, entity: str, entity_id: int, action: str, changes: dict[str, Any] | None = None) -> None:
        """Record a change by the actor in this operation's transaction."""
        audit.record(self.session, self.actor.id, entity, entity_id, action, changes)

    def require(self, permission: str) -> None:
        """Raise Forbidden unless the actor holds ``permission``."""
        if not allowed(self.actor.role, permission):
            raise Forbidden(
                f"{self.actor.username} ({self.actor.role}) may not do this; "
                f"it needs the role {' or '.join(roles_with(permission))}"
            )


class Crm:
    """An open crm database and the user acting on it."""

    def __init__(self, database: Database, settings: Settings, username: str) -> None:
        self.database = database
        self.settings = settings
        self.username = username

    def describe(self) -> str:
        """Where the data lives, for headers and messages."""
        return self.database.describe()

    @contextmanager
    def work(self, permission: str = "read", *, write: bool | None = None) -> Iterator[Work]:
        """A unit of work by the acting user, who must hold ``permission``.

        Anything but ``read`` is a write and takes the write lock up front.
        """
        writing = permission != "read" if write is None else write
        try:
            with self.database.unit_of_work(write=writing) as session:
                current = Work(session=session, actor=self._actor(session), crm=self)
                current.require(permission)
                try:
                    yield current
                except StaleRecord as exc:
                    raise _conflict(current.subject) from exc
        except StaleRecord as exc:
            raise _conflict(None) from exc
        except DBAPIError as exc:
            if not is_access_problem(exc):
                raise  # crm asked something wrong of the database: a bug
            raise DatabaseProblem(f"database error on {self.describe()}: {driver_message(exc)}") from exc

    def _actor(self, session: Session) -> User:
        user = session.execute(select(User).where(col(User.username) == self.username)).scalar_one_or_none()
        if user is None:
            raise Forbidden(
                f"{self.username!r} is not a user of this crm; "
                f"an admin can add them with `crm user add {self.username}`"
            )
        if not user.active:
            raise Forbidden(f"{self.username!r} has been deactivated")
        return user

    def has_users(self) -> bool:
        """Whether the database has a user yet: a new one has none until its first admin."""
        with self.database.unit_of_work(write=False) as session:
            return session.execute(select(col(User.id)).limit(1)).first() is not None

    def ensure_first_user(self) -> bool:
        """On a database with no users, make the acting user its first admin; of several
        processes opening a new database at once, the first to get here."""
        with self.database.unit_of_work(write=True) as session:
            hold_setup_lock(session.connection())
            if session.execute(select(func.count()).select_from(User)).scalar_one():
                return False
            user = User(username=self.username, display_name=self.username, role=Role.admin)
            session.add(user)
            session.flush()
            audit.record(
                session, user.id, "user", user.id, "create",
                {"username": [None, user.username], "role": [None, "admin"]},
            )  # fmt: skip
            return True

    def close(self) -> None:
        self.database.close()


def _conflict(subject: str | None) -> Conflict:
    what = subject or "the record"
    return Conflict(
        f"{what} was changed by someone else meanwhile; nothing was saved. Reload it and try again"
    )


def open_crm(settings: Settings | None = None, *, check_schema: bool = True, create: bool = True) -> Crm:
    """Open (creating if new) the configured database for the configured user.

    A new database gets the current schema and the acting user as its first admin.
    With ``check_schema`` off (for `crm db`), a database of another version is opened
    as it is.
    """
    settings = settings or load_settings()
    url, is_default = settings.database_target()
    if is_default and create:
        private_folder(data_dir())
    try:
        database = Database(url, create=create)
        created = False
        if check_schema:
            created = schema.ensure_usable(database)
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from exc
    except OperationalError as exc:
        raise DatabaseProblem(f"cannot open {url}: {driver_message(exc)}") from exc
    crm = Crm(database, settings, settings.acting_username())
    # Not only when this process created the schema: another may have created it and
    # not yet added its first admin (or been stopped before it did).
    if check_schema and (created or not crm.has_users()):
        crm.ensure_first_user()
    return crm
