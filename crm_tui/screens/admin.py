"""Team & settings: the users, the pipelines and their stages, the SLA targets and the
backups, for the admins and managers who keep them.

Everyone may open the screen and read it; each change is the logic's to allow, and a
refusal is said in one line. A form for a change the user may not make is not opened
at all: the logic is asked first, so nobody fills one in only to be refused. Putting a
backup back stays a command-line step, since the desk holds the database open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Header, Static, TabbedContent, TabPane

from crm_tui.display import shown
from crm_tui.logic.admin import backups, verification
from crm_tui.logic.core import users
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.schemas import UserCreate, UserRead, UserUpdate, describe_validation
from crm_tui.logic.core.vocabulary import Priority, Role, StageKind
from crm_tui.logic.sales import pipelines
from crm_tui.logic.sales.schemas import PipelineRead, StageRead
from crm_tui.logic.service import sla
from crm_tui.logic.service.schemas import SlaPolicyRead
from crm_tui.logic.values.dates import duration_text, parse_duration
from crm_tui.screens.widgets.choices import all_pipelines
from crm_tui.screens.widgets.dialogs import Confirm
from crm_tui.screens.widgets.forms import Choice, Field, FormDialog, Picker, Source
from crm_tui.screens.widgets.keys_footer import KeysFooter
from crm_tui.screens.widgets.row_table import Column, RowTable
from crm_tui.screens.widgets.tabs import TabbedScreen

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm

ROLES = tuple(role.value for role in Role)
KINDS = tuple(kind.value for kind in StageKind)
URGENT_FIRST = tuple(reversed(Priority))
SPAN_HINT = "like 30m, 4h, 1h30m, 2d or 1w"
RESTORE_NOTE = (
    "Restoring is a command-line step: the desk holds the database open. "
    "Quit the desk, then run `crm restore FILE`."
)

USER_COLUMNS = (Column("User", 12), Column("Name", 20, grow=1), Column("Role", 8), Column("Active", 6))
STAGE_COLUMNS = (
    Column("Pipeline", 16, grow=1),
    Column("#", 2),
    Column("Stage", 14, grow=1),
    Column("Kind", 4),
    Column("Probability", 11),
    Column("Deals", 5),
)
SLA_COLUMNS = (Column("Priority", 8), Column("First response", 16, grow=1), Column("Resolution", 16, grow=1))
BACKUP_COLUMNS = (  # at 80 columns the whole file name shows; schema and encryption go first
    Column("Taken", 16),
    Column("Kind", 6),
    Column("Size", 7),
    Column("Checked", 14),
    Column("File", 32, grow=1),
    Column("Schema", 6),
    Column("Encrypted", 9),
)

# The tab each action works on: its keys work there, and the palette opens it first.
TAB_OF = {
    "add_user": "users",
    "edit_user": "users",
    "deactivate": "users",
    "activate": "users",
    "add_pipeline": "pipelines",
    "make_default": "pipelines",
    "add_stage": "pipelines",
    "change_stage": "pipelines",
    "remove_stage": "pipelines",
    "set_sla": "sla",
    "back_up": "backups",
    "verify": "backups",
    "verify_all": "backups",
    "clean": "backups",
}


# Logic calls as the screen makes them (each runs in a worker with the open crm)


def require(crm: Crm, permission: str) -> None:
    """Forbidden, in the logic's words, unless the acting user holds ``permission``."""
    with crm.work(permission, write=False):
        pass


