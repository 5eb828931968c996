"""The `crm` command: the TUI with no arguments, the scriptable CLI with them.

Command modules import the logic layer inside their functions, so that `crm --help`,
`--version` and completion load neither the database stack nor the TUI toolkit.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from crm_tui import __version__
from crm_tui.cli import output
from crm_tui.cli.state import CliState, state

# Typer's refusals (a usage error is exit 2) become one line like every other error;
# its exits pass through. ClickException is named through BadParameter because Typer
# versions differ in which click they ship.
_CLICK_ERROR: type[Exception] = next(
    cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException"
)
_EXITS = (typer.Exit, typer.Abort)


# The command groups: name, module, one line of help. A group's module is imported and
# turned into commands only when it is used, so a command pays for its own group alone.
GROUPS = {
    "customer": ("crm_tui.cli.customers", "Companies and people you sell to and serve."),
    "contact": ("crm_tui.cli.contacts", "People at a customer."),
    "note": ("crm_tui.cli.notes", "Notes, calls, emails and meetings on a customer's timeline."),
    "task": ("crm_tui.cli.tasks", "Follow-up tasks."),
    "deal": ("crm_tui.cli.deals", "Opportunities through the pipeline: move, win, lose."),
    "pipeline": ("crm_tui.cli.pipelines", "Pipelines and their stages."),
    "product": ("crm_tui.cli.products", "The product catalogue."),
    "order": ("crm_tui.cli.orders", "Orders and their lines, from draft to paid."),
    "ticket": ("crm_tui.cli.tickets", "Complaints and service requests: reply, assign, resolve."),
    "sla": ("crm_tui.cli.tickets:sla_app", "Response and resolution targets per ticket priority."),
    "report": ("crm_tui.cli.reports", "Figures: sales and service performance."),
    "search": ("crm_tui.cli.search", "Find customers, contacts, deals and tickets by words."),
    "user": ("crm_tui.cli.users", "Team members and their roles."),
    "audit": ("crm_tui.cli.audit", "Who changed what, and when."),
    "undo": ("crm_tui.cli.undo", "Undo your last change, unless the record changed since."),
    "demo": ("crm_tui.cli.demo", "Demo data to try crm with."),
    "db": ("crm_tui.cli.db", "The database: status, schema upgrades, search index."),
    "backup": ("crm_tui.cli.backup", "Backups: create, list, verify (cron-ready)."),
    "restore": ("crm_tui.cli.backup:restore_app", "Replace the database with a verified backup."),
    "export": (
        "crm_tui.cli.exchange:export_app",
        "Export every record as JSON or CSV, or contacts as vCards.",
    ),
    "import": (
        "crm_tui.cli.exchange:import_app",
        "Import customers, contacts (CSV or vCard), deals or tickets, or a whole export.",
    ),
}


class CrmGroup(TyperGroup):
    """The root command: loads command groups on demand, and turns domain errors into
    one line on stderr and their documented exit code."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(GROUPS)

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        # The root's help lists the groups by name and line; building each one for that
        # would import every command module, which --help must not pay for.
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        # The root's own options are read here, before ``invoke``: `crm --bogus`.
        try:
            _refuse_nul(args)
            return super().make_context(info_name, args, parent=parent, **extra)
        except _CLICK_ERROR as exc:
            _refuse(exc)

    def get_command(self, ctx: typer.Context, name: str) -> Any:
        if name not in GROUPS:
            return None
        target, help_text = GROUPS[name]
        if getattr(self, "_listing", False):
            return TyperCommand(name=name, help=help_text, short_help=help_text)
        module_name, _, attribute = target.partition(":")
        group = typer.main.get_command(getattr(importlib.import_module(module_name), attribute or "app"))
        group.name, group.help, group.short_help = name, help_text, help_text
        return group

    def invoke(self, ctx: typer.Context) -> Any:
        from crm_tui.logic.core.errors import CrmError

        try:
            return super().invoke(ctx)
        except CrmError as exc:
            if _debugging(ctx):
                raise
            output.fail(_in_command_words(exc))
            raise typer.Exit(exc.exit_code) from None
        except _CLICK_ERROR as exc:
            _refuse(exc)
        except _EXITS:
            raise
        except KeyboardInterrupt:
            output.fail("interrupted")
            raise typer.Exit(output.INTERRUPTED) from None
        except BrokenPipeError:
            # The reader has all it wanted (`crm customer list | head`): stop quietly, and
            # point stdout at nothing so that Python's own flush at exit does not complain.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(output.READER_GONE) from None
        except Exception as exc:
            if _debugging(ctx):
                raise
            # A database driver's error in its own words (``orig``): SQLAlchemy's text adds
            # the SQL statement and its parameters, which may hold customers' data.
            detail = getattr(exc, "orig", None) or exc
            output.fail(f"unexpected {type(exc).__name__}: {detail} (run with --debug for details)")
            raise typer.Exit(output.INTERNAL) from None
        finally:
            if isinstance(ctx.obj, CliState):
                ctx.obj.close()


def _in_command_words(error: Exception) -> str:
    """A refusal as the command line says it: a likely duplicate names the option that
    saves it anyway (the desk offers a button instead)."""
    from crm_tui.logic.core.errors import Duplicate

    if isinstance(error, Duplicate):
        return f"{error}; --force saves it anyway"
    return str(error)


def _refuse_nul(args: list[str]) -> None:
    """No argument may hold a NUL character. A shell cannot pass one (a process's
    arguments are C strings), but a program calling crm in-process can, and PostgreSQL
    refuses NUL in text: one check here rather than one per option."""
    if any("\x00" in arg for arg in args):
        raise typer.BadParameter("an argument holds a NUL character, which no command line can carry")


def _refuse(exc: Any) -> NoReturn:
    """A refusal of Typer's (an unknown option, a bad value, a missing argument) as one
    error line naming the command's help, and its exit code; bare `crm deal` shows help."""
    if type(exc).__name__ == "NoArgsIsHelpError":
        raise exc
    message = " ".join(exc.format_message().split())
    context = getattr(exc, "ctx", None)
    if context is not None and exc.exit_code == output.USAGE:
        message += f" (see {context.command_path} --help)"
    output.fail(message)
    raise typer.Exit(exc.exit_code) from None


def _debugging(ctx: typer.Context) -> bool:
    return isinstance(ctx.obj, CliState) and ctx.obj.debug


app = typer.Typer(
    cls=CrmGroup,
    name="crm",
    help="A terminal CRM for small teams: customers, deals, orders, tickets, notes and tasks.",
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    add_completion=True,
)


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"crm {__version__}\n")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database file path or URL (or set CRM_DB / CRM_DATABASE_URL).",
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            "-u",
            help="Act as this user (or set CRM_USER; default: your login name).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """A terminal CRM for small teams: customers, contacts, notes and tasks."""
    current = state(ctx)
    current.db, current.user, current.debug = db, user, debug
    if ctx.invoked_subcommand is None:
        _run_desk(current)


def _run_desk(current: CliState) -> None:
    """Open the interactive desk; the TUI toolkit is loaded only here."""
    current.settings()  # a broken settings file is said before anything starts
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        output.fail("the desk needs a terminal; for scripts use the commands (crm --help)")
        raise typer.Exit(output.USAGE)
    from crm_tui.app import make_app

    make_app(current.crm()).run()


def main() -> None:
    """Entry point of the `crm` console script."""
    app(prog_name="crm")
