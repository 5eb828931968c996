"""Customers: a list that filters as you type and pages through any number of rows,
the customer's detail, and the add/edit form."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from crm_tui.display import shown
from crm_tui.logic.core.errors import Conflict, CrmError, Duplicate
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.core.vocabulary import CustomerKind, CustomerSort, Lifecycle
from crm_tui.logic.customers import contacts, customers, tasks, timeline
from crm_tui.logic.customers.schemas import (
    ActivityCreate,
    ContactCreate,
    CustomerCreate,
    CustomerRead,
    CustomerUpdate,
    TaskCreate,
)
from crm_tui.screens.base import CrmModal, CrmScreen
from crm_tui.screens.widgets.dialogs import TextPrompt
from crm_tui.screens.widgets.row_table import Column, RowTable

PAGE = 60  # rows per page: a screenful or two, never the whole table
COLUMNS = (  # on a narrow terminal the last ones are left out first
    Column("Ref", 9),
    Column("Name", 20, grow=4),
    Column("Stage", 8),
    Column("Owner", 8),
    Column("Email", 16, grow=3),
    Column("Phone", 13),
    Column("City", 10, grow=1),
    Column("Tags", 10, grow=1),
)


class CustomersScreen(CrmScreen):
    """The customer list."""

    BINDINGS = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="customers.filter",
            tooltip="Type to filter by name, email or phone",
        ),
        Binding("n", "new", "New", id="customers.new", tooltip="Add a customer"),
        Binding("s", "sort", "Sort", id="customers.sort", tooltip="Sort by name, created or updated"),
        Binding("g", "stage", "Stage", id="customers.stage", tooltip="Show one lifecycle stage, or all"),
        Binding(
            "a", "archived", "Archived", id="customers.archived", tooltip="Show archived customers instead"
        ),
        Binding("escape", "clear", "Clear filter", id="customers.clear", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort = CustomerSort.alphabetical
        self.stage: Lifecycle | None = None
        self.archived = False
        self.anchors: list[str | None] = [None]  # where each page we went through started
        self.next_after: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filter-bar"):
            yield Input(placeholder="Filter: name, email or phone…", id="filter")
        yield Static("", id="status", classes="hint")
        yield RowTable(COLUMNS, id="table")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        if self.query_one(RowTable).keys:
            self.load(self.anchors[-1])  # back from a detail or a form: show what changed

    def load(self, after: str | None = None, *, cursor_last: bool = False) -> None:
        text = self.query_one("#filter", Input).value
        archived = "archived" if self.archived else "active"

        def show(page) -> None:
            self.fill(page, cursor_last=cursor_last)

        self.call(
            customers.list_customers,
            text=text,
            lifecycle=self.stage,
            sort=self.sort,
            archived=archived,
            limit=PAGE,
            after=after,
            then=show,
            key="list",
        )

    def fill(self, page, *, cursor_last: bool = False) -> None:
        rows = [
            (
                c.ref,
                (
                    c.ref,
                    c.name,
                    c.lifecycle.value,
                    c.owner or "",
                    c.email or "",
                    c.phone or "",
                    c.city or "",
                    ", ".join(c.tags),
                ),
            )
            for c in page.customers
        ]
        self.query_one(RowTable).set_rows(rows, cursor_last=cursor_last)
        self.next_after = page.next_after
        page_number = len(self.anchors)
        more = "; more below" if page.next_after else ""
        stage = f", stage {self.stage}" if self.stage else ""
        what = "archived customers" if self.archived else "customers"
        count = len(page.customers)
        self.query_one("#status", Static).update(
            f"{what.capitalize()} by {self.sort}{stage}: page {page_number}, {count} shown{more}",
            layout=False,  # one line whatever it says: no need to lay the screen out again
        )

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self.anchors = [None]
        self.load()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one(RowTable).focus()

    @on(RowTable.PageWanted)
    def turn_page(self, event: RowTable.PageWanted) -> None:
        if event.forward and self.next_after:
            self.anchors.append(self.next_after)
            self.load(self.next_after)
        elif not event.forward and len(self.anchors) > 1:
            self.anchors.pop()
            self.load(self.anchors[-1], cursor_last=True)

    @on(RowTable.Selected)
    def open_customer(self, event: RowTable.Selected) -> None:
        self.app.push_screen(CustomerDetailScreen(event.key))

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear(self) -> None:
        self.query_one("#filter", Input).value = ""

    def action_new(self) -> None:
        def opened(saved: str | None) -> None:
            if saved:
                self.app.push_screen(CustomerDetailScreen(saved))

        self.app.push_screen(CustomerForm(), opened)

    def action_sort(self) -> None:
        order = list(CustomerSort)
        self.sort = order[(order.index(self.sort) + 1) % len(order)]
        self.anchors = [None]
        self.load()

    def action_stage(self) -> None:
        cycle: list[Lifecycle | None] = [None, *Lifecycle]
        self.stage = cycle[(cycle.index(self.stage) + 1) % len(cycle)]
        self.anchors = [None]
        self.load()

    def action_archived(self) -> None:
        self.archived = not self.archived
        self.anchors = [None]
        self.load()


class CustomerDetailScreen(CrmScreen):
    """One customer: the record, contacts, open tasks and the timeline."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="customer.back"),
        Binding("e", "edit", "Edit", id="customer.edit"),
        Binding("n", "note", "Note", id="customer.note", tooltip="Add a note to the timeline"),
        Binding("t", "task", "Task", id="customer.task", tooltip="Plan a follow-up"),
        Binding("c", "contact", "Contact", id="customer.contact", tooltip="Add a contact"),
        Binding("a", "archive", "Archive/restore", id="customer.archive"),
    ]

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference
        self.customer: CustomerRead | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("", id="record", classes="record")
            yield Label("Contacts", classes="title")
            yield DataTable(id="contacts", cursor_type="row", classes="section")
            yield Label("Open tasks", classes="title")
            yield DataTable(id="tasks", cursor_type="row", classes="section")
            yield Label("Timeline", classes="title")
            yield DataTable(id="timeline", cursor_type="row", classes="section")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#contacts", DataTable).add_columns("Ref", "Name", "Title", "Email", "Phone")
        self.query_one("#tasks", DataTable).add_columns("Ref", "Due", "Task", "Assignee")
        self.query_one("#timeline", DataTable).add_columns("When", "Kind", "By", "Text")
        self.refresh_detail()

    def refresh_detail(self) -> None:
        self.call(customers.customer_detail, self.reference, then=self.show)

    def show(self, detail) -> None:
        self.customer = c = detail.customer
        self.sub_title = f"{c.ref} {c.name}"
        lines = [
            f"[b]{c.name}[/b]  {c.ref}  {c.kind.value}, {c.lifecycle.value}"
            + ("  [red]archived[/red]" if c.archived_at else ""),
            " · ".join(x for x in (c.email, c.phone, c.website) if x),
            " · ".join(x for x in (c.street, c.postcode, c.city, c.country) if x),
            f"Owner: {c.owner or '-'}   Segment: {c.segment or '-'}   Tags: {', '.join(c.tags) or '-'}",
        ]
        self.query_one("#record", Static).update("\n".join(line for line in lines if line.strip()))
        self._fill(
            "#contacts",
            [(p.ref, p.name, p.title or "", p.email or "", p.phone or "") for p in detail.contacts],
        )
        self._fill("#tasks", [(t.ref, shown(t.due), t.title, t.assignee or "") for t in detail.open_tasks])
        self._fill(
            "#timeline",
            [
                (shown(a.occurred_at), a.kind.value, a.author or "", (a.subject or a.body)[:120])
                for a in detail.timeline
            ],
        )

    def _fill(self, selector: str, rows: list[tuple]) -> None:
        table = self.query_one(selector, DataTable)
        table.clear()
        for row in rows:
            table.add_row(*row)

    def action_edit(self) -> None:
        if self.customer:
            self.app.push_screen(CustomerForm(self.customer), lambda saved: saved and self.refresh_detail())

    def action_note(self) -> None:
        def add(text: str | None) -> None:
            if text:
                self.call(
                    timeline.add_activity,
                    ActivityCreate(customer=self.reference, body=text),
                    then=lambda _: self.refresh_detail(),
                )

        self.app.push_screen(TextPrompt("Note", "What happened?"), add)

    def action_task(self) -> None:
        def add(text: str | None) -> None:
            if text:
                self.call(
                    tasks.add_task,
                    TaskCreate(title=text, customer=self.reference),
                    then=lambda _: self.refresh_detail(),
                )

        self.app.push_screen(TextPrompt("Follow-up task", "What is to be done? (yours, no due date)"), add)

    def action_contact(self) -> None:
        def add(text: str | None) -> None:
            if text:
                self.call(
                    contacts.add_contact,
                    ContactCreate(customer=self.reference, name=text),
                    then=lambda _: self.refresh_detail(),
                )

        self.app.push_screen(TextPrompt("New contact", "The person's name"), add)

    def action_archive(self) -> None:
        if self.customer is None:
            return
        step = customers.restore_customer if self.customer.archived_at else customers.archive_customer
        self.call(
            step,
            self.reference,
            then=lambda c: (
                self.notify(f"{c.ref} {'archived' if c.archived_at else 'restored'}"),
                self.refresh_detail(),
            ),
        )


