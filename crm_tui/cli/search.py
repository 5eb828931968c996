"""`crm search TEXT`: one command, registered beside the command groups."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import crm

app = typer.Typer(add_completion=False)


class Kind(StrEnum):
    customer = "customer"
    contact = "contact"
    deal = "deal"
    ticket = "ticket"


COLUMNS = [
    ("kind", "Kind"),
    ("ref", "Ref"),
    ("title", "Name"),
    (lambda hit: f"{hit.customer_ref} {hit.customer}", "Customer"),
    ("matched", "Matched"),
    ("snippet", "Snippet"),
]


@app.command()
def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Words to find; the last may be the start of a word.")],
    kind: Annotated[
        list[Kind] | None, typer.Option("--kind", "-k", help="Only records of this kind (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500, help="How many to show.")] = 20,
    archived: Annotated[bool, typer.Option("--archived", help="Archived and merged records too.")] = False,
    fmt: Format = FormatOption,
) -> None:
    """Find customers, contacts, deals and tickets by words of their names, emails, phones,
    subjects and notes; best matches first. Accents and case are ignored, and a word may be
    typed in part: "acm zur" finds Acme Zürich."""
    from crm_tui.logic.customers.search import search as find

    if not text.strip():
        raise typer.BadParameter("give some words to search for", param_hint="TEXT")
    hits = find(
        crm(ctx), text, kinds=[k.value for k in kind] if kind else None, limit=limit, archived=archived
    )
    output.print_records(hits, fmt, COLUMNS)
    if not hits and fmt == Format.table:
        output.say("Nothing matches.")
