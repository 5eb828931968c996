"""Duplicate customers: the groups that look alike, and merging two of a group into one.

A merge cannot be undone (the merged customer's records move and it is archived), so
after the two are chosen the desk asks once more before it merges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from crm_tui.display import shown
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.customers import duplicates
from crm_tui.logic.customers.schemas import CustomerRead, DuplicateGroup, MergeResult
from crm_tui.screens.base import CrmScreen
from crm_tui.screens.record_table import RecordTable
from crm_tui.screens.widgets.dialogs import Confirm
from crm_tui.screens.widgets.forms import Field, FormDialog
from crm_tui.screens.widgets.keys_footer import KeysFooter

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm


def choice_text(customer: CustomerRead) -> str:
    """How a customer reads in the merge form: its reference first, so it can be told
    apart from a namesake and read back."""
    return " · ".join(x for x in (f"{customer.ref} {customer.name}", customer.city, customer.email) if x)


def merge_form(group: DuplicateGroup, keep: str) -> FormDialog:
    """Choose which customer of ``group`` stays (``keep`` first) and which is merged into
    it. Dismissed with the two references (survivor, merged), or None."""
    texts = [choice_text(c) for c in group.customers]
    first = next((t for t, c in zip(texts, group.customers, strict=True) if c.ref == keep), texts[0])
    second = next(t for t in texts if t != first)
    fields = [
        Field("survivor", "Keep this customer", kind="choice", choices=tuple(texts), required=True),
        Field("merged", "Merge this one into it", kind="choice", choices=tuple(texts), required=True),
    ]

    def chosen(crm: Crm, values: dict[str, str]) -> tuple[str, str]:
        survivor, merged = values["survivor"].split()[0], values["merged"].split()[0]
        if survivor == merged:
            raise Invalid(
                "choose two different customers: one is kept, the other merged into it", field="merged"
            )
        return survivor, merged

    title = f"Merge duplicates: same {group.match} {group.value}"
    return FormDialog(title, fields, chosen, values={"survivor": first, "merged": second})


class DuplicatesScreen(CrmScreen):
    """Active customers that share an email, a phone, or a name at one company."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="duplicates.back"),
        Binding(
            "m", "merge", "Merge", id="duplicates.merge", tooltip="Merge two customers of the group into one"
        ),
        Binding("r", "refresh", "Refresh", id="duplicates.refresh"),
    ]
    DEFAULT_CSS = """
    DuplicatesScreen #groups {
        height: 1fr;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.groups: dict[str, tuple[DuplicateGroup, CustomerRead]] = {}  # by row key

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Looking for customers that look alike…", id="duplicates-status", classes="hint")
        yield RecordTable("Same", "Value", "Ref", "Name", "City", "Email", "Created", id="groups")
        yield KeysFooter()

    def on_mount(self) -> None:
        # Loaded here, after a merge and on r: the dialogs opened from here change
        # nothing until the merge itself.
        self.sub_title = "Duplicate customers"
        self.action_refresh()

    def records_changed(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.call(duplicates.find_duplicates, then=self.show, key="duplicates")

    def show(self, groups: list[DuplicateGroup]) -> None:
        self.groups = {}
        rows = []
        for number, group in enumerate(groups):
            for place, customer in enumerate(group.customers):
                key = f"{number}:{customer.ref}"  # a customer can be in two groups (email and phone)
                self.groups[key] = (group, customer)
                head = (group.match, group.value) if place == 0 else ("", "")
                rows.append(
                    (
                        key,
                        (
                            *head,
                            customer.ref,
                            customer.name,
                            customer.city or "",
                            customer.email or "",
                            shown(customer.created_at.date()),
                        ),
                    )
                )
        self.query_one(RecordTable).show(rows)
        status = (
            f"{len(groups)} group{'' if len(groups) == 1 else 's'} of customers that look alike. "
            "Enter or m merges two of a group."
            if groups
            else "No duplicates: no two active customers share an email, a phone, or a name at one company."
        )
        self.query_one("#duplicates-status", Static).update(status)

    @on(DataTable.RowSelected, "#groups")
    def row_chosen(self) -> None:
        self.action_merge()

    def action_merge(self) -> None:
        found = self.groups.get(self.query_one(RecordTable).current or "")
        if found is None:
            self.notify("No duplicates to merge.", severity="warning")
            return
        group, customer = found

        def chosen(pair: tuple[str, str] | None) -> None:
            if pair is not None:
                self.confirm_merge(group, *pair)

        self.app.push_screen(merge_form(group, customer.ref), chosen)

    def confirm_merge(self, group: DuplicateGroup, survivor: str, merged: str) -> None:
        names = {c.ref: c.name for c in group.customers}
        question = (
            f"Merge {merged} {names[merged]}\ninto {survivor} {names[survivor]}?\n\n"
            f"Its contacts, deals, tickets, orders, tasks and\ntimeline move to {survivor}, "
            f"and {merged} is archived.\nThis cannot be undone."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(duplicates.merge_customers, survivor, merged, then=self.merged)

        self.app.push_screen(Confirm(question), answered)

    def merged(self, result: MergeResult) -> None:
        moved = ", ".join(f"{len(refs)} {kind}" for kind, refs in result.moved.items() if refs)
        self.notify(f"Merged {result.merged} into {result.survivor.ref}" + (f" ({moved})" if moved else ""))
        self.action_refresh()
