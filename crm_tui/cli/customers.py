"""`crm customer ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.batch import add_from
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import MAX_ROWS, Limit, crm, page_size, refuse_mixed, supplied
from crm_tui.logic.core.vocabulary import CustomerKind, CustomerSort, Lifecycle

app = typer.Typer(no_args_is_help=True, add_completion=False)

LIST_COLUMNS = [
    ("ref", "Ref"),
    ("name", "Name"),
    ("lifecycle", "Stage"),
    ("segment", "Segment"),
    ("owner", "Owner"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("city", "City"),
    ("tags", "Tags"),
]
DETAIL_FIELDS = [
    ("ref", "Ref"),
    ("name", "Name"),
    ("kind", "Kind"),
    ("company", "Company"),
    ("lifecycle", "Stage"),
    ("segment", "Segment"),
    ("owner", "Owner"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("website", "Website"),
    ("street", "Street"),
    ("postcode", "Postcode"),
    ("city", "City"),
    ("country", "Country"),
    ("industry", "Industry"),
    ("source", "Source"),
    ("tags", "Tags"),
    ("custom", "Custom"),
    ("created_at", "Created"),
    ("updated_at", "Updated"),
    ("archived_at", "Archived"),
    ("merged_into", "Merged into"),
    ("version", "Version"),
]

Ref = Annotated[str, typer.Argument(help="Customer reference, like C-12 (or 12).", show_default=False)]


def _fields(name: str | None, **options: object) -> dict[str, object]:
    """The options the user gave, as schema fields (``""`` clears a field on edit)."""
    given = supplied(options)
    if name is not None:
        given["name"] = name
    return given


EmailOpt = Annotated[str | None, typer.Option(help="Email address.", show_default=False)]
PhoneOpt = Annotated[str | None, typer.Option(help="Phone; +country code, or read with CRM_DEFAULT_COUNTRY.")]
StageOpt = Annotated[Lifecycle | None, typer.Option("--stage", help="Lifecycle stage.", show_default=False)]
KindOpt = Annotated[CustomerKind | None, typer.Option(help="company or person.", show_default=False)]
FieldOpt = output.CustomFields


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Customer name.", show_default=False)] = None,
    kind: KindOpt = None,
    company: Annotated[str | None, typer.Option(help="For a person: the organisation they are with.")] = None,
    stage: StageOpt = None,
    segment: Annotated[str | None, typer.Option(help="Segment or tier, e.g. enterprise, smb.")] = None,
    owner: Annotated[str | None, typer.Option(help="Username of the owner (me for yourself).")] = None,
    email: EmailOpt = None,
    phone: PhoneOpt = None,
    website: Annotated[str | None, typer.Option()] = None,
    street: Annotated[str | None, typer.Option()] = None,
    postcode: Annotated[str | None, typer.Option()] = None,
    city: Annotated[str | None, typer.Option()] = None,
    country: Annotated[str | None, typer.Option(help="Two-letter ISO code.")] = None,
    industry: Annotated[str | None, typer.Option()] = None,
    source: Annotated[str | None, typer.Option(help="Where the customer came from.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Tag (repeatable).")] = None,
    field: FieldOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Add even if it looks like a duplicate.")] = False,
    from_file: Annotated[
        str | None,
        typer.Option("--from", help="JSON Lines file (- for stdin): one customer per line."),
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Add a customer (or many, with --from). A likely duplicate is refused unless --force."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.customers import customers
    from crm_tui.logic.customers.schemas import CustomerCreate

    options = dict(
        kind=kind, company=company, lifecycle=stage, segment=segment, owner=owner, email=email,
        phone=phone, website=website, street=street, postcode=postcode, city=city, country=country,
        industry=industry, source=source,
    )  # fmt: skip
    if from_file is not None:
        refuse_mixed(from_file, name=name, tag=tag, field=field, **options)
        add_from(ctx, from_file, "customer", fmt, LIST_COLUMNS, force=force)
        return
    if name is None:
        raise typer.BadParameter("give a NAME, or --from FILE", param_hint="NAME")
    data = validated(
        CustomerCreate, _fields(name, tags=tag or [], custom=output.custom_fields(field), **options)
    )
    created = customers.add_customer(crm(ctx), data, force=force)
    if fmt == Format.table:
        output.console().print(f"Added {created.ref} {created.name}", markup=False, highlight=False)
    else:
        output.print_record(created, fmt, DETAIL_FIELDS)


@app.command("list")
def list_(
    ctx: typer.Context,
    search: Annotated[str | None, typer.Argument(help="Text in the name, email or phone.")] = None,
    stage: StageOpt = None,
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    tag: Annotated[str | None, typer.Option("--tag", "-t", help="Only customers with this tag.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only customers of this owner (me for yours).")] = None,
    archived: Annotated[bool, typer.Option("--archived", help="Only archived customers.")] = False,
    include_archived: Annotated[bool, typer.Option("--all", help="Archived customers too.")] = False,
    sort: Annotated[
        CustomerSort, typer.Option(help="Sort by name, created or updated.")
    ] = CustomerSort.alphabetical,
    desc: Annotated[bool, typer.Option("--desc", help="Reverse the order.")] = False,
    limit: Limit = None,
    after: Annotated[
        str | None,
        typer.Option(help="Continue after this customer (the last of the previous page)."),
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """List customers, a page at a time."""
    from crm_tui.logic.customers import customers

    page = customers.list_customers(
        crm(ctx), text=search, lifecycle=stage, segment=segment, tag=tag, owner=owner,
        archived="all" if include_archived else "archived" if archived else "active",
        sort=sort, descending=desc, limit=page_size(ctx, limit), after=after,
    )  # fmt: skip
    output.print_records(page.customers, fmt, LIST_COLUMNS)
    if page.next_after and fmt == Format.table:
        output.say(f"More: crm customer list --after {page.next_after} (same filters)")
    elif not page.customers and fmt == Format.table:
        output.say("No customers match.")


@app.command("show")
def show(ctx: typer.Context, customer: Ref, fmt: Format = FormatOption) -> None:
    """Show a customer with contacts, latest timeline and open tasks."""
    from crm_tui.cli import contacts, notes, tasks
    from crm_tui.logic.customers.customers import customer_detail

    detail = customer_detail(crm(ctx), customer)
    if fmt != Format.table:
        record = detail.customer.model_dump(mode="json") | {
            "contacts": [c.model_dump(mode="json") for c in detail.contacts],
            "timeline": [a.model_dump(mode="json") for a in detail.timeline],
            "open_tasks": [t.model_dump(mode="json") for t in detail.open_tasks],
        }
        output.print_record(record, fmt)
        return
    output.print_record(detail.customer, fmt, DETAIL_FIELDS)
    if detail.contacts:
        output.print_records(detail.contacts, fmt, contacts.COLUMNS[:1] + contacts.COLUMNS[3:], "Contacts")
    if detail.open_tasks:
        output.print_records(detail.open_tasks, fmt, tasks.COLUMNS[:3], "Open tasks")
    if detail.timeline:
        output.print_records(detail.timeline, fmt, notes.COLUMNS, "Timeline")


@app.command("edit")
def edit(
    ctx: typer.Context,
    customer: Ref,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    kind: KindOpt = None,
    company: Annotated[str | None, typer.Option()] = None,
    stage: StageOpt = None,
    segment: Annotated[str | None, typer.Option()] = None,
    owner: Annotated[str | None, typer.Option(help='Username, or "" for none.')] = None,
    email: EmailOpt = None,
    phone: PhoneOpt = None,
    website: Annotated[str | None, typer.Option()] = None,
    street: Annotated[str | None, typer.Option()] = None,
    postcode: Annotated[str | None, typer.Option()] = None,
    city: Annotated[str | None, typer.Option()] = None,
    country: Annotated[str | None, typer.Option()] = None,
    industry: Annotated[str | None, typer.Option()] = None,
    source: Annotated[str | None, typer.Option()] = None,
    field: FieldOpt = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--expected-version", help="Refuse the edit unless the record is still at this version."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Save even if it makes a likely duplicate.")] = False,
    fmt: Format = FormatOption,
) -> None:
    """Change a customer's fields; an empty value ("") clears a field."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.customers import customers
    from crm_tui.logic.customers.schemas import CustomerUpdate

    given = _fields(
        name, kind=kind, company=company, lifecycle=stage, segment=segment, owner=owner,
        email=email, phone=phone, website=website, street=street, postcode=postcode, city=city,
        country=country, industry=industry, source=source, custom=output.custom_fields(field),
    )  # fmt: skip
    data = validated(CustomerUpdate, given)
    updated = customers.update_customer(crm(ctx), customer, data, expected_version=version, force=force)
    if fmt == Format.table:
        output.console().print(
            f"Saved {updated.ref} {updated.name} (version {updated.version})", markup=False
        )
    else:
        output.print_record(updated, fmt, DETAIL_FIELDS)


