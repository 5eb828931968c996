"""The Textual app: the desk, customers, pipeline, tickets and orders of a team.

Built by ``make_app`` from an open crm and its settings, so that tests and the `crm`
command build it the same way.
"""

from __future__ import annotations

import asyncio
import gc
import time
from functools import partial
from typing import TYPE_CHECKING

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import ModalScreen

from crm_tui.config import Settings, SettingsError, save_setting
from crm_tui.logic.admin import undo
from crm_tui.logic.admin.undo import UndoResult
from crm_tui.logic.core.errors import CrmError
from crm_tui.logic.reports import desk
from crm_tui.logic.sales import board
from crm_tui.screens.admin import AdminScreen
from crm_tui.screens.base import Calls
from crm_tui.screens.customers import CustomerDetailScreen, CustomersScreen
from crm_tui.screens.desk import DeskScreen, HelpScreen, WelcomeScreen
from crm_tui.screens.keys import keys_at_hand
from crm_tui.screens.orders import OrderDetail, OrdersScreen
from crm_tui.screens.pipeline import DealDetail, PipelineScreen
from crm_tui.screens.settings_check import check_settings
from crm_tui.screens.styles import add_every_default_css
from crm_tui.screens.tasks import TasksScreen
from crm_tui.screens.tickets import TicketScreen, TicketsScreen

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm


