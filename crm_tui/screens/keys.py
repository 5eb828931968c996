"""Every key of the desk: the bindings the app and its screens declare, the key names a
keymap may use, and the keys at hand on a screen as F1 shows them.

The bindings are read from the classes themselves, so a screen added tomorrow is listed
(and its ids accepted in the settings file's keymap) without a list to keep up to date.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.keys import Keys, format_key
from textual.screen import Screen

# Where crm's key bindings are declared: the app, and every module of the screens package.
APP_MODULE = "crm_tui.app"
SCREENS_PACKAGE = "crm_tui.screens"

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
# Keys with a name of their own (f1, escape, left, pagedown, space...); "<any>" and its
# like are Textual's internal markers, not keys.
NAMED_KEYS = frozenset(key.value.rpartition("+")[2] for key in Keys if not key.value.startswith("<"))


@dataclass(frozen=True)
class DeclaredBinding:
    """A binding as a class of the desk declares it (``escape,enter`` stays one binding)."""

    owner: type[DOMNode]  # the app, a screen or a widget
    binding: Binding


@cache
def every_binding() -> tuple[DeclaredBinding, ...]:
    """Every binding declared by crm's app and by the screens and widgets of
    crm_tui.screens, in module and class order."""
    found: list[DeclaredBinding] = []
    for module in _desk_modules():
        classes = [
            value
            for value in vars(module).values()
            if inspect.isclass(value) and issubclass(value, DOMNode) and value.__module__ == module.__name__
        ]
        for owner in sorted(classes, key=lambda cls: cls.__qualname__):
            declared: list[BindingType] = owner.__dict__.get("BINDINGS", [])
            found.extend(DeclaredBinding(owner, _as_binding(item)) for item in declared)
    return tuple(found)


def binding_ids() -> frozenset[str]:
    """The ids a keymap may name: those of every binding the desk declares."""
    return frozenset(item.binding.id for item in every_binding() if item.binding.id)


def _desk_modules() -> Iterator[ModuleType]:
    yield importlib.import_module(APP_MODULE)
    package = importlib.import_module(SCREENS_PACKAGE)
    for module in pkgutil.walk_packages(package.__path__, prefix=f"{SCREENS_PACKAGE}."):
        yield importlib.import_module(module.name)


def _as_binding(item: BindingType) -> Binding:
    """A BINDINGS entry as a Binding; Textual also takes a (key, action[, description]) tuple."""
    if isinstance(item, Binding):
        return item
    key, action, *description = item
    return Binding(key, action, description[0] if description else "")


# The keymap


def is_key_name(key: str) -> bool:
    """Whether ``key`` names a key Textual can bind: modifiers (ctrl, shift, alt, meta,
    super, hyper) joined by + to a named key (f1, escape, left), a letter or digit, or a
    character's name (less_than_sign, slash); a lone character (``<``, ``W``) too."""
    if len(key) == 1:
        return key.isprintable() and not key.isspace()
    *modifiers, name = key.split("+")
    if not name or not MODIFIERS.issuperset(modifiers):
        return False
    if len(name) == 1:
        # Textual turns a lone "<" into less_than_sign, but not the "<" of "ctrl+<".
        return name.isalnum() or not modifiers
    return name in NAMED_KEYS or len(format_key(name)) == 1


@dataclass(frozen=True)
class KeymapCheck:
    usable: dict[str, str]  # the entries the desk can apply
    problems: list[str]  # one sentence for each entry it cannot, naming the entry


def check_keymap(keymap: Mapping[str, str]) -> KeymapCheck:
    """The keymap entries the desk can apply, and a sentence for each it cannot: an id
    that no binding has, or a key name Textual does not know. Unknown keys are left out
    of the entry, so a typo leaves the binding on its own key instead of on none."""
    ids = binding_ids()
    usable: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in ids:
            problems.append(f'keymap "{binding_id}" is no binding id; see F1 for the ids')
            continue
        named = [key.strip() for key in keys.split(",")]
        good = [key for key in named if is_key_name(key)]
        for key in named:
            if key not in good:
                problems.append(
                    f'keymap "{binding_id}" = "{keys}": "{key}" is no key name '
                    "(like ctrl+n, f9, shift+left, <)"
                )
        if good:
            usable[binding_id] = ",".join(good)
    return KeymapCheck(usable, problems)


# The keys at hand, for F1

EVERYWHERE = "Everywhere"
THIS_SCREEN = "On this screen"
THIS_DIALOG = "In this dialog"
AT_THE_CURSOR = "Where the cursor is"


@dataclass(frozen=True)
class KeyRow:
    keys: str  # as the footer shows them, several joined by " / "
    does: str
    id: str  # for the keymap setting; "" for Textual's own bindings


@dataclass(frozen=True)
class KeyGroup:
    title: str
    rows: list[KeyRow]


def keys_at_hand(screen: Screen) -> list[KeyGroup]:
    """The keys that work on ``screen`` now, grouped by where they are declared (the
    app's, the screen's, the focused widget's and what holds it), each group sorted by
    key and every key named as the footer names it (``<``, not less_than_sign).

    In a dialog only the app's priority keys reach past it, so only those are listed."""
    app = screen.app
    area = {app: EVERYWHERE, screen: THIS_DIALOG if screen.is_modal else THIS_SCREEN}
    collected: dict[str, dict[tuple[str, str, str], list[str]]] = {
        title: {} for title in (EVERYWHERE, area[screen], AT_THE_CURSOR)
    }
    for node, binding in bindings_in_reach(screen):
        if binding.description:
            row = (binding.description, binding.id or "", binding.action)
            shown = collected[area.get(node, AT_THE_CURSOR)].setdefault(row, [])
            key = app.get_key_display(binding)
            if key not in shown:
                shown.append(key)
    groups = []
    for title, rows in collected.items():
        listed = [
            KeyRow(" / ".join(sorted(keys, key=_key_order)), does, binding_id)
            for (does, binding_id, _action), keys in rows.items()
        ]
        if listed:
            groups.append(KeyGroup(title, sorted(listed, key=lambda row: _key_order(row.keys))))
    return groups


def bindings_in_reach(screen: Screen) -> Iterator[tuple[DOMNode, Binding]]:
    """Each binding a key press on ``screen`` can reach, with the node declaring it."""
    for active in screen.active_bindings.values():
        yield active.node, active.binding
    if screen.is_modal:
        # A dialog stops the app's bindings except its priority ones, which
        # active_bindings leaves out. The binding chain (Textual's, private) is where
        # those are found with the keymap applied.
        for node, bindings in screen._binding_chain:
            if node is screen.app:
                yield from ((node, binding) for _key, binding in bindings if binding.priority)


def _key_order(shown: str) -> tuple[object, ...]:
    """Keys in a reader's order: case aside, and f2 before f10."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", shown.casefold()))