@app.command("archive")
def archive(ctx: typer.Context, customer: Ref) -> None:
    """Archive a customer: hidden from lists, everything kept."""
    from crm_tui.logic.customers.customers import archive_customer

    done = archive_customer(crm(ctx), customer)
    output.say(f"Archived {done.ref} {done.name}")


@app.command("restore")
def restore(ctx: typer.Context, customer: Ref) -> None:
    """Bring an archived customer back."""
    from crm_tui.logic.customers.customers import restore_customer

    done = restore_customer(crm(ctx), customer)
    output.say(f"Restored {done.ref} {done.name}")


Tags = Annotated[list[str], typer.Argument(help="Tags.", show_default=False)]


@app.command("tag")
def tag(ctx: typer.Context, customer: Ref, tags: Tags) -> None:
    """Add tags to a customer."""
    from crm_tui.logic.customers.customers import tag_customer

    done = tag_customer(crm(ctx), customer, tags)
    output.say(f"{done.ref} tags: {', '.join(done.tags)}")


@app.command("untag")
def untag(ctx: typer.Context, customer: Ref, tags: Tags) -> None:
    """Remove tags from a customer."""
    from crm_tui.logic.customers.customers import untag_customer

    done = untag_customer(crm(ctx), customer, tags)
    output.say(f"{done.ref} tags: {', '.join(done.tags) or '(none)'}")


