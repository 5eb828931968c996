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
    return Assigner(work, mode).choose()


class Assigner:
    """The agents ``automatic_agent`` chooses for new tickets added one after another
    (an import's batch), looked up once: ``note`` tells it of each ticket added."""

    def __init__(self, work: Work, mode: Assignment) -> None:
        self.mode = mode
        self.agents = _agents(work) if mode != Assignment.none else []
        self.ids = [agent.id for agent in self.agents]
        self.last: int | None = None  # round robin: the agent given the latest ticket
        self.load: dict[int, int] = {}  # least open: waiting tickets by agent
        if not self.agents:
            return
        if mode == Assignment.round_robin:
            self.last = work.session.execute(
                select(col(Ticket.assignee_id))
                .where(col(Ticket.assignee_id).in_(self.ids))
                .order_by(col(Ticket.id).desc())
                .limit(1)
            ).scalar_one_or_none()
        else:
            self.load = dict(
                work.session.execute(
                    select(col(Ticket.assignee_id), func.count())
                    .where(col(Ticket.status).in_(WAITING), col(Ticket.assignee_id).in_(self.ids))
                    .group_by(col(Ticket.assignee_id))
                ).all()
            )  # fmt: skip

    def choose(self) -> User | None:
        """The agent the next new ticket goes to; None when nobody is chosen automatically."""
        if not self.agents:
            return None
        if self.mode == Assignment.round_robin:
            last = self.last
            return (
                self.agents[(self.ids.index(last) + 1) % len(self.agents)]
                if last in self.ids
                else self.agents[0]
            )
        return min(self.agents, key=lambda agent: (self.load.get(agent.id, 0), agent.username))

    def note(self, assignee_id: int | None, status: str) -> None:
        """A ticket was added, given to ``assignee_id`` and left in ``status``."""
        if assignee_id is None or assignee_id not in self.ids:
            return
        self.last = assignee_id
        if status in WAITING:
            self.load[assignee_id] = self.load.get(assignee_id, 0) + 1
