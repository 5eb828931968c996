"""Owners and assignees, named in a file as other tools name them: by username, name or email."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import col

from crm_tui.logic.core import users
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import CrmError, Forbidden, Invalid, NotFound
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.core.vocabulary import Role
from crm_tui.logic.exchange.runner import Row, Tally
from crm_tui.logic.values.normalise import fold
from crm_tui.storage.models import User


def _users_named(
    work: Work, texts: set[str], role: str, create: bool, tally: Tally
) -> dict[str, str | Invalid]:
    """The username each text names, or why none: a username (any case), a display name,
    an email whose address or local part is a username, or a name whose words joined by
    dots are one ("Jane Doe" is jane.doe). With ``create`` (admins only), a name that
    matches nobody becomes a user with ``role``."""
    everyone = list(work.session.execute(select(col(User.username), col(User.display_name))))
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
                username = _new_user(work, text.strip(), role, tally)
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


def _new_user(work: Work, text: str, role: str, tally: Tally) -> str:
    """A new user for an owner or assignee the team does not have yet."""
    username = text if re.fullmatch(r"[A-Za-z0-9_.@-]+", text) else ".".join(fold(text).split())
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", username):
        raise Invalid(f"no user {text!r}, and no username can be made of it; add them with `crm user add`")
    users.create_in(work, UserCreate(username=username, display_name=text[:200], role=Role(role)))
    if username not in tally.new_users:
        tally.new_users.append(username)
    return username


def people_named(
    work: Work, batch: list[Row], key: str, role: str, create: bool, tally: Tally
) -> dict[str, str | Invalid]:
    """The username each ``key`` cell of the batch names, or why none (see ``_users_named``)."""
    texts = {row.values[key] for row in batch if row.values.get(key)}
    return _users_named(work, texts, role, create, tally) if texts else {}


def username_in(people: dict[str, str | Invalid], text: str | None) -> str | None:
    """The username a cell names, as ``people_named`` found it; its error when it names nobody."""
    if not text:
        return None
    found = people[text]
    if isinstance(found, Invalid):
        raise found
    return found
