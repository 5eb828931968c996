"""`crm demo ...`"""

from __future__ import annotations

import typer

from crm_tui.cli import output
from crm_tui.cli.state import crm

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def demo() -> None:
    """Demo data to try crm with."""  # a callback keeps `demo` a group of commands


@app.command("load")
def load(ctx: typer.Context) -> None:
    """Fill an empty database with a demo team, customers, deals, orders and tickets."""
    from crm_tui.logic.admin.demo import load_demo

    made = load_demo(crm(ctx))
    output.say(
        f"Demo loaded: {made.users} users, {made.customers} customers, {made.deals} deals, "
        f"{made.orders} orders, {made.tickets} tickets. Open the desk with: crm"
    )
