"""`crm contact ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.batch import add_from
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import Limit, crm, page_size, refuse_mixed, supplied

app = typer.Typer(no_args_is_help=True, add_completion=False)

COLUMNS = [
    ("ref", "Ref"),
    ("customer", "Customer"),
    ("customer_name", "Customer name"),
    ("name", "Name"),
    ("title", "Title"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("mobile", "Mobile"),
]
Ref = Annotated[str, typer.Argument(help="Contact reference, like P-7.", show_default=False)]
Title = Annotated[str | None, typer.Option(help="Job title.")]
Email = Annotated[str | None, typer.Option(help="Email address.")]
Phone = Annotated[str | None, typer.Option(help="Work phone.")]
Mobile = Annotated[str | None, typer.Option(help="Mobile phone.")]
Force = Annotated[bool, typer.Option("--force", help="Save even if it looks like a duplicate.")]


def _given(**options: object) -> dict[str, object]:
    return supplied(options)


@app.command("add")
def add(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Argument(help="Customer reference, like C-12.")] = None,
    name: Annotated[str | None, typer.Argument(help="The person's name.")] = None,
    title: Title = None,
    email: Email = None,
    phone: Phone = None,
    mobile: Mobile = None,
    field: output.CustomFields = None,
    force: Force = False,
    from_file: Annotated[
        str | None,
        typer.Option("--from", help='JSON Lines (- for stdin), each with "customer" and "name".'),
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Add a person to a customer (or many, with --from)."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.customers import contacts
    from crm_tui.logic.customers.schemas import ContactCreate

    typed = {"customer": customer, "name": name, "title": title, "email": email, "phone": phone,
             "mobile": mobile}  # fmt: skip
    if from_file is not None:
        refuse_mixed(from_file, **typed, field=field)
        add_from(ctx, from_file, "contact", fmt, COLUMNS, force=force)
        return
    if customer is None or name is None:
        raise typer.BadParameter("give CUSTOMER and NAME, or --from FILE", param_hint="CUSTOMER NAME")
    data = validated(ContactCreate, _given(**typed, custom=output.custom_fields(field)))
    created = contacts.add_contact(crm(ctx), data, force=force)
    if fmt == Format.table:
        output.console().print(
            f"Added {created.ref} {created.name} at {created.customer} {created.customer_name}",
            markup=False,
        )
    else:
        output.print_record(created, fmt, COLUMNS)


@app.command("list")
def list_(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Argument(help="Only this customer's contacts.")] = None,
    limit: Limit = None,
    after: Annotated[str | None, typer.Option(help="Continue after this contact.")] = None,
    fmt: Format = FormatOption,
) -> None:
    """List contacts by name."""
    from crm_tui.logic.customers import contacts

    found = contacts.list_contacts(crm(ctx), customer, limit=page_size(ctx, limit), after=after)
    output.print_records(found, fmt, COLUMNS)


@app.command("show")
def show(ctx: typer.Context, contact: Ref, fmt: Format = FormatOption) -> None:
    """Show a contact."""
    from crm_tui.logic.customers import contacts

    output.print_record(
        contacts.get_contact(crm(ctx), contact), fmt, [*COLUMNS, ("custom", "Custom"), ("version", "Version")]
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    contact: Ref,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    title: Title = None,
    email: Email = None,
    phone: Phone = None,
    mobile: Mobile = None,
    field: output.CustomFields = None,
    expected_version: Annotated[
        int | None,
        typer.Option("--expected-version", help="Refuse unless the record is still at this version."),
    ] = None,
    force: Force = False,
    fmt: Format = FormatOption,
) -> None:
    """Change a contact's fields; an empty value ("") clears a field."""
    from crm_tui.logic.core.schemas import validated
    from crm_tui.logic.customers import contacts
    from crm_tui.logic.customers.schemas import ContactUpdate

    data = validated(
        ContactUpdate,
        _given(
            name=name,
            title=title,
            email=email,
            phone=phone,
            mobile=mobile,
            custom=output.custom_fields(field),
        ),
    )
    updated = contacts.update_contact(crm(ctx), contact, data, expected_version=expected_version, force=force)
    if fmt == Format.table:
        output.console().print(
            f"Saved {updated.ref} {updated.name} (version {updated.version})", markup=False
        )
    else:
        output.print_record(updated, fmt, COLUMNS)


@app.command("remove")
def remove(ctx: typer.Context, contact: Ref) -> None:
    """Remove a contact (the audit log keeps what it held)."""
    from crm_tui.logic.customers import contacts

    gone = contacts.remove_contact(crm(ctx), contact)
    output.say(f"Removed {gone.ref} {gone.name} from {gone.customer}")
