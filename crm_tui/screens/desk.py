"""The desk (home screen), the welcome of a new database, and the help screen."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Header, Input, Label, SelectionList, Static

from crm_tui.logic.admin import demo
from crm_tui.logic.core import users
from crm_tui.logic.core.context import Crm
from crm_tui.logic.core.schemas import UserUpdate
from crm_tui.logic.reports import desk
from crm_tui.screens.base import CrmModal, CrmScreen
from crm_tui.screens.desk_panels import TITLES, view
from crm_tui.screens.keys import KeyGroup
from crm_tui.screens.widgets.keys_footer import KeysFooter


class PanelTable(DataTable):
    """A desk panel's rows; choosing a row opens the record it names."""

    def __init__(self, key: str) -> None:
        super().__init__(id=f"panel-{key}", cursor_type="row", zebra_stripes=True)
        self.refs: list[str | None] = []


# Where the function keys go: the footer keeps its room for the screen's own keys.
PARTS = "F3 customers · F4 pipeline · F5 tickets · F6 orders · F7 tasks · F8 team"


class DeskScreen(CrmScreen):
    """Home: the panels of the user's role, or of their own choosing."""

    BINDINGS = [
        Binding(
            "slash",
            "app.command_palette",
            "Search",
            id="desk.search",
            tooltip="Find customers, contacts, deals, tickets and orders by name or reference",
        ),
        Binding("r", "refresh", "Refresh", id="desk.refresh"),
        Binding(
            "c", "choose", "Choose panels", id="desk.choose", tooltip="Which panels show, in which order"
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="greeting", classes="hint")
        yield VerticalScroll(Grid(id="desk"))
        yield KeysFooter()

    def on_screen_resume(self) -> None:
        # Sent on first display too, so this is also the first load.
        self.action_refresh()

    def on_resize(self) -> None:
        # Two panels side by side need room; a narrow terminal stacks them.
        self.query_one("#desk", Grid).set_class(self.size.width < 100, "-narrow")

    def action_refresh(self) -> None:
        self.call(desk.whoami, then=self._with_me)

    def _with_me(self, me: desk.Me) -> None:
        self.me = me
        if me.new_database:
            self.app.welcome(self.action_refresh)
        self.query_one("#greeting", Static).update(
            f"{me.display_name or me.username} ({me.role.value}) on {me.database}\n{PARTS}"
        )
        self.call(desk.desk, self._panels(), then=self._show, key="desk")

    def _panels(self) -> list[str]:
        """The acting crm user's panels: their own choice, else the settings file's
        top-level one, else their role's. Names that are no panel are left out: the
        desk said so when it started (screens/settings_check.py)."""
        chosen = self.app.settings.personal(self.crm.username).desk_panels or []
        known = [key for key in chosen if key in desk.PANELS]
        return desk.panels_for(self.me.role, known or None)

    def _show(self, panels: list[desk.Panel]) -> None:
        grid = self.query_one("#desk", Grid)
        grid.remove_children()
        for panel in panels:
            shown = view(panel)
            table = PanelTable(panel.key)
            box = Vertical(
                Label(shown.title, classes="title"),
                table,
                Static(shown.summary, classes="hint"),
                classes="panel",
            )
            grid.mount(box)
            table.add_columns(*shown.columns)
            for row in shown.rows:
                table.add_row(*row)
            table.refs = list(shown.refs)

    @on(DataTable.RowSelected)
    def open_row(self, event: DataTable.RowSelected) -> None:
        table = event.data_table
        if isinstance(table, PanelTable) and event.cursor_row < len(table.refs):
            reference = table.refs[event.cursor_row]
            if reference:
                self.app.open_record(reference)

    def action_choose(self) -> None:
        chosen = self._panels()

        def save(keys: list[str] | None) -> None:
            if keys:
                self.app.save_setting("desk_panels", keys)
                self.action_refresh()

        self.app.push_screen(PanelChooser(chosen), save)


class PanelChooser(ModalScreen[list[str] | None]):
    """Tick the panels to show; they show in the order ticked."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="panels.cancel")]

    def __init__(self, chosen: list[str]) -> None:
        super().__init__()
        self.order = list(chosen)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Desk panels (shown in the order ticked)", classes="title")
            yield SelectionList[str](
                *[(TITLES[key], key, key in self.order) for key in desk.PANELS], id="panels"
            )
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    @on(SelectionList.SelectedChanged)
    def ticked(self, event: SelectionList.SelectedChanged) -> None:
        selected = event.selection_list.selected
        self.order = [key for key in self.order if key in selected] + [
            key for key in selected if key not in self.order
        ]

    @on(Button.Pressed, "#save")
    def save(self) -> None:
        self.dismiss(self.order or None)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class WelcomeScreen(CrmModal):
    """A new database: the first user is its admin; start with demo data or empty."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Welcome to crm", classes="title")
            yield Static(
                f"This database is new. You ({self.crm.username}) are its first user and its admin.\n"
                "Add the other team members later on the Team screen (F8), or with `crm user add`.",
                classes="hint",
            )
            yield Label("Your name as the team sees it", classes="field-label")
            yield Input(value=self.crm.username, id="display-name")
            yield Static("Tab goes to the buttons; Enter chooses one.", id="welcome-status", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Start empty", id="empty")
                yield Button("Load demo data", id="demo", variant="primary")

    def _new_name(self) -> str | None:
        """The display name typed, if it is not the username the field started with."""
        name = self.query_one("#display-name", Input).value.strip()
        return name if name and name != self.crm.username else None

    @on(Button.Pressed, "#empty")
    def start_empty(self) -> None:
        name = self._new_name()
        if name is None:
            self.dismiss(None)
            return
        changed = UserUpdate(display_name=name)
        self.call(users.update_user, self.crm.username, changed, then=lambda _: self.dismiss(None))

    @on(Button.Pressed, "#demo")
    def load(self) -> None:
        name = self._new_name()
        self.query_one("#welcome-status", Static).update(
            "Loading the demo team, customers, deals and tickets…"
        )
        for button in self.query(Button):
            button.disabled = True

        def done(summary: demo.DemoSummary) -> None:
            self.notify(
                f"Demo loaded: {summary.customers} customers, {summary.deals} deals, "
                f"{summary.orders} orders, {summary.tickets} tickets"
            )
            self.dismiss(None)

        def failed(error) -> None:
            self.query_one("#welcome-status", Static).update(f"Demo data not loaded: {error}")
            for button in self.query(Button):
                button.disabled = False

        def start(crm: Crm) -> demo.DemoSummary:
            # The name first, in the same worker: the desk that follows greets the user by it.
            if name is not None:
                users.update_user(crm, crm.username, UserUpdate(display_name=name))
            return demo.load_demo(crm)

        self.call(start, then=done, failed=failed)


class HelpScreen(ModalScreen[None]):
    """The keys at hand on the screen underneath, grouped by where they work, with their
    ids for the keymap setting."""

    DEFAULT_CSS = """
    HelpScreen > .dialog {
        width: 80;
        height: 90%;
    }
    HelpScreen #keys {
        height: 1fr;
    }
    HelpScreen #keys Static {
        padding: 0 1;
    }
    HelpScreen .hint {
        margin-top: 1;
    }
    """

    BINDINGS = [Binding("escape,f1,q", "close", "Close", id="help.close")]

    def __init__(self, groups: list[KeyGroup]) -> None:
        super().__init__()
        self.groups = groups

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """Every row of every group: keys, what they do, binding id."""
        return [(row.keys, row.does, row.id) for group in self.groups for row in group.rows]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Keys", classes="title")
            with VerticalScroll(id="keys"):
                yield Static(self._tables())
            yield Static(
                'Remap any key in the settings file: keymap = { "customers.new" = "ctrl+n" }.\n'
                "Ctrl+P opens the command palette: jump to any record, run any action, change the theme.",
                classes="hint",
            )

    def _tables(self) -> Group:
        """A table per group, their columns as wide as the widest entry of any group."""
        rows = [row for group in self.groups for row in group.rows]
        key_width = max((len(row.keys) for row in rows), default=3)
        id_width = max((len(row.id) for row in rows), default=2)
        tables: list[Table | str] = []
        for number, group in enumerate(self.groups):
            if number:
                tables.append("")  # a line between groups
            table = Table(
                title=group.title,
                title_justify="left",
                title_style="bold underline",
                box=None,
                expand=True,
                padding=(0, 1),
                pad_edge=False,
                show_header=number == 0,
            )
            table.add_column("Key", width=key_width, no_wrap=True, style="bold")
            table.add_column("Does", ratio=1)
            table.add_column("Id", width=id_width, no_wrap=True, style="dim")
            for row in group.rows:
                table.add_row(row.keys, row.does, row.id)
            tables.append(table)
        return Group(*tables)

    def on_mount(self) -> None:
        self.query_one("#keys", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
