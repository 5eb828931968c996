"""`crm user ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.batch import add_from
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import crm, refuse_mixed, supplied
from crm_tui.logic.core.vocabulary import Role

app = typer.Typer(no_args_is_help=True, add_completion=False)

COLUMNS = [("username", "User"), ("display_name", "Name"), ("role", "Role"), ("active", "Active")]
Username = Annotated[str, typer.Argument(help="Username.", show_default=False)]


@app.command("add")
def add(
    ctx: typer.Context,
    username: Annotated[str | None, typer.Argument(help="Login name.")] = None,
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    role: Annotated[Role, typer.Option(help="admin, manager, sales, service or viewer.")] = Role.sales,
    from_file: Annotated[
        str | None, typer.Option("--from", help='JSON Lines (- for stdin), each with "username".')
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Add a team member (admins only)."""
    from crm_tui.logic.core import users
    from crm_tui.logic.core.schemas import UserCreate, validated

    if from_file is not None:
        refuse_mixed(from_file, username=username, name=name)
        add_from(ctx, from_file, "user", fmt, COLUMNS)
        return
    if username is None:
        raise typer.BadParameter("give a USERNAME, or --from FILE", param_hint="USERNAME")
    created = users.add_user(
        crm(ctx), validated(UserCreate, {"username": username, "display_name": name, "role": role})
    )
    if fmt == Format.table:
        output.console().print(f"Added {created.username} ({created.role})", markup=False)
    else:
        output.print_record(created, fmt, COLUMNS)


@app.command("list")
def list_(
    ctx: typer.Context,
    active: Annotated[bool, typer.Option("--active", help="Only active users.")] = False,
    fmt: Format = FormatOption,
) -> None:
    """List team members."""
    from crm_tui.logic.core import users

    output.print_records(users.list_users(crm(ctx), include_inactive=not active), fmt, COLUMNS)


@app.command("show")
def show(ctx: typer.Context, username: Username, fmt: Format = FormatOption) -> None:
    """Show a team member."""
    from crm_tui.logic.core import users

    output.print_record(users.get_user(crm(ctx), username), fmt, [*COLUMNS, ("created_at", "Since")])


@app.command("edit")
def edit(
    ctx: typer.Context,
    username: Username,
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    role: Annotated[Role | None, typer.Option(help="New role.")] = None,
) -> None:
    """Change a team member's display name or role (admins only)."""
    from crm_tui.logic.core import users
    from crm_tui.logic.core.schemas import UserUpdate, validated

    data = validated(UserUpdate, supplied({"display_name": name, "role": role}))
    updated = users.update_user(crm(ctx), username, data)
    output.say(f"Saved {updated.username} ({updated.role})")


@app.command("deactivate")
def deactivate(ctx: typer.Context, username: Username) -> None:
    """Stop a user from using crm; their records and history stay."""
    from crm_tui.logic.core import users

    output.say(f"Deactivated {users.set_active(crm(ctx), username, False).username}")


@app.command("activate")
def activate(ctx: typer.Context, username: Username) -> None:
    """Let a deactivated user back in."""
    from crm_tui.logic.core import users

    output.say(f"Activated {users.set_active(crm(ctx), username, True).username}")
