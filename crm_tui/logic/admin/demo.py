"""Demo data: a small, believable book of business to try crm with.

Everything is made through the same rules as real work (validation, audit trail, stage
history), by the acting admin, with one seed so every demo looks the same.
"""

from __future__ import annotations

import random
from datetime import timedelta

from pydantic import BaseModel

from crm_tui.logic.core import users
from crm_tui.logic.core.context import Crm
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.records import is_empty
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.core.vocabulary import ActivityKind, Channel, Lifecycle, Priority, Role, TicketType
from crm_tui.logic.customers import contacts, customers, tasks, timeline
from crm_tui.logic.customers.schemas import ActivityCreate, ContactCreate, CustomerCreate, TaskCreate
from crm_tui.logic.sales import deals, orders, products
from crm_tui.logic.sales.schemas import DealCreate, LineCreate, OrderCreate, ProductCreate
from crm_tui.logic.service import replies, tickets
from crm_tui.logic.service.schemas import TicketCreate
from crm_tui.logic.values.dates import local_today
from crm_tui.logic.values.normalise import fold

TEAM = [
    ("sara", "Sara Lindqvist", "sales"),
    ("sven", "Sven Okafor", "sales"),
    ("sue", "Sue Marchetti", "service"),
    ("sam", "Sam Nakamura", "service"),
    ("mia", "Mia Dubois", "manager"),
]
FIRMS = [
    ("Acme Logistics GmbH", "Berlin", "DE", "logistics"),
    ("Nordlicht Energie AG", "Hamburg", "DE", "energy"),
    ("Brightwater Labs Ltd", "Bristol", "GB", "software"),
    ("Café Zürich AG", "Zürich", "CH", "hospitality"),
    ("Oakridge Dental LLC", "Portland", "US", "health"),
    ("Müller & Söhne KG", "Munich", "DE", "manufacturing"),
    ("Fjord Analytics AS", "Bergen", "NO", "software"),
    ("Lumen Architects", "Lyon", "FR", "architecture"),
    ("Riverside Bakery", "Austin", "US", "food"),
    ("Helios Solar SL", "Valencia", "ES", "energy"),
    ("Kestrel Freight BV", "Rotterdam", "NL", "logistics"),
    ("Pinewood Hotels", "Denver", "US", "hospitality"),
    ("Vasa Instruments AB", "Gothenburg", "SE", "manufacturing"),
    ("Tiber Consulting Srl", "Rome", "IT", "consulting"),
    ("Blue Heron Books", "Dublin", "IE", "retail"),
    ("Quantum Loop Inc", "Boston", "US", "software"),
    ("Alpenblick Resorts", "Innsbruck", "AT", "hospitality"),
    ("Danube Textiles Kft", "Budapest", "HU", "manufacturing"),
    ("Coral Reef Diving", "Faro", "PT", "tourism"),
    ("Granite Peak Legal", "Calgary", "CA", "legal"),
]
PEOPLE = [
    "Anna Schmidt",
    "Tom Becker",
    "Léa Martin",
    "Jonas Weber",
    "Priya Shah",
    "Mateo García",
    "Emma Wilson",
    "Noah Fischer",
    "Sofia Rossi",
    "Liam O'Brien",
    "Yuki Tanaka",
    "Olga Petrova",
    "Ben Carter",
    "Aisha Khan",
]
DEALS = [
    "Website relaunch",
    "Annual support",
    "Fleet tracking",
    "Cloud migration",
    "Onboarding package",
    "Hardware refresh",
    "Training days",
    "Data warehouse",
    "Mobile app",
    "Security audit",
]
TICKETS = [
    ("Invoice shows the wrong VAT", "complaint"),
    ("Cannot log in since the update", "incident"),
    ("How do I export my data?", "question"),
    ("Replacement part for the scanner", "service_request"),
    ("Delivery arrived damaged", "complaint"),
    ("Need a second user licence", "service_request"),
    ("Reports load very slowly", "incident"),
    ("Where is my order confirmation?", "question"),
]
NOTES = [
    "Called: interested, wants a quote by Friday.",
    "Met at the trade fair; budget approved for Q1.",
    "Sent the brochure and price list.",
    "Prefers email; decision maker is the CFO.",
]


class DemoSummary(BaseModel):
    users: int
    customers: int
    deals: int
    orders: int
    tickets: int


