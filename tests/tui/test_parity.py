"""Parity: every write the command line offers a worker has a path in the desk.

The desk's actions are its bindings (crm_tui/screens/keys.py reads them from the
classes): each has an id, a key, and a description that is its palette entry and its
line in F1. This test names, for each command of `crm`, the desk action that does the
same, or why the desk has none. A new command with neither fails it.
"""

from __future__ import annotations

import pytest

from crm_tui.screens.keys import every_binding
from tests.reliability.test_command_properties import command_tree

# Commands that only read: the desk shows the same in its screens, lists and search.
READS = {
    "customer list": "the customers screen (F3)",
    "customer show": "a customer's screen",
    "customer dupes": "the duplicates screen (m on the customers screen)",
    "contact list": "a customer's screen lists its contacts",
    "contact show": "a customer's screen shows each contact",
    "note list": "a customer's timeline",
    "task list": "the tasks screen (F7)",
    "task show": "the tasks screen and a customer's screen",
    "deal list": "the pipeline board (F4)",
    "deal show": "a deal's view (Enter on the board)",
    "pipeline list": "Team & settings (F8), pipelines",
    "pipeline show": "Team & settings (F8), pipelines",
    "product list": "the orders screen's products",
    "product show": "the orders screen's products",
    "order list": "the orders screen (F6)",
    "order show": "an order's screen",
    "ticket list": "the ticket queue (F5)",
    "ticket show": "a ticket's screen",
    "sla show": "Team & settings (F8), SLA targets",
    "report sales": "the desk's panels",
    "report service": "the desk's panels",
    "search": "/ on the desk, and the palette (ctrl+p)",
    "user list": "Team & settings (F8), users",
    "user show": "Team & settings (F8), users",
    "audit list": "a record's history shows in its view",
    "db status": "the desk's title names the database",
    "backup list": "Team & settings (F8), backups",
}

# Writes the desk leaves to the command line on purpose, and why.
COMMAND_LINE_ONLY = {
    "demo load": "offered once, on the welcome screen of a new database",
    "db upgrade": "the desk opens a database at its current schema; upgrading is done before",
    "db reindex": "maintenance of the search index and stage totals, for the shell or cron",
    "db copy": "moves a team to another database once, by its admin, with the URL typed in a shell",
    "restore": "replaces the database file the desk holds open",
    "export": "writes files for other programs",
    "import customers": "reads a file from the shell",
    "import contacts": "reads a file from the shell",
    "import deals": "reads a file from the shell",
    "import tickets": "reads a file from the shell",
    "import all": "reads a folder from the shell",
}

# Each write command and the desk action (binding id) that does the same.
DESK_ACTION = {
    "customer add": "customers.new",
    "customer edit": "customer.edit",
    "customer archive": "customer.archive",
    "customer restore": "customer.archive",
    "customer tag": "customer.tags",
    "customer untag": "customer.tags",
    "customer merge": "duplicates.merge",
    "contact add": "customer.contact",
    "contact edit": "customer.contact_edit",
    "contact remove": "customer.contact_remove",
    "note add": "customer.note",
    "task add": "tasks.new",
    "task done": "tasks.done",
    "task reopen": "tasks.reopen",
    "deal add": "pipeline.new",
    "deal edit": "pipeline.edit",
    "deal move": "pipeline.move_right",
    "deal win": "pipeline.win",
    "deal lose": "pipeline.lose",
    "deal reopen": "pipeline.reopen",
    "deal archive": "pipeline.archive",
    "deal restore": "deal.archive",
    "pipeline add": "admin.add_pipeline",
    "pipeline default": "admin.make_default",
    "pipeline stage add": "admin.add_stage",
    "pipeline stage set": "admin.change_stage",
    "pipeline stage remove": "admin.remove_stage",
    "product add": "products.add",
    "product edit": "products.edit",
    "product retire": "products.sale",
    "product offer": "products.sale",
    "order add": "orders.new",
    "order confirm": "order.confirm",
    "order fulfil": "order.fulfil",
    "order pay": "order.pay",
    "order cancel": "order.cancel",
    "order line add": "order.add_line",
    "order line remove": "order.remove_line",
    "ticket add": "tickets.new",
    "ticket reply": "ticket.reply",
    "ticket note": "ticket.note",
    "ticket assign": "ticket.assign",
    "ticket status": "ticket.pending",
    "ticket resolve": "ticket.resolve",
    "ticket close": "ticket.close",
    "ticket reopen": "ticket.reopen",
    "ticket merge": "ticket.merge",
    "ticket rate": "ticket.rate",
    "sla set": "admin.set_sla",
    "user add": "admin.add_user",
    "user edit": "admin.edit_user",
    "user deactivate": "admin.deactivate",
    "user activate": "admin.activate",
    "backup create": "admin.back_up",
    "backup verify": "admin.verify",
    "backup clean": "admin.clean",
    "undo": "app.undo",
}

COMMANDS = [" ".join(command.path) for command in command_tree()]


def desk_actions() -> dict[str, list[str]]:
    """Each binding id of the desk, with the keys that reach it."""
    found: dict[str, list[str]] = {}
    for declared in every_binding():
        if declared.binding.id:
            found.setdefault(declared.binding.id, []).append(declared.binding.key)
    return found


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_desk_action_or_a_reason(command):
    named = [table for table in (READS, COMMAND_LINE_ONLY, DESK_ACTION) if command in table]
    assert len(named) == 1, f"crm {command}: name its desk action in DESK_ACTION (or why it has none)"
    if command in DESK_ACTION:
        action = DESK_ACTION[command]
        assert action in desk_actions(), f"crm {command}: the desk has no action {action!r}"


def test_the_tables_name_only_commands_that_exist():
    for table in (READS, COMMAND_LINE_ONLY, DESK_ACTION):
        assert set(table) <= set(COMMANDS), set(table) - set(COMMANDS)


def test_every_desk_action_has_a_description_for_the_palette_and_f1():
    for declared in every_binding():
        binding = declared.binding
        assert binding.id, f"{declared.owner.__name__}: the binding of {binding.key!r} has no id"
        assert binding.description, f"{binding.id}: no description, so the palette and F1 cannot name it"
