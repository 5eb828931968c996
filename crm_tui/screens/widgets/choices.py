"""What pickers offer: users, customers, contacts, pipelines, stages, products, deals
and tickets, each narrowed by the text typed so far. Each source runs in a worker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from crm_tui.logic.core import users
from crm_tui.logic.core.vocabulary import Role
from crm_tui.logic.customers import contacts, customers
from crm_tui.logic.sales import deals, pipelines, products
from crm_tui.logic.service import tickets
from crm_tui.logic.values import money
from crm_tui.screens.widgets.forms import PICKS, Choice, Source

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm


def _narrowed(choices: Sequence[Choice], text: str) -> list[Choice]:
    """The choices whose label, value or detail hold every word typed (any case)."""
    words = text.casefold().split()
    return [
        choice
        for choice in choices
        if all(word in f"{choice.label} {choice.value} {choice.detail}".casefold() for word in words)
    ]


def active_users(*roles: Role) -> Source:
    """Active users (of the roles given, or any): a deactivated user is never offered."""

    def source(crm: Crm, text: str) -> list[Choice]:
        found = users.list_users(crm, include_inactive=False)
        return _narrowed(
            [
                Choice(u.username, u.username, f"{u.display_name} · {u.role.value}")
                for u in found
                if not roles or u.role in roles
            ],
            text,
        )

    # What the picker says when there is nobody to offer at all (a new database).
    who = " or ".join(role.value for role in roles) + " users" if roles else "users"
    source.none_yet = f"No {who} yet: an admin adds them on F8 (Team), n."  # type: ignore[attr-defined]
    return source


def all_customers(crm: Crm, text: str) -> list[Choice]:
    """Active customers whose name, email or phone matches what was typed."""
    page = customers.list_customers(crm, text=text or None, limit=PICKS)
    return [Choice(c.ref, c.name, " · ".join(x for x in (c.ref, c.city) if x)) for c in page.customers]


def contacts_of(customer: str) -> Source:
    """The contacts of one customer."""

    def source(crm: Crm, text: str) -> list[Choice]:
        found = contacts.list_contacts(crm, customer, limit=200)
        return _narrowed([Choice(p.ref, p.name, p.title or p.email or "") for p in found], text)

    return source


def all_pipelines(crm: Crm, text: str) -> list[Choice]:
    found = pipelines.list_pipelines(crm)
    return _narrowed([Choice(p.name, p.name, "default" if p.is_default else "") for p in found], text)


def stages_of(pipeline: str | None, *, kinds: tuple[str, ...] = ("open", "won", "lost")) -> Source:
    """The stages of a pipeline (the default one for None), in their order."""

    def source(crm: Crm, text: str) -> list[Choice]:
        found = pipelines.get_pipeline(crm, pipeline).stages
        return _narrowed(
            [Choice(s.name, s.name, f"{s.probability}% · {s.kind}") for s in found if s.kind in kinds], text
        )

    return source


def products_on_sale(crm: Crm, text: str) -> list[Choice]:
    found = products.list_products(crm)
    return _narrowed(
        [
            Choice(p.sku, p.name, f"{p.sku} · {money.format_amount(p.unit_price_minor, p.currency)}")
            for p in found
        ],
        text,
    )


products_on_sale.none_yet = (  # type: ignore[attr-defined]
    "No products yet: a manager adds them on F6 (Orders), p for products, then a."
)


def deals_to_order(crm: Crm, text: str) -> list[Choice]:
    """Won deals with no order yet: those a new order can be made from."""
    found = deals.deals_to_order(crm, text=text or None, limit=PICKS)
    return [
        Choice(
            d.ref, d.title, f"{d.ref} · {d.customer_name} · {money.format_amount(d.amount_minor, d.currency)}"
        )
        for d in found
    ]


def waiting_tickets(crm: Crm, text: str) -> list[Choice]:
    page = tickets.list_tickets(crm, status="all", limit=200)
    return _narrowed(
        [Choice(t.ref, t.subject, f"{t.ref} · {t.customer_name} · {t.status.value}") for t in page.tickets],
        text,
    )
