"""Owners and assignees, named in a file as other tools name them: by username, name or email.

With --create-users, a name that matches nobody becomes a user once the batch's rows
are checked, if a row naming it goes in: a file whose rows are all refused adds nobody.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col

from crm_tui.logic.core import users
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import CrmError, Forbidden, Invalid, NotFound, quoted
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.core.vocabulary import Role
from crm_tui.logic.exchange.runner import Row, Tally
from crm_tui.logic.values.normalise import fold
from crm_tui.storage.models import User


@dataclass(frozen=True)
class NewUser:
    """A user --create-users adds for a name that matches nobody, once a row naming it goes in."""

    username: str
    display_name: str
    role: str

    def made_in(self, work: Work) -> str:
        """The username, the user added unless an earlier stored row of the batch added it."""
        query = select(col(User.id)).where(col(User.username) == self.username)
        if work.session.execute(query).first() is None:
            users.create_in(
                work, UserCreate(username=self.username, display_name=self.display_name, role=Role(self.role))
            )
        return self.username


class People:
    """The users the cells of a batch name, looked up once for the batch."""

    def __init__(self, work: Work, found: dict[str, str | Invalid | NewUser]) -> None:
        self.work, self.found = work, found

    def planned(self, text: str | None) -> str | None:
        """The username a cell names, one --create-users is to add included (``ids``
        adds it); the error when it names nobody."""
        if not text:
            return None
        found = self.found[text]
        if isinstance(found, Invalid):
            raise found
        return found.username if isinstance(found, NewUser) else found

    def ids(self, usernames: Iterable[str], check: Callable[[Work, str], User]) -> dict[str, int | CrmError]:
        """The ids of ``usernames`` (those a batch's checked rows name), once the users
        --create-users is to add among them are added; ``check`` finds each user and
        refuses one who may not be given the work (an inactive owner)."""
        new = {found.username: found for found in self.found.values() if isinstance(found, NewUser)}
        ids: dict[str, int | CrmError] = {}
        for username in sorted(set(usernames)):
            if username in new:
                new[username].made_in(self.work)
            try:
                ids[username] = check(self.work, username).id
            except Forbidden:
                raise  # stops the run: no row would fare better
            except CrmError as exc:
                ids[username] = exc
        return ids

    def count_new(self, tally: Tally) -> None:
        """Count the users the batch's stored rows added; a refused row's went with it."""
        wanted = {found.username for found in self.found.values() if isinstance(found, NewUser)}
        if not wanted:
            return
        query = select(col(User.username)).where(col(User.username).in_(wanted))
        for username in sorted(self.work.session.execute(query).scalars()):
            if username not in tally.new_users:
                tally.new_users.append(username)


def _users_named(work: Work, texts: set[str], role: str, create: bool) -> dict[str, str | Invalid | NewUser]:
    """The username each text names, or why none: a username (any case), a display name,
    an email whose address or local part is a username, or a name whose words joined by
    dots are one ("Jane Doe" is jane.doe). With ``create`` (admins only), a name that
    matches nobody is a NewUser with ``role``, the same one for every text naming it."""
    everyone = list(work.session.execute(select(col(User.username), col(User.display_name))))
    by_login = {username.lower(): username for username, _ in everyone}
    by_name: dict[str, list[str]] = {}
    for username, display in everyone:
        by_name.setdefault(fold(display), []).append(username)
    found: dict[str, str | Invalid | NewUser] = {}
    planned: dict[str, NewUser] = {}
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
                new = _new_user(text.strip(), role)
            except Invalid as exc:
                found[text] = exc
            else:
                work.require("users.manage")  # Forbidden stops the run: no row would fare better
                found[text] = planned.setdefault(new.username.lower(), new)
    return found


def _user_named(text: str, by_login: dict[str, str], by_name: dict[str, list[str]]) -> str:
    if text.lower() in by_login:
        return by_login[text.lower()]
    named = by_name.get(fold(text), [])
    if len(named) > 1:
        raise Invalid(
            f"{quoted(text)} is the name of {len(named)} users ({', '.join(sorted(named))}); "
            "give the username"
        )
    if named:
        return named[0]
    if "@" in text and text.partition("@")[0].lower() in by_login:
        return by_login[text.partition("@")[0].lower()]
    dotted = ".".join(fold(text).split())
    if dotted in by_login:
        return by_login[dotted]
    raise NotFound(f"no user {quoted(text)} (by username, name or email)")


def _new_user(text: str, role: str) -> NewUser:
    """A new user for an owner or assignee the team does not have yet."""
    username = text if re.fullmatch(r"[A-Za-z0-9_.@-]+", text) else ".".join(fold(text).split())
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", username):
        raise Invalid(
            f"no user {quoted(text)}, and no username can be made of it; add them with `crm user add`"
        )
    return NewUser(username, text[:200], role)


def people_named(work: Work, batch: list[Row], key: str, role: str, create: bool) -> People:
    """The users the ``key`` cells of the batch name, or why none (see ``_users_named``)."""
    texts = {row.values[key] for row in batch if row.values.get(key)}
    return People(work, _users_named(work, texts, role, create) if texts else {})
