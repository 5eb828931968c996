"""Forms and pickers: every dialog that asks for a record's fields is one of these.

A form is declared as its fields and the logic call that saves them. It keeps what was
typed when the logic refuses it (the error shows beside the field), shows its save key in
its title and footer, scrolls on a small terminal, and asks before Esc discards changes.
A picker field chooses a user, customer, stage or product from a list that narrows as
you type, so nobody has to remember a username or a reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from rich.markup import escape
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from crm_tui.logic.core.errors import CrmError
from crm_tui.screens.base import CrmModal
from crm_tui.screens.widgets.dialogs import Confirm
from crm_tui.screens.widgets.keys_footer import KeysFooter

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm

SAVE_KEY = "ctrl+s"
PICKS = 30  # choices a picker shows at once: narrowing by typing finds the rest


CUSTOM_LABEL = "Custom fields (one a line: Name: value)"  # the field of custom_lines text


@dataclass(frozen=True)
class Choice:
    """One thing a picker offers: the value saved, and how people recognise it."""

    value: str
    label: str
    detail: str = ""


# A source of choices: called in a worker with the open crm and the text typed so far.
Source = Callable[["Crm", str], Sequence[Choice]]


@dataclass(frozen=True)
class Field:
    """A form field. ``kind`` is a line of text, several lines, one of fixed
    ``choices``, or a ``pick`` from a ``source`` that narrows as you type."""

    name: str
    label: str
    kind: Literal["text", "lines", "choice", "pick"] = "text"
    choices: tuple[str, ...] = ()
    source: Source | None = None
    required: bool = False
    hint: str = ""


class Picker(CrmModal[Choice | None]):
    """Choose one of a source's choices; typing narrows the list. Enter takes the
    highlighted choice; with nothing to take, the picker says so and stays open."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", "Next", show=False, id="picker.next"),
        Binding("up", "move(-1)", "Previous", show=False, id="picker.previous"),
    ]

    def __init__(self, title: str, source: Source, text: str = "") -> None:
        super().__init__()
        self.heading, self.source, self.text = title, source, text
        self.choices: list[Choice] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker"):
            yield Label(self.heading, classes="title")
            yield Input(value=self.text, placeholder="Type to narrow…", id="pick-text")
            yield OptionList(id="pick-list")
            yield Static("", id="pick-error", classes="error -empty")
            yield Static("↑↓ choose · Enter take · Esc cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.narrow()

    def type(self, text: str) -> None:
        """Add to the text typed so far (keys that reached the field before the picker)."""
        if self.is_mounted:
            field = self.query_one(Input)
            field.insert_text_at_cursor(text)
        else:
            self.text += text

    @on(Input.Changed, "#pick-text")
    def narrow(self) -> None:
        self.call(self.source, self.query_one(Input).value.strip(), then=self.show, key="choices")

    def show(self, choices: Sequence[Choice]) -> None:
        self.choices = list(choices)[:PICKS]
        listing = self.query_one(OptionList)
        listing.clear_options()
        listing.add_options(
            [Option(Text(f"{c.label}  {c.detail}".rstrip()), id=str(i)) for i, c in enumerate(self.choices)]
        )
        listing.highlighted = 0 if self.choices else None
        typed = self.query_one(Input).value.strip()
        # Nothing at all to offer: the source may say where such records are made.
        none_yet = "" if typed else getattr(self.source, "none_yet", "")
        self._error("" if self.choices else none_yet or f"Nothing matches {typed!r}.")

    def _error(self, text: str) -> None:
        box = self.query_one("#pick-error", Static)
        box.update(text)
        box.set_class(not text, "-empty")

    def action_move(self, step: int) -> None:
        listing = self.query_one(OptionList)
        if self.choices:
            current = listing.highlighted or 0
            listing.highlighted = min(max(current + step, 0), len(self.choices) - 1)

    @on(Input.Submitted, "#pick-text")
    def take_highlighted(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self.choices):
            typed = self.query_one(Input).value.strip()
            self._error(f"Nothing matches {typed!r}: change the text, or Esc to cancel.")
            return
        self.dismiss(self.choices[index])

    @on(OptionList.OptionSelected)
    def take_clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickField(Widget, can_focus=True):
    """A form field holding a picked choice. Enter, a click or typing opens the picker."""

    DEFAULT_CSS = """
    PickField {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    PickField:focus {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    """
    BINDINGS = [
        Binding("enter,space", "pick", "Choose", id="pick.choose"),
        Binding("delete,backspace", "clear", "Clear", show=False, id="pick.clear"),
    ]

    label: reactive[str] = reactive("")

    class Changed(Message):
        def __init__(self, field: PickField) -> None:
            super().__init__()
            self.field = field

    def __init__(self, title: str, source: Source, value: str = "", label: str = "", *, id: str) -> None:
        super().__init__(id=id)
        self.title, self.source, self.value = title, source, value
        self.label = label or value
        self.picker: Picker | None = None  # the picker while it is open

    def render(self) -> Text:
        if self.label:
            return Text(f"{self.label} ▾")
        return Text("(none: Enter to choose) ▾", style="dim")

    def choose(self, choice: Choice) -> None:
        self.value, self.label = choice.value, choice.label
        self.post_message(self.Changed(self))

    def action_pick(self, text: str = "") -> None:
        def chosen(choice: Choice | None) -> None:
            self.picker = None
            if choice is not None:
                self.choose(choice)

        self.picker = Picker(self.title, self.source, text)
        self.app.push_screen(self.picker, chosen)

    def action_clear(self) -> None:
        self.value, self.label = "", ""
        self.post_message(self.Changed(self))

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and event.character and event.character != " ":
            event.stop()
            if self.picker is None:
                self.action_pick(event.character)
            else:  # typed fast, before the picker took the keys: they are its text
                self.picker.type(event.character)

    def on_click(self) -> None:
        self.action_pick()


class FormDialog(CrmModal[Any]):
    """A record's fields and the call that saves them; dismissed with what the call
    returned, or None when cancelled.

    ``save`` runs in a worker as ``save(crm, values)`` with every field's text (a
    picked field gives its choice's value); a refusal keeps the dialog open with the
    error beside its field.
    """

    DEFAULT_CSS = """
    FormDialog TextArea {
        height: 5;  /* a few lines to write in, at 80x24 as at 120x40 */
    }
    """
    BINDINGS = [
        Binding(SAVE_KEY, "save", "Save", id="form.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        save: Callable[[Crm, dict[str, str]], Any],
        *,
        values: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.heading, self.fields, self.save = title, list(fields), save
        self.initial = {field.name: (values or {}).get(field.name, "") for field in self.fields}
        self.labels = labels or {}  # how a picked value reads, e.g. a username's full name

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog form"):
            yield Label(f"{escape(self.heading)}  [dim]({SAVE_KEY} save · esc cancel)[/dim]", classes="title")
            yield Static("", id="form-error", classes="error -empty")
            for field in self.fields:
                mark = " *" if field.required else ""
                yield Label(f"{field.label}{mark}", classes="field-label")
                yield self._widget(field)
                yield Static("", id=f"error-{field.name}", classes="error -empty")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")
        yield KeysFooter()

    def _widget(self, field: Field) -> Widget:
        value = self.initial[field.name]
        widget_id = f"field-{field.name}"
        if field.kind == "lines":
            return TextArea(value, id=widget_id, classes="lines")
        if field.kind == "choice":
            options = [(choice, choice) for choice in field.choices]
            blank = not field.required
            chosen = value if value in field.choices else (Select.NULL if blank else field.choices[0])
            return Select(options, value=chosen, allow_blank=blank, id=widget_id)
        if field.kind == "pick":
            assert field.source is not None, f"{field.name}: a pick field needs a source"
            label = self.labels.get(field.name, value)
            return PickField(field.label, field.source, value, label, id=widget_id)
        return Input(value=value, placeholder=field.hint, id=widget_id)

    def on_mount(self) -> None:
        first = self.query_one(f"#field-{self.fields[0].name}") if self.fields else None
        if first is not None:
            first.focus()

    def values(self) -> dict[str, str]:
        """What the form holds now, as text by field name."""
        found = {}
        for field in self.fields:
            widget = self.query_one(f"#field-{field.name}")
            if isinstance(widget, TextArea):
                found[field.name] = widget.text
            elif isinstance(widget, Select):
                found[field.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, PickField):
                found[field.name] = widget.value
            else:
                assert isinstance(widget, Input)
                found[field.name] = widget.value
        return found

    def changed(self) -> dict[str, str]:
        """The fields whose text differs from what the form opened with."""
        return {name: text for name, text in self.values().items() if text != self.initial[name]}

    def set_value(self, name: str, value: str, label: str = "") -> None:
        """Put a value in a field (a picked value with how it reads)."""
        widget = self.query_one(f"#field-{name}")
        if isinstance(widget, PickField):
            widget.value, widget.label = value, label or value
        elif isinstance(widget, Input):
            widget.value = value

    def action_save(self) -> None:
        """Save what the fields hold once the keys typed before ctrl+s have reached them.

        ctrl+s is a priority key, taken as it arrives, while the keys before it may still
        wait in the focused field's queue (a paste, a fast typist); saving at once would
        store the text cut short, so the save is queued behind them.
        """
        field = self.focused
        if field is None:
            self._save_now()
        else:
            field.call_later(self._save_now)

    def _save_now(self) -> None:
        self._clear_errors()
        values = self.values()
        missing = [f for f in self.fields if f.required and not values[f.name].strip()]
        if missing:
            for field in missing:
                self._show(f"error-{field.name}", f"{field.label} is required.")
            return
        self.call(self.save, values, then=self.dismiss, failed=self.refused)

    def refused(self, error: CrmError) -> None:
        """Show a refusal beside its field (or above the fields), keeping what was typed."""
        field = getattr(error, "field", None)
        if field in {f.name for f in self.fields}:
            self._show(f"error-{field}", str(error))
            self.query_one(f"#field-{field}").focus()  # where the fix is to be typed
        else:
            self._show("form-error", str(error))

    def _show(self, box_id: str, text: str) -> None:
        box = self.query_one(f"#{box_id}", Static)
        box.update(text)
        box.remove_class("-empty")
        box.scroll_visible()

    def _clear_errors(self) -> None:
        for box in self.query(".error").results(Static):
            box.update("")
            box.add_class("-empty")

    def action_cancel(self) -> None:
        if not self.changed():
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(Confirm("Discard your changes?"), answered)

    @on(Button.Pressed, "#save")
    def save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()