class RecordsProvider(Provider):
    """Jump to any customer, deal, ticket or order by part of its name or its reference."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, CrmApp)
        targets = await asyncio.to_thread(desk.jump_targets, app.crm, query)
        matcher = self.matcher(query)
        for target in targets:
            text = f"{target.label} ({target.ref})"
            score = max(matcher.match(text), 0.5 if query.strip().upper() == target.ref else 0.1)
            yield Hit(
                score,
                matcher.highlight(text),
                partial(app.open_record, target.ref),
                help=f"{target.kind}: {target.detail}",
            )


class ScreenActionsProvider(Provider):
    """Every action of the current screen, by its name."""

    def _actions(self):
        for binding in self.screen.BINDINGS if hasattr(self.screen, "BINDINGS") else []:
            if isinstance(binding, Binding) and binding.description:
                yield binding

    async def discover(self) -> Hits:
        for binding in self._actions():
            yield DiscoveryHit(
                binding.description,
                partial(self.screen.run_action, binding.action),
                help=binding.tooltip or None,
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for binding in self._actions():
            score = matcher.match(binding.description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(binding.description),
                    partial(self.screen.run_action, binding.action),
                    help=binding.tooltip or None,
                )


# The collector's oldest generation is collected by the desk itself: every COLLECT_EVERY
# seconds, when no key or click came for IDLE seconds.
COLLECT_EVERY = 10.0
IDLE = 1.0
# Collections of the middle generation before the oldest is collected on its own: never,
# in practice (a million of them is billions of allocations). Python 3.11 to 3.13.
NEVER = 1_000_000


class IdleCollections:
    """Full garbage collections while the user is idle, never in the middle of a key.

    When Python's collector finds its oldest generation due, it walks every object of
    it: 40 to 80 ms once a board and a customer's long timeline have been read, which
    made one customer open in ten take over 100 ms. gc.freeze at start keeps what is
    loaded then out of its reach, but what is read later grows the generation again.
    So the oldest generation is left to ``collect_if_idle``; the younger ones, cheap,
    are collected as Python does.
    """

    def __init__(self) -> None:
        self.threshold = gc.get_threshold()
        self.last_input = time.monotonic()

    def start(self) -> None:
        young, middle, _oldest = self.threshold
        gc.set_threshold(young, middle, NEVER)

    def stop(self) -> None:
        gc.set_threshold(*self.threshold)

    def input_came(self) -> None:
        self.last_input = time.monotonic()

    def collect_if_idle(self) -> bool:
        """Collect every generation if no key or click came for IDLE seconds."""
        if time.monotonic() - self.last_input < IDLE:
            return False
        gc.collect()
        return True


class CrmApp(App):
    """crm's desk."""

    CSS_PATH = "app.tcss"
    TITLE = "crm"
    COMMANDS = App.COMMANDS | {RecordsProvider, ScreenActionsProvider}
    MODES = {
        "desk": DeskScreen,
        "customers": CustomersScreen,
        "pipeline": PipelineScreen,
        "tickets": TicketsScreen,
        "orders": OrdersScreen,
        "tasks": TasksScreen,
        "admin": AdminScreen,
    }
    DEFAULT_MODE = "desk"
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help", tooltip="The keys of this screen", priority=True),
        Binding("f2", "go('desk')", "Desk", id="app.desk", show=False),
        Binding("f3", "go('customers')", "Customers", id="app.customers", show=False),
        Binding("f4", "go('pipeline')", "Pipeline", id="app.pipeline", show=False),
        Binding("f5", "go('tickets')", "Tickets", id="app.tickets", show=False),
        Binding("f6", "go('orders')", "Orders", id="app.orders", show=False),
        Binding(
            "f7",
            "go('tasks')",
            "Tasks",
            id="app.tasks",
            show=False,
            tooltip="Follow-ups due today, overdue, this week, or yours",
        ),
        Binding(
            "f8",
            "go('admin')",
            "Team",
            id="app.admin",
            show=False,
            tooltip="Users, pipelines and stages, SLA targets and backups",
        ),
        Binding(
            "ctrl+z",
            "undo",
            "Undo my last change",
            id="app.undo",
            show=False,
            tooltip="Put back what your newest change on a record changed, if nobody changed it since",
        ),
        # The function keys, ctrl+z and ctrl+q are the same everywhere: the desk names them
        # and F1 lists them, so the footer keeps its room for each screen's own keys.
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, show=False),
    ]

    def __init__(self, crm: Crm, settings: Settings) -> None:
        self.crm = crm
        self.settings = settings
        super().__init__()
        add_every_default_css(self)
        self._theme_ready = False
        self.welcomed = False
        self.collections = IdleCollections()
        # The board's first showing: False until F4 is pressed, True while it is read,
        # None once its screen is made (see _first_board).
        self.board_first: bool | None = False

    def on_mount(self) -> None:
        # The acting crm user's theme, not the OS account's: several may share one.
        theme = self.settings.personal(self.crm.username).theme
        if theme in self.available_themes:
            self.theme = theme
        self._theme_ready = True
        # What the settings ask that the desk cannot do is said once, here, and left out.
        check = check_settings(self.settings, self.crm.username, self.available_themes)
        if check.keymap:
            self.set_keymap(check.keymap)
        for source, problems in check.problems.items():
            self.notify("\n".join(problems), title=f"Settings: {source}", severity="warning", timeout=20)
        self.sub_title = f"{self.crm.username} · {self.crm.describe()}"
        # What is loaded by now (modules, table mappings, styles) lives as long as the
        # app: kept out of the collector's reach, a full collection no longer walks it
        # and stops the desk for 50-120 ms in the middle of a key press.
        gc.freeze()
        self.collections.start()
        self.set_interval(COLLECT_EVERY, self.collections.collect_if_idle)

    def on_unmount(self) -> None:
        # An app made again in the same process (tests) starts as the first did.
        self.collections.stop()
        gc.unfreeze()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.collections.input_came()
        await super().on_event(event)

    def welcome(self, then) -> None:
        """Once per session, on a new database: the welcome dialog."""
        if not self.welcomed:
            self.welcomed = True
            self.push_screen(WelcomeScreen(), lambda _: then())

    def watch_theme(self, theme: str) -> None:
        if self._theme_ready and theme != self.settings.personal(self.crm.username).theme:
            self.save_setting("theme", theme)

    def save_setting(self, name: str, value) -> None:
        """Remember one of the acting user's choices, in their own table of the settings
        file (the file's comments are kept)."""
        self.settings.remember(self.crm.username, name, value)
        try:
            save_setting(name, value, user=self.crm.username)
        except OSError as error:
            self.notify(f"Could not save the {name} setting: {error.strerror}", severity="warning")
        except SettingsError as error:
            self.notify(f"Could not save the {name} setting: {error}", severity="warning")

    def action_go(self, mode: str) -> None:
        """Show a part of the desk at its start: F3 is the customer list, whatever
        customer was open there before (a key typed next must not act on that one)."""
        if mode == "pipeline" and self.board_first is not None:
            if not self.board_first:
                self.board_first = True
                self.run_worker(self._first_board(), group="first-board")
            return  # shown once read
        self.switch_mode(mode)
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ModalScreen):
            self.pop_screen()

    async def _first_board(self) -> None:
        """The board's first showing: read it, then build the screen with it. Built
        empty and filled once read, it was laid out and drawn twice, and drawing the
        empty board slowed the reading (one interpreter for both): 100 ms at 1M
        customers, against the budget's 100."""
        pressed_on = self.screen
        try:
            found = await asyncio.to_thread(board.board, self.crm)
        except CrmError:
            found = None  # the screen reads it again and says what is wrong
        await self.remove_mode("pipeline")
        self.add_mode("pipeline", partial(PipelineScreen, found))
        self.board_first = None
        if self.screen is pressed_on:  # not if another key took the user elsewhere meanwhile
            self.action_go("pipeline")

    def action_undo(self) -> None:
        """Undo the acting user's newest change (through logic, audited), then show it."""
        screen = self.screen
        if not isinstance(screen, Calls):
            return

        def undone(result: UndoResult) -> None:
            self.notify(f"Undid {result.undone}: {result.summary}", title="Undone")
            for shown in dict.fromkeys((self.screen, screen)):  # each once
                if isinstance(shown, Calls):
                    shown.records_changed()

        screen.call(undo.undo_last, then=undone)

    def open_record(self, reference: str) -> None:
        """Show the record a reference names: C- customer, D- deal, T- ticket, O- order."""
        kind = reference.split("-", 1)[0].upper()
        screens = {"C": CustomerDetailScreen, "D": DealDetail, "T": TicketScreen, "O": OrderDetail}
        if kind in screens:
            self.push_screen(screens[kind](reference))
        else:
            self.notify(f"{reference}: nothing to open", severity="warning")

    def action_help(self) -> None:
        """The keys at hand; F1 is a priority key so that it works in dialogs too, and
        so it closes the help it opened."""
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(HelpScreen(keys_at_hand(self.screen)))


def make_app(crm: Crm, settings: Settings | None = None) -> CrmApp:
    """The app on an open crm; the settings default to the crm's own."""
    return CrmApp(crm, settings or crm.settings)
