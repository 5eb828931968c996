"""Small dialogs: ask for a line of text, or for a yes."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line of text; dismissed with the text, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, question: str, *, value: str = "", required: bool = True) -> None:
        super().__init__()
        self.heading, self.question, self.value, self.required = title, question, value, required

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="title")
            yield Label(self.question, classes="field-label")
            yield Input(value=self.value, id="answer")
            yield Static("", id="prompt-error", classes="error -empty")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def accept(self) -> None:
        text = self.query_one(Input).value.strip()
        if self.required and not text:
            error = self.query_one("#prompt-error", Static)
            error.update("This cannot be empty.")
            error.remove_class("-empty")
            return
        self.dismiss(text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """Ask a yes/no question."""

    BINDINGS = [Binding("y", "yes", "Yes", id="confirm.yes"), Binding("escape", "no", "No", id="confirm.no")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("No (esc)", id="no")
                yield Button("Yes (y)", id="yes", variant="primary")

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)