def load_demo(crm: Crm, *, seed: int = 7) -> DemoSummary:
    """Fill an empty database with a small demo team and book of business."""
    if not is_empty(crm):
        raise Invalid("demo data goes into an empty database only; this one already has records")
    rng = random.Random(seed)
    for username, name, role in TEAM:
        users.add_user(crm, UserCreate(username=username, display_name=name, role=Role(role)))
    sellers = [u for u, _, role in TEAM if role == "sales"]
    agents = [u for u, _, role in TEAM if role == "service"]
    refs = _customers(crm, rng, sellers)
    products.add_product(
        crm, ProductCreate(sku="SUP-1Y", name="Support, one year", price="1200", tax_rate="19")
    )
    products.add_product(crm, ProductCreate(sku="TRAIN-D", name="Training day", price="950", tax_rate="19"))
    products.add_product(crm, ProductCreate(sku="LIC-U", name="User licence", price="39.90", tax_rate="19"))
    made_deals, made_orders = _deals(crm, rng, refs, sellers)
    made_tickets = _tickets(crm, rng, refs, agents)
    return DemoSummary(
        users=len(TEAM) + 1, customers=len(refs), deals=made_deals, orders=made_orders, tickets=made_tickets
    )


def _customers(crm: Crm, rng: random.Random, sellers: list[str]) -> list[str]:
    refs = []
    for index, (name, city, country, industry) in enumerate(FIRMS):
        domain = "".join(ch for ch in fold(name).split()[0] if ch.isascii() and ch.isalpha()) or "firm"
        created = customers.add_customer(
            crm,
            CustomerCreate(
                name=name,
                city=city,
                country=country,
                industry=industry,
                email=f"info@{domain}.example",
                lifecycle=Lifecycle(rng.choice(["lead", "prospect", "customer", "customer"])),
                owner=sellers[index % len(sellers)],
                segment=rng.choice(["smb", "mid-market", "enterprise"]),
                tags=rng.sample(["vip", "partner", "newsletter", "eu"], 2),
            ),
        )
        refs.append(created.ref)
        for person in rng.sample(PEOPLE, 2):
            first = fold(person).split()[0]
            contacts.add_contact(
                crm,
                ContactCreate(
                    customer=created.ref,
                    name=person,
                    title=rng.choice(["CEO", "CFO", "IT lead", "Buyer"]),
                    email=f"{first}@{domain}.example",
                ),
            )
        timeline.add_activity(
            crm,
            ActivityCreate(
                customer=created.ref,
                body=rng.choice(NOTES),
                kind=ActivityKind(rng.choice(["note", "call", "meeting"])),
            ),
        )
        if index % 3 == 0:
            due = local_today() + timedelta(days=rng.randint(-2, 5))
            tasks.add_task(
                crm,
                TaskCreate(
                    title=f"Follow up with {name.split()[0]}",
                    customer=created.ref,
                    due=due,
                    assignee=sellers[index % len(sellers)],
                ),
            )
    return refs


def _deals(crm: Crm, rng: random.Random, refs: list[str], sellers: list[str]) -> tuple[int, int]:
    stages = ["Lead", "Qualified", "Proposal", "Negotiation"]
    made = ordered = 0
    for index in range(30):
        customer = refs[index % len(refs)]
        deal = deals.add_deal(
            crm,
            DealCreate(
                customer=customer,
                title=DEALS[index % len(DEALS)],
                amount=str(rng.randrange(2_000, 90_000, 500)),
                owner=sellers[index % len(sellers)],
                expected_close=local_today() + timedelta(days=rng.randint(5, 120)),
            ),
        )
        made += 1
        target = rng.choice(stages)
        if target != "Lead":
            deals.move_deal(crm, deal.ref, target)
        outcome = rng.random()
        if outcome < 0.25:
            _, order = deals.win_deal(crm, deal.ref, create_order=True)
            assert order is not None  # asked for with create_order
            orders.add_line(crm, order.ref, LineCreate(product="SUP-1Y"))
            orders.advance(crm, order.ref, "confirm")
            ordered += 1
        elif outcome < 0.4:
            deals.lose_deal(
                crm,
                deal.ref,
                rng.choice(["Went with a competitor", "No budget this year", "Project cancelled"]),
            )
    orders.add_order(crm, OrderCreate(customer=refs[0], lines=[LineCreate(product="LIC-U", quantity="12")]))
    return made, ordered + 1


def _tickets(crm: Crm, rng: random.Random, refs: list[str], agents: list[str]) -> int:
    count = 0
    for index in range(18):
        subject, kind = TICKETS[index % len(TICKETS)]
        ticket = tickets.add_ticket(
            crm,
            TicketCreate(
                customer=refs[rng.randrange(len(refs))],
                subject=subject,
                type=TicketType(kind),
                priority=Priority(rng.choice(["low", "normal", "normal", "high", "urgent"])),
                channel=Channel(rng.choice(["email", "phone"])),
                assignee=agents[index % len(agents)] if index % 4 else None,
            ),
        )
        count += 1
        step = rng.random()
        if step < 0.3:
            replies.reply(crm, ticket.ref, "Thanks for reporting this; we are looking into it.")
        elif step < 0.45:
            replies.reply(crm, ticket.ref, "Could you send us a screenshot?", pending=True)
        elif step < 0.65:
            replies.reply(crm, ticket.ref, "Fixed on our side, please try again.")
            tickets.resolve(crm, ticket.ref, "Configuration corrected")
            tickets.rate(crm, ticket.ref, rng.randint(3, 5))
    return count
