"""Tasks: the follow-ups of the team by due day, and the form that plans one.

Marking a task done or open again acts at once (ctrl+z undoes it), and the list keeps
its cursor on the task or, when the task left the view, on the one that took its place.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from crm_tui.display import shown
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.core.vocabulary import TaskScope
from crm_tui.logic.customers import tasks
from crm_tui.logic.customers.schemas import TaskCreate, TaskRead
from crm_tui.logic.values.dates import local_today, parse_relative_day
from crm_tui.screens.base import CrmScreen
from crm_tui.screens.record_table import RecordTable
from crm_tui.screens.widgets.choices import active_users, all_customers
from crm_tui.screens.widgets.forms import Field, FormDialog
from crm_tui.screens.widgets.keys_footer import KeysFooter

if TYPE_CHECKING:
    from datetime import date

    from crm_tui.logic.core.context import Crm

DAY_HINT = "today, tomorrow, +3d, friday or 2026-12-24"
SHOWN = 200  # tasks a view lists; a team with more narrows the view


def due_day(text: str, field: str = "due") -> date | None:
    """The day typed in a form's date field (None for an empty one); a day that cannot be
    read is refused beside that field."""
    if not text.strip():
        return None
    try:
        return parse_relative_day(text)
    except Invalid as error:
        raise Invalid(str(error), field=field) from None


class TaskForm(FormDialog):
    """A task's form: a few lines of room for its notes."""

    DEFAULT_CSS = """
    TaskForm TextArea {
        height: 4;
    }
    """


def task_form(customer: str | None = None, name: str = "") -> FormDialog:
    """The form of a new task: about ``customer`` (called ``name`` in the title) when
    given, else about the customer picked (or none). Dismissed with the new ``TaskRead``,
    or None when cancelled."""
    fields = [
        Field("title", "What is to be done", required=True),
        *([] if customer else [Field("customer", "About customer", kind="pick", source=all_customers)]),
        Field("due", "Due", hint=DAY_HINT),
        Field("assignee", "Assignee (empty: you)", kind="pick", source=active_users()),
        Field("notes", "Notes", kind="lines"),
    ]

    def save(crm: Crm, values: dict[str, str]) -> TaskRead:
        data = validated(
            TaskCreate,
            {
                "title": values["title"],
                "customer": customer or values.get("customer") or None,
                "due": due_day(values["due"]),
                "assignee": values["assignee"] or None,
                "notes": values["notes"],
            },
        )
        return tasks.add_task(crm, data)

    return TaskForm(f"New task about {name or customer}" if customer else "New task", fields, save)


def due_text(task: TaskRead) -> Text:
    """A task's due day, a late one marked in words as well as in colour."""
    if task.overdue:
        return Text(f"{shown(task.due)} late", style="bold red")
    return Text(shown(task.due) or "-")


def set_done(screen: CrmScreen, task: str, done: bool, then) -> None:
    """Mark ``task`` done (or open again) at once; the notice offers the undo."""
    verb = "Done" if done else "Reopened"

    def finished(found: TaskRead) -> None:
        screen.notify(f"{verb} {found.ref} · ctrl+z undo")
        then(found)

    screen.call(tasks.set_done, task, done, then=finished)


# Each view: its key, its name, what it lists, and what an empty one says.
VIEWS = {
    "1": ("due today", {"scope": TaskScope.today, "assignee": None}, "No tasks due today."),
    "2": ("overdue", {"scope": TaskScope.overdue, "assignee": None}, "No overdue tasks."),
    "3": ("this week", {"scope": TaskScope.week, "assignee": None}, "No tasks due this week."),
    "4": ("mine", {"scope": TaskScope.open, "assignee": "me"}, "No open tasks of yours."),
    "5": ("finished", {"scope": TaskScope.done, "assignee": None}, "No finished tasks."),
}


FINISHED = "5"  # the view of tasks done


def view_showing(task: TaskRead, me: str) -> str | None:
    """The first view (its key) that lists a new open ``task``, as the views' scopes say:
    due today, overdue, within the week, or else mine; None for another's task due later
    or on no day."""
    today = local_today()
    if task.due is not None and task.due <= today + timedelta(days=7):
        return "1" if task.due == today else "2" if task.due < today else "3"
    return "4" if task.assignee == me else None


