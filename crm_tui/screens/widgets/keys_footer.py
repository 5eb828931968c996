"""A footer that rebuilds its keys only when the keys it shows change.

Textual's Footer throws its keys away and builds them anew (a widget each) on every
change of focus or of the bindings, also when the keys stay the same and when its
screen is not the one shown: some 25 ms on a busy machine, four or five times while a
customer's screen opens, and again on its way back to the list. This footer rebuilds
once for a burst of changes, only while its screen is shown, and only when the keys
shown (or whether they are enabled) differ from those it drew last.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

Key = tuple[str, str, str, str, bool, str]  # key, as shown, description, action, enabled, tooltip


class KeysFooter(Footer):
    """Textual's Footer, rebuilt only when what it shows changes."""

    def __init__(self) -> None:
        super().__init__()
        self.drawn: tuple[Key, ...] | None = None  # the keys of the last build
        self.pending = False  # a rebuild is asked for after the next refresh

    def bindings_changed(self, screen: Screen) -> None:
        # Called by the screen's bindings_updated_signal (Footer subscribes on mount).
        self._bindings_ready = True
        if self.pending or not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        self.pending = True
        self.call_after_refresh(self.rebuild)

    async def rebuild(self) -> None:
        self.pending = False
        if not self.is_attached or not self.screen.is_active:
            return  # gone, or not shown: a screen refreshes its bindings when it shows again
        keys = self.keys_shown()
        if keys != self.drawn:
            self.drawn = keys
            await self.recompose()

    def keys_shown(self) -> tuple[Key, ...]:
        """What Footer.compose draws: the bindings to show, and the palette's key."""
        app = self.app
        with_palette = self.show_command_palette and app.ENABLE_COMMAND_PALETTE
        palette = app.COMMAND_PALETTE_BINDING if with_palette else ""
        return tuple(
            (binding.key, app.get_key_display(binding), binding.description, binding.action, enabled, tooltip)
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == palette
        )
