"""Tags on customers: one shared list of tag names, linked to the customers that carry them.

Names are compared cleaned (``clean_tag``: lower case, trimmed), so "VIP" and "vip" are
one tag; a tag is created the first time a customer is given it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlmodel import col

from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.refs import ref
from crm_tui.logic.values.normalise import clean_tag
from crm_tui.storage.models import CustomerTag, Tag


def tag_ids(work: Work, names: Iterable[str]) -> dict[str, int]:
    """Ids of the named tags, creating the ones that do not exist yet."""
    wanted = {clean_tag(name) for name in names}
    if not wanted:
        return {}
    found = dict(
        work.session.execute(select(col(Tag.name), col(Tag.id)).where(col(Tag.name).in_(wanted))).all()
    )
    for name in sorted(wanted - found.keys()):
        tag = Tag(name=name)
        work.session.add(tag)
        work.session.flush()
        found[name] = tag.id
    return found


def tag_names(work: Work, customer_id: int) -> list[str]:
    """The tags the customer carries."""
    return list(
        work.session.execute(
            select(col(Tag.name))
            .join(CustomerTag, col(CustomerTag.tag_id) == col(Tag.id))
            .where(col(CustomerTag.customer_id) == customer_id)
        ).scalars()
    )


def add_tags(work: Work, customer_id: int, names: Iterable[str], *, new: bool = False) -> set[str]:
    """Link the tags to the customer; returns the tags that were newly linked.

    ``new`` says the customer was just created and so has no links to check.
    """
    ids = tag_ids(work, names)
    if not ids:
        return set()
    linked = (
        set()
        if new
        else set(
            work.session.execute(
                select(col(CustomerTag.tag_id)).where(
                    col(CustomerTag.customer_id) == customer_id, col(CustomerTag.tag_id).in_(ids.values())
                )
            ).scalars()
        )
    )
    added = {name for name, tag_id in ids.items() if tag_id not in linked}
    for name in added:
        work.session.add(CustomerTag(customer_id=customer_id, tag_id=ids[name]))
    work.session.flush()
    return added


def remove_tags(work: Work, customer_id: int, names: Iterable[str]) -> list[str]:
    """Unlink the tags from the customer; returns them. Naming a tag the customer does not
    carry is an error, and nothing is removed."""
    wanted = {clean_tag(name) for name in names}
    rows = dict(
        work.session.execute(
            select(col(Tag.name), col(Tag.id))
            .join(CustomerTag, col(CustomerTag.tag_id) == col(Tag.id))
            .where(col(CustomerTag.customer_id) == customer_id, col(Tag.name).in_(wanted))
        ).all()
    )
    missing = wanted - rows.keys()
    if missing:
        raise Invalid(f"{ref('customer', customer_id)} has no tag {', '.join(sorted(missing))}")
    work.session.execute(
        delete(CustomerTag).where(
            col(CustomerTag.customer_id) == customer_id, col(CustomerTag.tag_id).in_(rows.values())
        )
    )
    return sorted(wanted)