class TasksScreen(CrmScreen):
    """The team's tasks by due day: today, overdue, this week, mine, and done ones."""

    # The actions first: at 80 columns the footer has room for little more.
    BINDINGS = [
        Binding("n", "new", "New", id="tasks.new", tooltip="Plan a task"),
        Binding("x", "done", "Done", id="tasks.done", tooltip="Mark the task done (ctrl+z undoes)"),
        Binding(
            "o", "reopen", "Reopen", id="tasks.reopen", tooltip="Open a finished task again (ctrl+z undoes)"
        ),
        Binding("1", "view('1')", "Today", id="tasks.today", tooltip="Open tasks due today"),
        Binding("2", "view('2')", "Overdue", id="tasks.overdue", tooltip="Open tasks due before today"),
        Binding(
            "3",
            "view('3')",
            "Week",
            id="tasks.week",
            tooltip="Open tasks due within seven days, late ones too",
        ),
        Binding("4", "view('4')", "Mine", id="tasks.mine", tooltip="Your open tasks"),
        Binding("5", "view('5')", "Finished", id="tasks.finished", tooltip="Tasks done, newest first"),
        Binding("r", "refresh", "Refresh", id="tasks.refresh", show=False),
    ]
    DEFAULT_CSS = """
    TasksScreen #task-list {
        height: 1fr;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.view = "1"
        self.shown: dict[str, TaskRead] = {}
        self.wanted: str | None = None  # a task the cursor goes to once it is shown
        self.acted: str | None = None  # the task marked done or open last

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="tasks-status", classes="hint")
        yield RecordTable("Ref", "Due", "Task", "Customer", "Assignee", id="task-list")
        yield KeysFooter()

    def on_screen_resume(self) -> None:
        # Sent on first display too, so this is also the first load.
        self.action_refresh()

    def records_changed(self) -> None:
        # After an undo the task acted on last may be back in the view: the cursor goes to it.
        self.wanted, self.acted = self.acted, None
        self.action_refresh()

    @property
    def table(self) -> RecordTable:
        return self.query_one("#task-list", RecordTable)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Done in the views of open tasks, reopen in the view of finished ones.
        if action == "done":
            return self.view != FINISHED
        if action == "reopen":
            return self.view == FINISHED
        return True

    def action_view(self, view: str) -> None:
        self.view = view
        self.refresh_bindings()
        self.action_refresh()

    def action_refresh(self) -> None:
        name, filters, empty = VIEWS[self.view]
        self.call(
            tasks.list_tasks,
            limit=SHOWN,
            then=lambda found: self.show(name, empty, found),
            key="tasks",
            **filters,
        )

    def show(self, name: str, empty: str, found: list[TaskRead]) -> None:
        self.shown = {task.ref: task for task in found}
        self.table.show(
            [
                (
                    t.ref,
                    (
                        t.ref,
                        due_text(t) if not t.done else Text(f"done {shown(t.done_at)}"),
                        t.title,
                        t.customer_name or "",
                        t.assignee or "",
                    ),
                )
                for t in found
            ]
        )
        if self.wanted in self.shown:
            self.table.go_to(self.wanted)
            self.wanted = None
        self.sub_title = f"Tasks {name}"
        more = " (more: narrow the view)" if len(found) >= SHOWN else ""
        told = f"{empty} " if not found else f"Tasks {name}: {len(found)} shown{more}. "
        self.query_one("#tasks-status", Static).update(f"{told}Keys 1-5 change the view; n plans a task.")

    def chosen(self) -> TaskRead | None:
        """The task under the cursor; with none, says so."""
        task = self.shown.get(self.table.current or "")
        if task is None:
            self.notify("No task here: change the view (1-5) or plan one with n.", severity="warning")
        return task

    def action_new(self) -> None:
        def added(task: TaskRead | None) -> None:
            if task is None:
                return
            view = view_showing(task, self.crm.username)
            if view is None:
                due = f"due {shown(task.due)}" if task.due else "with no due day"
                self.notify(
                    f"Added {task.ref}: {task.title}, {due} for {task.assignee}: in none of these views yet"
                )
            else:
                self.view = view
                self.notify(f"Added {task.ref}: {task.title} · in {VIEWS[view][0]} ({view})")
            self.wanted = task.ref
            self.action_refresh()

        self.app.push_screen(task_form(), added)

    def action_done(self) -> None:
        task = self.chosen()
        if task is not None:
            self.acted = task.ref
            set_done(self, task.ref, True, lambda _: self.action_refresh())

    def action_reopen(self) -> None:
        task = self.chosen()
        if task is not None:
            self.acted = task.ref
            set_done(self, task.ref, False, lambda _: self.action_refresh())

    @on(DataTable.RowSelected, "#task-list")
    def open_customer(self, event: DataTable.RowSelected) -> None:
        task = self.shown.get(str(event.row_key.value))
        if task is None:
            return
        if task.customer:
            self.app.open_record(task.customer)
        else:
            self.notify(f"{task.ref} is about no customer.", severity="warning")
