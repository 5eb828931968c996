"""What every command shares: the global options and the crm they open, lazily."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

if TYPE_CHECKING:
    from crm_tui.config import Settings
    from crm_tui.logic.core.context import Crm


@dataclass
class CliState:
    db: str | None = None
    user: str | None = None
    debug: bool = False
    _crm: Crm | None = field(default=None, repr=False)
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        """The settings of this run, read once; a settings file or ``CRM_*`` variable that
        cannot be read is invalid input, said in one line naming where it is."""
        if self._settings is None:
            from crm_tui.config import SettingsError, load_settings
            from crm_tui.logic.core.errors import Invalid

            try:
                self._settings = load_settings(db=self.db, user=self.user)
            except SettingsError as exc:
                raise Invalid(str(exc)) from None
        return self._settings

    def crm(self) -> Crm:
        """The open crm, opened on first use (commands that do not need it never pay)."""
        if self._crm is None:
            from crm_tui.logic.core.context import open_crm

            self._crm = open_crm(self.settings())
        return self._crm

    def close(self) -> None:
        if self._crm is not None:
            self._crm.close()
            self._crm = None


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def crm(ctx: typer.Context) -> Crm:
    """The crm for this command run."""
    return state(ctx).crm()


@contextmanager
def input_lines(source: str) -> Iterator[Iterator[str]]:
    """The lines of ``source`` (a path, or - for stdin), read as UTF-8 one at a time."""
    from crm_tui.logic.core.errors import Invalid, quoted

    if source == "-":
        stream: TextIO = sys.stdin
        name = "standard input"
    else:
        path = Path(source).expanduser()
        try:
            stream = path.open(encoding="utf-8", newline="")
        except FileNotFoundError:
            raise Invalid(f"no file {path}") from None
        except ValueError:  # a NUL character in the name
            raise Invalid(f"no file {quoted(source)}") from None
        except OSError as exc:
            raise Invalid(f"cannot read {path}: {exc.strerror}") from None
        name = str(path)

    def lines() -> Iterator[str]:
        try:
            yield from stream
        except UnicodeDecodeError as exc:
            raise Invalid(f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None

    try:
        yield lines()
    finally:
        if stream is not sys.stdin:
            stream.close()


def refuse_mixed(from_file: str | None, /, **given: Any) -> None:
    """``--from`` and the single-record arguments exclude each other."""
    if from_file is None:
        return
    mixed = [name for name, value in given.items() if value not in (None, False, "", [], ())]
    if mixed:
        raise typer.BadParameter(
            f"--from reads whole records; leave out {', '.join(mixed)}", param_hint="--from"
        )


# Numbers typed on the command line are bounded where they are read (exit 2 when out of
# range), so none reaches the database too large for its integers. Lists show at most as
# many rows as the page_size setting may ask for; references, versions and positions are
# at most the largest 32-bit integer, the largest id a PostgreSQL table of crm holds.
MAX_ROWS = 10_000
MAX_NUMBER = 2**31 - 1

Limit = Annotated[
    int | None,
    typer.Option(
        "--limit", "-n", min=1, max=MAX_ROWS, help="How many to show (default: the page_size setting, 50)."
    ),
]


def page_size(ctx: typer.Context, limit: int | None) -> int:
    """The rows to show: ``--limit`` if given, else the page_size setting."""
    return limit if limit is not None else crm(ctx).settings.page_size


def supplied(options: dict[str, Any]) -> dict[str, Any]:
    """The options the user gave: those not left at None ("" is given: it clears a field)."""
    return {name: value for name, value in options.items() if value is not None}