def checked(model: type[BaseModel], data: Mapping[str, Any]) -> Any:
    """``data`` checked against ``model``; Invalid naming the first field at fault, so
    the form shows the problem beside it."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        place = exc.errors()[0]["loc"]
        raise Invalid(describe_validation(exc), field=str(place[0]) if place else None) from None


def whole_number(text: str, field: str, label: str, *, low: int, high: int | None = None) -> int | None:
    """A whole number typed in a form (None when left empty), within ``low``..``high``."""
    if not text.strip():
        return None
    try:
        number = int(text.strip())
    except ValueError:
        raise Invalid(f"{label} is a whole number, not {text.strip()!r}", field=field) from None
    if number < low or (high is not None and number > high):
        upper = f" to {high}" if high is not None else " or more"
        raise Invalid(f"{label} is {low}{upper}, not {number}", field=field)
    return number


def span(text: str, field: str) -> Any:
    """A target span typed in a form (None when left empty: it keeps its value)."""
    if not text.strip():
        return None
    try:
        return parse_duration(text)
    except Invalid as exc:
        raise Invalid(str(exc), field=field) from None


def span_text(minutes: int) -> str:
    """A span as the form shows it, in the words it reads back (``1d2h``)."""
    return duration_text(minutes * 60).replace(" ", "")


def backup_list(crm: Crm, folder: Path | None) -> list[backups.BackupInfo]:
    return backups.list_backups(folder)


def take_backup(crm: Crm, folder: Path | None) -> backups.BackupInfo:
    return backups.create_backup(crm, folder=folder)


def verify_one(crm: Crm, file: str) -> verification.VerifyReport:
    return verification.verify_backup(file, settings=crm.settings)


def verify_every(crm: Crm, folder: Path | None) -> list[verification.VerifyReport]:
    return verification.verify_all(folder, settings=crm.settings)


def clean_leftovers(crm: Crm, folder: Path | None) -> list[str]:
    return backups.clean_up(crm.settings, folder)


def other_stages(pipeline: str, stage: str, kind: str) -> Source:
    """The stages of ``pipeline`` that a removed stage's deals may move to: another
    stage of the same kind."""

    def source(crm: Crm, text: str) -> list[Choice]:
        found = pipelines.get_pipeline(crm, pipeline).stages
        words = text.casefold().split()
        return [
            Choice(s.name, s.name, f"{s.probability}% · {s.deals} deals")
            for s in found
            if s.kind == kind and s.name != stage and all(word in s.name.casefold() for word in words)
        ]

    return source


def stage_key(pipeline: str, stage: str) -> str:
    return f"{pipeline}\n{stage}"


def counted(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


class AdminTable(RowTable):
    """A tab's rows. Enter does what the tab's own key does (edit, change, set, verify),
    so the footer leaves it out for those keys, which say what they do."""

    BINDINGS = [
        Binding(
            "enter",
            "select",
            "Open",
            show=False,
            id="rows.open",
            tooltip="Edit, change, set or verify the row under the cursor",
        ),
    ]


class AdminScreen(TabbedScreen):
    """Team & settings: users (admins), pipelines and SLA targets (managers), backups
    (admins), one tab each."""

    DEFAULT_CSS = """
    AdminScreen TabbedContent, AdminScreen ContentSwitcher, AdminScreen TabPane {
        height: 1fr;
    }
    AdminScreen TabPane {
        padding: 0;
    }
    AdminScreen .admin-status {
        height: auto;
    }
    """

    TAB_OF = TAB_OF
    BINDINGS = [
        Binding("n", "add_user", "Add user", id="admin.add_user", tooltip="Add a team member (admins)"),
        Binding(
            "e",
            "edit_user",
            "Edit user",
            id="admin.edit_user",
            tooltip="Change the display name or role of the user under the cursor (admins)",
        ),
        Binding(
            "d",
            "deactivate",
            "Deactivate",
            id="admin.deactivate",
            tooltip="Stop the user under the cursor from using crm; their records stay (admins)",
        ),
        Binding(
            "a",
            "activate",
            "Activate",
            id="admin.activate",
            tooltip="Let a deactivated user back in (admins)",
        ),
        Binding(
            "s",
            "add_stage",
            "Add stage",
            id="admin.add_stage",
            tooltip="Add a stage to a pipeline (managers)",
        ),
        Binding(
            "c",
            "change_stage",
            "Change stage",
            id="admin.change_stage",
            tooltip="Rename the stage under the cursor, set its probability or position (managers)",
        ),
        Binding(
            "x",
            "remove_stage",
            "Remove stage",
            id="admin.remove_stage",
            tooltip="Remove the stage under the cursor, moving its deals to another stage (managers)",
        ),
        Binding(
            "p",
            "add_pipeline",
            "Add pipeline",
            id="admin.add_pipeline",
            tooltip="A new pipeline with the usual stages (managers)",
        ),
        Binding(
            "m",
            "make_default",
            "Make default",
            id="admin.make_default",
            tooltip="New deals go into the pipeline under the cursor (managers)",
        ),
        Binding(
            "t",
            "set_sla",
            "Set targets",
            id="admin.set_sla",
            tooltip="Set the first-response and resolution targets of a priority (managers)",
        ),
        Binding("b", "back_up", "Back up now", id="admin.back_up", tooltip="Take a verified backup (admins)"),
        Binding(
            "v", "verify", "Verify", id="admin.verify", tooltip="Check the backup under the cursor is sound"
        ),
        Binding(
            "V", "verify_all", "Verify all", id="admin.verify_all", tooltip="Check every backup in the folder"
        ),
        Binding(
            "k",
            "clean",
            "Clean leftovers",
            id="admin.clean",
            tooltip="Remove what interrupted backups, verifies and restores left behind",
        ),
        Binding("r", "refresh", "Refresh", id="admin.refresh", tooltip="Read everything anew"),
        Binding("1", "show_tab('users')", "Users", id="admin.users", show=False, tooltip="The users tab"),
        Binding(
            "2",
            "show_tab('pipelines')",
            "Pipelines",
            id="admin.pipelines",
            show=False,
            tooltip="The pipelines tab",
        ),
        Binding(
            "3", "show_tab('sla')", "SLA targets", id="admin.sla", show=False, tooltip="The SLA targets tab"
        ),
        Binding(
            "4", "show_tab('backups')", "Backups", id="admin.backups", show=False, tooltip="The backups tab"
        ),
    ]

    def __init__(self, *, backup_folder: Path | str | None = None) -> None:
        super().__init__()
        # None is the folder `crm backup create` uses without --dir.
        self.backup_folder = Path(backup_folder) if backup_folder is not None else None
        self.tab = "users"
        self.user_rows: dict[str, UserRead] = {}
        self.stage_rows: dict[str, tuple[PipelineRead, StageRead]] = {}
        self.sla_rows: dict[str, SlaPolicyRead | None] = {}
        self.backup_rows: dict[str, backups.BackupInfo] = {}
        self.wanted: dict[str, str] = {}  # a tab: the record its cursor goes to when shown
        self.verdicts: dict[str, str] = {}  # a backup's file: what checking it found
        self.backing_up: Timer | None = None
        self.backup_seconds = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="users"):
            with TabPane("Users", id="users"):
                yield Static("", id="users-status", classes="hint admin-status")
                yield AdminTable(USER_COLUMNS, id="users-table")
            with TabPane("Pipelines", id="pipelines"):
                yield Static("", id="pipelines-status", classes="hint admin-status")
                yield AdminTable(STAGE_COLUMNS, id="pipelines-table")
            with TabPane("SLA targets", id="sla"):
                yield Static("", id="sla-status", classes="hint admin-status")
                yield AdminTable(SLA_COLUMNS, id="sla-table")
            with TabPane("Backups", id="backups"):
                yield Static("", id="backups-status", classes="hint admin-status")
                yield AdminTable(BACKUP_COLUMNS, id="backups-table")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#users-table", RowTable).focus()

    def on_screen_resume(self) -> None:
        # Sent on first display too, so this is also the first load.
        self.records_changed()

    def records_changed(self) -> None:
        """Read every tab anew, each cursor staying on its record."""
        self.load_users()
        self.load_pipelines()
        self.load_sla()
        self.load_backups()

    def action_refresh(self) -> None:
        self.records_changed()

    # Tabs: only the current tab's actions are at hand

    def tab_table(self, tab: str) -> RowTable:
        return self.query_one(f"#{tab}-table", RowTable)

    @on(RowTable.Selected)
    def row_opened(self) -> None:
        """Enter on a row does the usual thing to it: edit, change, set, verify. Only
        the current tab's table has the focus, so the row is one of its."""
        opened = {
            "users": self.action_edit_user,
            "pipelines": self.action_change_stage,
            "sla": self.action_set_sla,
            "backups": self.action_verify,
        }
        opened[self.tab]()

    # What the tables show

    def fill(self, name: str, rows: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Show ``rows`` in a tab's table, the cursor on the record an action asked for
        (once it is there), else on the record it was on, else on the row where that
        record was (its neighbour)."""
        wanted = self.wanted.get(name)
        if wanted in [key for key, _ in rows]:
            del self.wanted[name]  # there now: later reloads keep the cursor where it goes
        else:
            wanted = None
        self.query_one(f"#{name}-table", RowTable).refill(rows, select=wanted)

    def aim(self, name: str, select: str | None) -> None:
        """Put the cursor of a tab on ``select`` when its table next shows it: a record
        just added or changed. A reload started earlier may arrive first, without it."""
        if select is not None:
            self.wanted[name] = select

    def status(self, name: str, text: str) -> None:
        self.query_one(f"#{name}-status", Static).update(text)

    def selected(self, name: str) -> str | None:
        return self.query_one(f"#{name}-table", RowTable).current

    def when_allowed(self, permission: str, then: Callable[[], object]) -> None:
        """Open a form only for a user the logic allows; else say its refusal."""
        self.call(require, permission, then=lambda _: then())

    # Users

    def load_users(self, select: str | None = None) -> None:
        self.aim("users", select)
        self.call(users.list_users, then=self.show_users, key="users")

    def show_users(self, found: list[UserRead]) -> None:
        self.user_rows = {user.username: user for user in found}
        self.fill(
            "users",
            [(u.username, (u.username, u.display_name, u.role.value, shown(u.active))) for u in found],
        )
        inactive = sum(not user.active for user in found)
        who = f"{counted(len(found), 'user')}, {inactive} deactivated"
        self.status("users", f"{who} · admins add, change and deactivate users")

    def selected_user(self) -> UserRead | None:
        username = self.selected("users")
        return self.user_rows.get(username) if username else None

    def action_add_user(self) -> None:
        self.when_allowed("users.manage", self._add_user_form)

    def _add_user_form(self) -> None:
        def save(crm: Crm, values: dict[str, str]) -> UserRead:
            data = {"username": values["username"].strip(), "display_name": values["display_name"]}
            return users.add_user(crm, checked(UserCreate, {**data, "role": values["role"]}))

        def added(user: UserRead | None) -> None:
            if user is not None:
                self.notify(f"Added {user.username} ({user.role.value})")
                self.load_users(select=user.username)

        form = FormDialog(
            "New user",
            [
                Field("username", "Username", required=True, hint="letters, digits and . _ @ -"),
                Field("display_name", "Display name", hint="as the team reads it"),
                Field("role", "Role", kind="choice", choices=ROLES, required=True),
            ],
            save,
            values={"role": Role.sales.value},
        )
        self.app.push_screen(form, added)

    def action_edit_user(self) -> None:
        user = self.selected_user()
        if user is not None:
            self.when_allowed("users.manage", lambda: self._edit_user_form(user))

    def _edit_user_form(self, user: UserRead) -> None:
        opened = {"display_name": user.display_name, "role": user.role.value}

        def save(crm: Crm, values: dict[str, str]) -> UserRead:
            changes = {name: values[name] for name in opened if values[name] != opened[name]}
            if not changes:
                return users.get_user(crm, user.username)
            data = checked(UserUpdate, changes)
            return users.update_user(crm, user.username, data, expected_version=user.version)

        def saved(done: UserRead | None) -> None:
            if done is not None:
                self.notify(f"Saved {done.username} ({done.role.value})")
                self.load_users(select=done.username)

        form = FormDialog(
            f"Edit {user.username}",
            [
                Field("display_name", "Display name"),
                Field("role", "Role", kind="choice", choices=ROLES, required=True),
            ],
            save,
            values=opened,
        )
        self.app.push_screen(form, saved)

    def action_deactivate(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        if not user.active:
            self.notify(f"{user.username} is deactivated already · a activates")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(users.set_active, user.username, False, then=self._activity_changed)

        def ask() -> None:
            question = f"Deactivate {user.username}? They can no longer use crm; their records stay."
            self.app.push_screen(Confirm(question), answered)

        self.when_allowed("users.manage", ask)

    def action_activate(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        if user.active:
            self.notify(f"{user.username} is active already")
            return
        self.call(users.set_active, user.username, True, then=self._activity_changed)

    def _activity_changed(self, user: UserRead) -> None:
        if user.active:
            self.notify(f"Activated {user.username}")
        else:
            self.notify(f"Deactivated {user.username} · a activates again")
        self.load_users(select=user.username)

    # Pipelines and stages

    def load_pipelines(self, select: str | None = None) -> None:
        self.aim("pipelines", select)
        self.call(pipelines.list_pipelines, then=self.show_pipelines, key="pipelines")

    def show_pipelines(self, found: list[PipelineRead]) -> None:
        self.stage_rows = {}
        rows = []
        for pipeline in found:
            for index, stage in enumerate(pipeline.stages):
                key = stage_key(pipeline.name, stage.name)
                self.stage_rows[key] = (pipeline, stage)
                named = pipeline.name + (" (default)" if pipeline.is_default else "")
                cells = (
                    named if index == 0 else "",
                    str(stage.position),
                    stage.name,
                    stage.kind,
                    f"{stage.probability}%",
                    str(stage.deals),
                )
                rows.append((key, cells))
        self.fill("pipelines", rows)
        self.status(
            "pipelines",
            f"{counted(len(found), 'pipeline')} · managers add and change pipelines and stages",
        )

    def selected_stage(self) -> tuple[PipelineRead, StageRead] | None:
        key = self.selected("pipelines")
        return self.stage_rows.get(key) if key else None

    def action_add_pipeline(self) -> None:
        self.when_allowed("pipelines.manage", self._add_pipeline_form)

    def _add_pipeline_form(self) -> None:
        def save(crm: Crm, values: dict[str, str]) -> PipelineRead:
            return pipelines.add_pipeline(crm, values["name"])

        def added(pipeline: PipelineRead | None) -> None:
            if pipeline is not None:
                self.notify(f"Added pipeline {pipeline.name} with the usual stages")
                self.load_pipelines(select=stage_key(pipeline.name, pipeline.stages[0].name))

        form = FormDialog("New pipeline", [Field("name", "Name", required=True)], save)
        self.app.push_screen(form, added)

    def action_make_default(self) -> None:
        chosen = self.selected_stage()
        if chosen is None:
            return
        pipeline, stage = chosen
        if pipeline.is_default:
            self.notify(f"{pipeline.name} is the default already")
            return

        def done(made: PipelineRead) -> None:
            self.notify(f"New deals go into {made.name}")
            self.load_pipelines(select=stage_key(made.name, stage.name))

        self.call(pipelines.set_default, pipeline.name, then=done)

    def action_add_stage(self) -> None:
        self.when_allowed("pipelines.manage", self._add_stage_form)

    def _add_stage_form(self) -> None:
        chosen = self.selected_stage()
        pipeline = chosen[0].name if chosen else ""

        def save(crm: Crm, values: dict[str, str]) -> tuple[str, str]:
            probability = whole_number(values["probability"], "probability", "Probability", low=0, high=100)
            position = whole_number(values["position"], "position", "Position", low=1)
            done = pipelines.add_stage(
                crm,
                values["pipeline"] or None,
                values["name"],
                probability=probability,
                kind=values["kind"],
                position=position,
            )
            return done.name, values["name"].strip()

        def added(result: tuple[str, str] | None) -> None:
            if result is not None:
                name, stage = result
                self.notify(f"Added stage {stage} to {name}")
                self.load_pipelines(select=stage_key(name, stage))

        form = FormDialog(
            "New stage",
            [
                Field("name", "Stage name", required=True),
                Field("probability", "Probability %", hint="0 to 100; empty is 0"),
                Field("kind", "Kind", kind="choice", choices=KINDS, required=True),
                Field("position", "Position", hint="1 is first; empty: before the won and lost stages"),
                Field("pipeline", "Pipeline", kind="pick", source=all_pipelines, required=True),
            ],
            save,
            values={"pipeline": pipeline, "kind": StageKind.open.value},
        )
        self.app.push_screen(form, added)

    def action_change_stage(self) -> None:
        chosen = self.selected_stage()
        if chosen is not None:
            self.when_allowed("pipelines.manage", lambda: self._change_stage_form(*chosen))

    def _change_stage_form(self, pipeline: PipelineRead, stage: StageRead) -> None:
        def save(crm: Crm, values: dict[str, str]) -> str:
            probability = whole_number(values["probability"], "probability", "Probability", low=0, high=100)
            position = whole_number(values["position"], "position", "Position", low=1)
            pipelines.change_stage(
                crm,
                pipeline.name,
                stage.name,
                name=values["name"],
                probability=probability,
                position=position,
            )
            return values["name"].strip()

        def changed(name: str | None) -> None:
            if name is not None:
                self.notify(f"Saved stage {name} of {pipeline.name}")
                self.load_pipelines(select=stage_key(pipeline.name, name))

        form = FormDialog(
            f"Stage {stage.name} of {pipeline.name}",
            [
                Field("name", "Stage name", required=True),
                Field("probability", "Probability %", hint="0 to 100"),
                Field("position", "Position", hint="1 is first"),
            ],
            save,
            values={
                "name": stage.name,
                "probability": str(stage.probability),
                "position": str(stage.position),
            },
        )
        self.app.push_screen(form, changed)

    def action_remove_stage(self) -> None:
        chosen = self.selected_stage()
        if chosen is not None:
            self.when_allowed("pipelines.manage", lambda: self._remove_stage(*chosen))

    def _remove_stage(self, pipeline: PipelineRead, stage: StageRead) -> None:
        """A stage holding deals asks where they go (another stage of its kind), then
        asks to be sure; an empty one only asks to be sure."""
        if not stage.deals:
            self._confirm_removal(pipeline, stage, None)
            return

        def picked(choice: Choice | None) -> None:
            if choice is not None:
                self._confirm_removal(pipeline, stage, choice.value)

        title = f"Move the {stage.deals} deals of {stage.name} to"
        source = other_stages(pipeline.name, stage.name, stage.kind)
        self.app.push_screen(Picker(title, source), picked)

    def _confirm_removal(self, pipeline: PipelineRead, stage: StageRead, move_to: str | None) -> None:
        moving = f", moving its {stage.deals} deals to {move_to}" if move_to else ""

        def removed(_: PipelineRead) -> None:
            self.notify(f"Removed stage {stage.name} of {pipeline.name}{moving}")
            self.load_pipelines()

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(pipelines.remove_stage, pipeline.name, stage.name, move_to=move_to, then=removed)

        self.app.push_screen(Confirm(f"Remove stage {stage.name} of {pipeline.name}{moving}?"), answered)

    # SLA targets

    def load_sla(self, select: str | None = None) -> None:
        self.aim("sla", select)
        self.call(sla.sla_policies, then=self.show_sla, key="sla")

    def show_sla(self, found: list[SlaPolicyRead]) -> None:
        policies = {policy.priority.value: policy for policy in found}
        self.sla_rows = {priority.value: policies.get(priority.value) for priority in URGENT_FIRST}
        rows = []
        for priority, policy in self.sla_rows.items():
            if policy is None:
                rows.append((priority, (priority, "not set: takes no tickets", "")))
            else:
                first, resolution = policy.first_response_minutes, policy.resolution_minutes
                rows.append((priority, (priority, span_text(first), span_text(resolution))))
        self.fill("sla", rows)
        settings = self.crm.settings
        clock = (
            f"business hours {settings.business_hours} on {settings.business_days}"
            if settings.business_hours
            else "calendar time"
        )
        self.status(
            "sla",
            f"The clock runs on {clock}; it stops while a ticket is pending. "
            "Open tickets keep their due times · managers set the targets",
        )

    def action_set_sla(self) -> None:
        priority = self.selected("sla")
        if priority is not None:
            self.when_allowed("sla.manage", lambda: self._sla_form(priority))

    def _sla_form(self, priority: str) -> None:
        policy = self.sla_rows.get(priority)

        def save(crm: Crm, values: dict[str, str]) -> SlaPolicyRead:
            first = span(values["first_response"], "first_response")
            resolution = span(values["resolution"], "resolution")
            return sla.set_sla(crm, Priority(priority), first_response=first, resolution=resolution)

        def saved(done: SlaPolicyRead | None) -> None:
            if done is not None:
                self.notify(
                    f"{priority}: first response {span_text(done.first_response_minutes)}, "
                    f"resolution {span_text(done.resolution_minutes)}"
                )
                self.load_sla(select=priority)

        values = (
            {
                "first_response": span_text(policy.first_response_minutes),
                "resolution": span_text(policy.resolution_minutes),
            }
            if policy
            else {}
        )
        form = FormDialog(
            f"SLA targets for {priority} tickets",
            [
                Field("first_response", "First response within", required=policy is None, hint=SPAN_HINT),
                Field("resolution", "Resolved within", required=policy is None, hint=SPAN_HINT),
            ],
            save,
            values=values,
        )
        self.app.push_screen(form, saved)

    # Backups

    @property
    def folder_shown(self) -> str:
        return str(backups.backup_folder(self.backup_folder)[0])

    def load_backups(self, select: str | None = None) -> None:
        self.aim("backups", select)
        self.call(backup_list, self.backup_folder, then=self.show_backups, key="backups")

    def show_backups(self, found: list[backups.BackupInfo]) -> None:
        self.backup_rows = {info.file: info for info in found}
        rows = [
            (
                info.file,
                (
                    shown(info.created_at) or "incomplete",
                    info.kind,
                    f"{info.size / 1_048_576:.1f} MB",
                    self.verdicts.get(info.file, ""),
                    Path(info.file).name,
                    info.schema_version or "",
                    shown(info.encrypted),
                ),
            )
            for info in found
        ]
        self.fill("backups", rows)
        self.show_backup_status()

    def show_backup_status(self) -> None:
        if self.backing_up is not None:
            doing = f"Backing up… {self.backup_seconds} s (the desk stays usable)"
        elif self.backup_rows:
            doing = f"{counted(len(self.backup_rows), 'backup')} in {self.folder_shown}"
        else:
            doing = f"No backups yet in {self.folder_shown}: b takes one"
        self.status("backups", f"{doing} · admins back up\n{RESTORE_NOTE}")

    def action_back_up(self) -> None:
        if self.backing_up is not None:
            self.notify("A backup is being taken already; it says when it is done")
            return
        self.backup_seconds = 0
        self.backing_up = self.set_interval(1, self._tick)
        self.show_backup_status()
        self.call(take_backup, self.backup_folder, then=self._backed_up, failed=self._backup_failed)

    def _tick(self) -> None:
        self.backup_seconds += 1
        self.show_backup_status()

    def _stop_backup(self) -> None:
        if self.backing_up is not None:
            self.backing_up.stop()
            self.backing_up = None

    def _backed_up(self, made: backups.BackupInfo) -> None:
        self._stop_backup()
        self.verdicts[made.file] = "ok when taken"
        self.notify(f"Backed up to {Path(made.file).name} ({made.size / 1_048_576:.1f} MB)")
        self.load_backups(select=made.file)

    def _backup_failed(self, error: Exception) -> None:
        self._stop_backup()
        self.show_backup_status()
        self.notify(str(error), title="Not backed up", severity="error", timeout=8)

    def action_verify(self) -> None:
        file = self.selected("backups")
        if file is None:
            self.notify("No backup to verify: b takes one")
            return
        self.verdicts[file] = "checking…"
        self.load_backups()
        self.call(verify_one, file, then=self._verified_one)

    def _verified_one(self, report: verification.VerifyReport) -> None:
        self._keep_verdicts([report])
        name = Path(report.file).name
        if report.ok:
            self.notify(f"{name} is sound: {', '.join(report.checked)} checked")
        else:
            self.notify(report.problem or f"{name} is {report.state}", title="Not sound", severity="error")

    def action_verify_all(self) -> None:
        if not self.backup_rows:
            self.notify("No backups to verify: b takes one")
            return
        for file in self.backup_rows:
            self.verdicts[file] = "checking…"
        self.load_backups()
        self.call(verify_every, self.backup_folder, then=self._verified_all)

    def _verified_all(self, reports: list[verification.VerifyReport]) -> None:
        self._keep_verdicts(reports)
        failed = [report for report in reports if not report.ok]
        if not failed:
            self.notify(
                "The backup is sound" if len(reports) == 1 else f"All {len(reports)} backups are sound"
            )
        else:
            first = failed[0].problem or failed[0].state
            self.notify(
                f"{len(failed)} of {counted(len(reports), 'backup')} failed: {first}",
                title="Not sound",
                severity="error",
            )

    def _keep_verdicts(self, reports: list[verification.VerifyReport]) -> None:
        for report in reports:
            self.verdicts[report.file] = "ok" if report.ok else report.state
        self.load_backups()

    def action_clean(self) -> None:
        def cleaned(removed: list[str]) -> None:
            if removed:
                self.notify(f"Removed {len(removed)} left behind: {', '.join(Path(p).name for p in removed)}")
            else:
                self.notify("Nothing was left behind")
            self.load_backups()

        self.call(clean_leftovers, self.backup_folder, then=cleaned)
