"""The footer: the keys at hand, drawn as one line by one widget.

Textual's Footer builds a widget per key, anew on every change of focus or of the keys,
each styled on its own: on a screen's first showing it cost more than drawing the
screen (the board's twenty keys, 40 ms of a 120 ms first showing). This footer holds
the keys as data and draws them in one line the way Footer does (key, description; the
palette's key on the right); a change of the keys is a redraw. A click on a key presses
it, as on Footer, and hovering shows the key's tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

from crm_tui.screens.keys import bindings_in_reach


@dataclass(frozen=True)
class FooterKey:
    """One key as the footer shows it."""

    key: str  # the binding's key, pressed by a click
    shown: str  # how the key reads ("^s", "f1")
    description: str
    enabled: bool
    tooltip: str
    help: bool = False  # the key of F1's list of keys: always drawn, last


class KeysFooter(Widget, can_focus=False):
    """The keys of the screen's active bindings that are shown, and the palette's key."""

    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeysFooter > .keys-footer--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeysFooter > .keys-footer--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeysFooter > .keys-footer--hover {
        background: $block-hover-background;
    }
    KeysFooter > .keys-footer--edge {
        color: $foreground 20%;
    }
    """
    COMPONENT_CLASSES = {
        *("keys-footer--key", "keys-footer--description", "keys-footer--hover", "keys-footer--edge")
    }
    ALLOW_SELECT = False

    def __init__(self) -> None:
        super().__init__()
        self.keys: tuple[FooterKey, ...] = ()
        self.palette: FooterKey | None = None
        self.hovered: FooterKey | None = None
        self._places: list[tuple[int, int, FooterKey]] = []  # where each key was drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        # Without the app's focus no widget is focused and the keys at hand are few:
        # the footer keeps showing those of the widget that had it, as Footer does.
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        keys, palette = self.keys_shown()
        if (keys, palette) != (self.keys, self.palette):
            self.keys, self.palette = keys, palette
            self.refresh()

    def keys_shown(self) -> tuple[tuple[FooterKey, ...], FooterKey | None]:
        """The screen's bindings shown in the footer, one per action (the first), and the
        palette's key if it has one."""
        app = self.app
        palette_key = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else ""
        keys, palette, actions = [], None, set()
        for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items():
            shown = FooterKey(
                binding.key,
                app.get_key_display(binding),
                binding.description,
                enabled,
                tooltip,
                help=binding.action == "help",
            )
            if key == palette_key:
                palette = FooterKey(
                    shown.key, shown.shown, shown.description, enabled, binding.tooltip or binding.description
                )
            elif binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append(shown)
        if self.screen.is_modal and not any(key.help for key in keys):
            # A dialog stops the app's keys but its priority ones, which active_bindings
            # leaves out: F1 works in every dialog, so it is shown there too.
            for node, binding in bindings_in_reach(self.screen):
                if node is app and binding.action == "help":
                    shown_as, tip = app.get_key_display(binding), binding.tooltip or binding.description
                    keys.append(FooterKey(binding.key, shown_as, binding.description, True, tip, help=True))
                    break
        return tuple(keys), palette

    # Drawing

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keys-footer--key")
        description_style = self.get_component_rich_style("keys-footer--description")
        hover = self.get_component_rich_style("keys-footer--hover")
        width = self.size.width
        palette = self._piece(self.palette, key_style, description_style, hover) if self.palette else None
        room = width - (palette.cell_len + 2 if palette else 0)  # the palette's edge and margin
        line = Text(no_wrap=True, overflow="crop", end="")
        self._places = []
        # The help key is drawn last whatever the width: when other keys do not fit, it
        # says that F1 lists them, so that none is out of reach at 80 columns.
        helper = next((key for key in self.keys if key.help), None)
        keys = [key for key in self.keys if not key.help]
        pieces = [self._piece(key, key_style, description_style, hover) for key in keys]
        if helper is not None:
            if sum(piece.cell_len for piece in pieces) + self._width(helper) > room:
                helper = replace(helper, description="More keys")
            room -= self._width(helper)
        for key, piece in zip(keys, pieces, strict=True):
            if line.cell_len + piece.cell_len > room:
                break
            self._places.append((line.cell_len, line.cell_len + piece.cell_len, key))
            line.append_text(piece)
        if helper is not None:
            piece = self._piece(helper, key_style, description_style, hover)
            self._places.append((line.cell_len, line.cell_len + piece.cell_len, helper))
            line.append_text(piece)
            room += piece.cell_len  # drawn within the room kept for it
        if palette is not None and self.palette is not None:
            line.append(" " * max(room - line.cell_len, 0))
            line.append("▏", self.get_component_rich_style("keys-footer--edge"))
            self._places.append((line.cell_len, line.cell_len + palette.cell_len, self.palette))
            line.append_text(palette)
            line.append(" ")
        return line

    @staticmethod
    def _width(key: FooterKey) -> int:
        """The cells ``key`` takes when drawn (see _piece)."""
        return cell_len(f" {key.shown} {key.description} ")

    def _piece(self, key: FooterKey, key_style: Style, description_style: Style, hover: Style) -> Text:
        """`` key description ``, as a FooterKey draws it, dim if the key does nothing now."""
        piece = Text.assemble((f" {key.shown} ", key_style), (f"{key.description} ", description_style))
        if not key.enabled:
            piece.stylize(Style(dim=True))
        if key == self.hovered:
            piece.stylize(hover)
        return piece

    def key_at(self, x: int) -> FooterKey | None:
        """The key drawn at column ``x``, if any."""
        return next((key for start, end, key in self._places if start <= x < end), None)

    # The mouse

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self.key_at(event.x)
        if key != self.hovered:
            self.hovered = key
            self.tooltip = (key.tooltip or None) if key else None
            self.refresh()

    def on_leave(self) -> None:
        if self.hovered is not None:
            self.hovered = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self.key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
