"""The stylesheet made whole at start, so that no screen's first showing parses it again.

Textual adds a widget class's default CSS to the stylesheet when the class's first widget
is mounted, and the next widget styled then parses the whole stylesheet again (8 ms on
the desk's) before styling it; and a mode's screen shown for the first time restyles the
whole app, twice. The board's first showing paid 40 ms for these before drawing anything.
"""

from __future__ import annotations

from inspect import getfile

from textual.app import App
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget


def _widget_classes() -> list[type[Widget]]:
    """crm's own widget and screen classes (its screens import them all), in a fixed
    order: the order of sources decides between equal rules, so it must not depend on
    what else happens to be imported."""
    found: list[type[Widget]] = []
    waiting: list[type[Widget]] = [Widget]
    while waiting:
        cls = waiting.pop()
        found.append(cls)
        waiting.extend(cls.__subclasses__())
    ours = {cls for cls in found if cls.__module__.startswith("crm_tui.")}
    return sorted(ours, key=lambda cls: (cls.__module__, cls.__qualname__))


def add_every_default_css(app: App) -> None:
    """Give ``app``'s stylesheet the default CSS of crm's widget classes and the Textual
    classes they build on, as Textual would when mounting each class's first widget:
    the same place, weight and scope."""
    for cls in _widget_classes():
        # A base's CSS weighs less than its subclass's: Textual ranks them by distance.
        for distance, base in enumerate(DOMNode._css_bases(cls)):
            css = base.__dict__.get("DEFAULT_CSS", "")
            if not css:
                continue
            try:
                place = getfile(base)
            except (TypeError, OSError):
                place = ""
            scope = base._css_type_name if base.__dict__.get("SCOPED_CSS", True) else ""
            app.stylesheet.add_source(
                css,
                read_from=(place, f"{base.__name__}.DEFAULT_CSS"),
                is_default_css=True,
                tie_breaker=-distance,
                scope=scope,
            )


def styled_as_the_app_is(screen: Screen) -> None:
    """Mark a new ``screen`` as styled by the stylesheet as it is now.

    Its widgets are styled as they are mounted; without the mark, showing it as a mode's
    screen makes Textual restyle every widget of the app (twice), for nothing new once
    the stylesheet is whole. A later change of theme still restyles it when shown. The
    app's first screen is left to Textual, which styles the app as it starts.
    """
    try:
        app = screen.app
    except RuntimeError:  # made outside a running app (no active app): styled when shown
        return
    if not app.is_running or not app.screen_stack:
        return  # the app's first screen: Textual styles the app as it starts
    screen._css_update_count = app._css_update_count
