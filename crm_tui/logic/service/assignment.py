"""Who a ticket goes to: a service agent named by the user, or one chosen by the
assignment setting (``ticket_assignment``: none, round_robin or least_open)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col

from crm_tui.logic.core import users
from crm_tui.logic.core.context import Work
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.vocabulary import Assignment, Role
from crm_tui.logic.service.sla import WAITING
from crm_tui.storage.models import Ticket, User


def service_agent(work: Work, username: str) -> User:
    """An active user with the service role, who can be given tickets."""
    user = users.find_active(work, username, "assignee")
    if user.role != Role.service:
        raise Invalid(f"{user.username} is {user.role}; tickets go to users with the service role")
    return user


def _agents(work: Work) -> list[User]:
    return list(
        work.session.execute(
            select(User).where(col(User.role) == Role.service, col(User.active)).order_by(col(User.username))
        ).scalars()
    )


def automatic_agent(work: Work, mode: Assignment) -> User | None:
    """round_robin: the agent after the one given the latest ticket; least_open: the
    agent with the fewest waiting tickets (by name on a tie)."""
    if mode == Assignment.none:
        return None
    agents = _agents(work)
    if not agents:
        return None
    if mode == Assignment.round_robin:
        last = work.session.execute(
            select(col(Ticket.assignee_id))
            .where(col(Ticket.assignee_id).in_([agent.id for agent in agents]))
            .order_by(col(Ticket.id).desc())
            .limit(1)
        ).scalar_one_or_none()
        ids = [agent.id for agent in agents]
        return agents[(ids.index(last) + 1) % len(agents)] if last in ids else agents[0]
    load = dict(
        work.session.execute(
            select(col(Ticket.assignee_id), func.count())
            .where(
                col(Ticket.status).in_(WAITING), col(Ticket.assignee_id).in_([agent.id for agent in agents])
            )
            .group_by(col(Ticket.assignee_id))
        ).all()
    )
    return min(agents, key=lambda agent: (load.get(agent.id, 0), agent.username))