FIELDS = [
    ("name", "Name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("website", "Website"),
    ("company", "Company (for a person)"),
    ("segment", "Segment"),
    ("owner", "Owner (username)"),
    ("street", "Street"),
    ("postcode", "Postcode"),
    ("city", "City"),
    ("country", "Country (ISO code)"),
    ("industry", "Industry"),
    ("tags", "Tags (comma separated)"),
]


class CustomerForm(CrmModal):
    """Add a customer, or edit one. Errors show beside the field, and nothing typed is lost;
    a record changed meanwhile can be reloaded under the user's own changes."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "Save", id="form.save", priority=True),
    ]

    def __init__(self, customer: CustomerRead | None = None) -> None:
        super().__init__()
        self.customer = customer
        self.version = customer.version if customer else None
        self.force = False

    def compose(self) -> ComposeResult:
        title = f"Edit {self.customer.ref} {self.customer.name}" if self.customer else "New customer"
        with VerticalScroll(classes="dialog"):
            yield Label(title, classes="title")
            yield Static("", id="form-error", classes="error -empty")
            with Horizontal(classes="buttons"):
                yield Select(
                    [(k.value, k.value) for k in CustomerKind],
                    value=self._value("kind") or "company",
                    id="kind",
                    allow_blank=False,
                )
                yield Select(
                    [(s.value, s.value) for s in Lifecycle],
                    value=self._value("lifecycle") or "lead",
                    id="lifecycle",
                    allow_blank=False,
                )
            for name, label in FIELDS:
                yield Label(label, classes="field-label")
                yield Input(value=self._value(name), id=name)
                yield Static("", id=f"error-{name}", classes="error -empty")
            with Horizontal(classes="buttons"):
                yield Button("Reload", id="reload", variant="warning", classes="-hidden")
                yield Button("Save anyway", id="force", variant="warning")
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#force").display = False
        self.query_one("#reload").display = False
        self.query_one("#name", Input).focus()

    def _value(self, name: str) -> str:
        if self.customer is None:
            return ""
        value = getattr(self.customer, name)
        if name == "tags":
            return ", ".join(value)
        return "" if value is None else str(getattr(value, "value", value))

    def typed(self) -> dict[str, object]:
        values: dict[str, object] = {name: self.query_one(f"#{name}", Input).value for name, _ in FIELDS}
        values["kind"] = self.query_one("#kind", Select).value
        values["lifecycle"] = self.query_one("#lifecycle", Select).value
        return values

    def _clear_errors(self) -> None:
        for error in self.query(".error").results(Static):
            error.update("")
            error.add_class("-empty")

    def _show_error(self, error: CrmError) -> None:
        field = getattr(error, "field", None)
        target = self.query(f"#error-{field}") if field else None
        box = target.first(Static) if target else self.query_one("#form-error", Static)
        box.update(str(error))
        box.remove_class("-empty")
        self.query_one("#force").display = isinstance(error, Duplicate)
        self.query_one("#reload").display = isinstance(error, Conflict)
        if field and self.query(f"#{field}"):
            self.query_one(f"#{field}").focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        self._clear_errors()
        values = self.typed()
        tags = [tag.strip() for tag in str(values.pop("tags")).split(",") if tag.strip()]
        try:
            if self.customer is None:
                data = validated(
                    CustomerCreate,
                    {**{k: v for k, v in values.items() if v != ""}, "name": values["name"], "tags": tags},
                )
                self.call(
                    customers.add_customer,
                    data,
                    force=self.force,
                    then=lambda c: self.dismiss(c.ref),
                    failed=self._show_error,
                )
            else:
                changed = self._changes(values)
                data = validated(CustomerUpdate, changed)
                self.call(
                    customers.update_customer,
                    self.customer.ref,
                    data,
                    expected_version=self.version,
                    force=self.force,
                    then=lambda c: self._saved_with_tags(c, tags),
                    failed=self._show_error,
                )
        except CrmError as error:
            self._show_error(error)

    def _changes(self, values: dict[str, object]) -> dict[str, object]:
        """Only the fields the user changed, so an edit never rewrites the others."""
        return {name: value for name, value in values.items() if value != self._value(name)} or {
            "name": values["name"]
        }

    def _saved_with_tags(self, customer: CustomerRead, tags: list[str]) -> None:
        added = [tag for tag in tags if tag not in customer.tags]
        removed = [tag for tag in customer.tags if tag not in [t.lower() for t in tags]]
        if added:
            self.call(customers.tag_customer, customer.ref, added, failed=self._show_error)
        if removed:
            self.call(customers.untag_customer, customer.ref, removed, failed=self._show_error)
        self.dismiss(customer.ref)

    @on(Button.Pressed, "#save")
    def save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#force")
    def force_pressed(self) -> None:
        self.force = True
        self.action_save()

    @on(Button.Pressed, "#reload")
    def reload_pressed(self) -> None:
        """Take the stored record as the new base and keep what the user changed on top."""
        assert self.customer is not None
        mine = self._changes(self.typed())

        def rebase(fresh: CustomerRead) -> None:
            self.customer, self.version = fresh, fresh.version
            for name, _ in FIELDS:
                if name not in mine:
                    self.query_one(f"#{name}", Input).value = self._value(name)
            self._clear_errors()
            self.query_one("#reload").display = False
            self.notify(f"Reloaded {fresh.ref} (version {fresh.version}); your changes are kept. Save again.")

        self.call(customers.get_customer, self.customer.ref, then=rebase)
