"""A screen of tabs whose keys belong to one tab each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from textual import on
from textual.widget import Widget
from textual.widgets import TabbedContent

from crm_tui.screens.base import CrmScreen


class TabbedScreen(CrmScreen):
    """Tabs of records, each with its own actions.

    ``TAB_OF`` names the tab of each action: it works and shows in the footer and F1 on
    its tab only, and the palette (which lists every action) opens the tab first.
    """

    TAB_OF: ClassVar[dict[str, str]] = {}
    tab: str  # the tab shown

    def tab_table(self, tab: str) -> Widget:
        """The widget that takes the cursor when ``tab`` is shown."""
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_tab":
            return parameters[0] != self.tab
        tab = self.TAB_OF.get(action)
        return tab is None or tab == self.tab

    async def run_action(self, action: str, namespaces: Mapping[str, Any] | None = None) -> None:
        tab = self.TAB_OF.get(action.partition("(")[0])
        if tab is not None:
            self.action_show_tab(tab)
        await super().run_action(action, namespaces)

    def action_show_tab(self, tab: str) -> None:
        self.tab = tab
        self.query_one(TabbedContent).active = tab
        self.tab_table(tab).focus()
        self.refresh_bindings()

    @on(TabbedContent.TabActivated)
    def tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id and event.pane.id != self.tab:
            self.action_show_tab(event.pane.id)
