"""One member of a team working at the same time as the others, as a process of its own.

    python team_member.py URL USER GO LOG [reader]

Once started and connected, it says so in LOG and waits for the file GO, which holds
the wall-clock time to stop at; so every member works for the same span, however long
each took to start. Meanwhile a writer adds customers, notes, deals and tickets (to
its own customers and to the shared ones) and edits its own customers' cities; a reader
lists, searches and reports. Each writes to LOG, one JSON object a line, what crm gave
back (the record, or the error), so that the test can check that all of it is in the
database afterwards.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crm_tui.config import load_settings
from crm_tui.logic.core.context import Crm, open_crm
from crm_tui.logic.customers import customers, timeline
from crm_tui.logic.customers.schemas import ActivityCreate, CustomerCreate, CustomerUpdate
from crm_tui.logic.customers.search import search
from crm_tui.logic.reports.sales import sales_report
from crm_tui.logic.sales import deals
from crm_tui.logic.sales.board import board
from crm_tui.logic.sales.schemas import DealCreate
from crm_tui.logic.service import tickets
from crm_tui.logic.service.schemas import TicketCreate


def write(crm: Crm, user: str, deadline: float, log: Callable[..., None]) -> None:
    rng = random.Random(user)
    shared = [row.ref for row in customers.list_customers(crm, text="Shared", limit=50).customers]
    mine: dict[str, int] = {}  # reference: version
    n = 0
    while time.time() < deadline:
        n += 1
        choice = rng.random()
        customer = rng.choice([*shared, *mine]) if shared or mine else None
        try:
            if customer is None or choice < 0.25:
                made = customers.add_customer(
                    crm, CustomerCreate(name=f"{user} customer {n}", email=f"{user}.{n}@team.example")
                )
                mine[made.ref] = made.version
                log(kind="customer", id=made.id, name=made.name)
            elif choice < 0.45:
                made = timeline.add_activity(crm, ActivityCreate(customer=customer, body=f"{user} note {n}"))
                log(kind="activity", id=made.id, name=made.body)
            elif choice < 0.65:
                made = deals.add_deal(
                    crm, DealCreate(customer=customer, title=f"{user} deal {n}", amount="100")
                )
                log(kind="deal", id=made.id, name=made.title)
            elif choice < 0.85:
                made = tickets.add_ticket(crm, TicketCreate(customer=customer, subject=f"{user} ticket {n}"))
                log(kind="ticket", id=made.id, name=made.subject)
            elif mine:
                ref = rng.choice(list(mine))
                made = customers.update_customer(
                    crm, ref, CustomerUpdate(city=f"City {n}"), expected_version=mine[ref]
                )
                mine[ref] = made.version
                log(kind="edit", id=made.id, name=made.city, version=made.version)
        except Exception as exc:
            log(error=f"{type(exc).__name__}: {exc}")


def read(crm: Crm, deadline: float, log: Callable[..., None]) -> None:
    readings = [
        lambda: customers.list_customers(crm, limit=50),
        lambda: customers.list_customers(crm, text="customer", limit=20),
        lambda: search(crm, "note"),
        lambda: board(crm),
        lambda: tickets.list_tickets(crm, limit=50),
        lambda: sales_report(crm),
    ]
    done = 0
    while time.time() < deadline:
        try:
            readings[done % len(readings)]()
        except Exception as exc:
            log(error=f"{type(exc).__name__}: {exc}")
        done += 1
    log(kind="reads", count=done)


def main(url: str, user: str, go: str, path: str, role: str = "writer") -> None:
    crm = open_crm(load_settings(db=url, user=user))
    customers.list_customers(crm, limit=1)
    with open(path, "w", encoding="utf-8") as out:

        def log(**entry: Any) -> None:
            out.write(json.dumps(entry) + "\n")
            out.flush()

        log(kind="ready")
        while not Path(go).exists():
            time.sleep(0.01)
        deadline = float(Path(go).read_text())
        if role == "reader":
            read(crm, deadline, log)
        else:
            write(crm, user, deadline, log)
    crm.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