@app.command("dupes")
def dupes(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=MAX_ROWS, help="How many groups to show.")
    ] = 100,
    fmt: Format = FormatOption,
) -> None:
    """List likely duplicates: customers sharing an email, a phone, or a name."""
    from crm_tui.logic.customers.duplicates import find_duplicates

    groups = find_duplicates(crm(ctx), limit=limit)
    if fmt == Format.table:
        rows = [
            {"match": g.match, "value": g.value, "customers": " ".join(c.ref for c in g.customers),
             "names": " | ".join(c.name for c in g.customers)}
            for g in groups
        ]  # fmt: skip
        cols = [
            ("match", "Match"),
            ("value", "Value"),
            ("customers", "Customers"),
            ("names", "Names"),
        ]
        output.print_records([_Row(row) for row in rows], fmt, cols)
        output.say(
            f"{len(groups)} group(s). Merge with: crm customer merge KEEP OTHER"
            if groups
            else "No duplicates."
        )
    elif fmt == Format.ids:
        for group in groups:
            print(" ".join(c.ref for c in group.customers))
    else:
        output.print_records(groups, fmt, [])


class _Row(dict):  # a dict that reads like a record in tables
    def __getattr__(self, name: str) -> object:
        return self.get(name)


@app.command("merge")
def merge(
    ctx: typer.Context,
    keep: Annotated[str, typer.Argument(help="The customer to keep.", show_default=False)],
    other: Annotated[
        str, typer.Argument(help="The customer merged into it, then archived.", show_default=False)
    ],
    fmt: Format = FormatOption,
) -> None:
    """Merge OTHER into KEEP: contacts, timeline, tasks and tags move; OTHER is archived."""
    from crm_tui.logic.customers.duplicates import merge_customers

    result = merge_customers(crm(ctx), keep, other)
    if fmt == Format.table:
        moved = ", ".join(f"{len(v)} {k}" for k, v in result.moved.items())
        output.console().print(
            f"Merged {result.merged} into {result.survivor.ref} {result.survivor.name}: {moved}",
            markup=False,
        )
    else:
        output.print_record(result, fmt)
