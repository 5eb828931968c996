"""Copies: the configured database's data moved whole into another database, verified.

`crm db copy --to TARGET` is how a team moves between a SQLite file and PostgreSQL, in
either direction, in one command. The rows are read from one snapshot of the source
and written in one transaction on the target; before it commits, every table's rows
are read back from the target and their count and checksum (``storage.checksums``)
compared with what was read from the source. A difference rolls the whole copy back.

Only an admin of the source may copy it (a copy is all of its data). A target that
holds crm data (it has users) is refused unless ``replace`` is given; then the acting
user must be its admin too, and a safety backup of it is taken first, as a restore
does. A target with no crm data is given this crm's schema; a new SQLite file that the
copy made is removed again if the copy fails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from crm_tui.config import Settings
from crm_tui.logic.admin.backups import PERMISSION, create_backup
from crm_tui.logic.admin.database import STATE_MESSAGES
from crm_tui.logic.core.context import Crm, open_crm
from crm_tui.logic.core.errors import Conflict, DatabaseProblem, Invalid
from crm_tui.logic.core.schemas import Output
from crm_tui.storage import backup as files
from crm_tui.storage import checksums, dump, schema
from crm_tui.storage.database import Database, normalise_url, sqlite_file
from crm_tui.storage.errors import StorageError, driver_message
from crm_tui.storage.models import Customer, User


class TableCopy(Output):
    """One table of a copy: its rows, and its checksum read on each side."""

    table: str
    rows: int
    source_checksum: str
    target_checksum: str


class CopyReport(Output):
    """What a copy did."""

    source: str
    target: str
    rows: int
    tables: list[TableCopy]
    replaced: bool
    safety_backup: str | None


def copy_database(
    settings: Settings, to: str, *, replace: bool = False, folder: Path | str | None = None
) -> CopyReport:
    """Copy every crm row of the configured database into ``to`` (a database URL, or the
    path of a SQLite file), verified table by table before the target commits.

    ``replace``: a target holding crm data has it replaced (after a safety backup into
    ``folder``); without it such a target is refused and left as it is.
    """
    source = _source(settings)
    try:
        target_settings = settings.model_copy(update={"db": _as_target(to)})
        _refuse_same(source.database, target_settings)
        with _target(target_settings) as target:
            safety = _prepare(target, replace, folder)
            tables = _copy_rows(source.database, target.database)
            return CopyReport(
                source=source.database.describe(),
                target=target.database.describe(),
                rows=sum(table.rows for table in tables),
                tables=tables,
                replaced=safety is not None,
                safety_backup=safety,
            )
    except StorageError as exc:
        raise DatabaseProblem(str(exc)) from None
    finally:
        source.close()


def _source(settings: Settings) -> Crm:
    """The configured database, at this crm's schema, once the actor is its admin."""
    crm = open_crm(settings, check_schema=False, create=False)
    try:
        state = schema.read_status(crm.database).state
        where = crm.database.describe()
        if state == "empty":
            raise Invalid(f"{where} holds no crm data yet: there is nothing to copy")
        if state != "current":
            raise DatabaseProblem(f"{where}: {STATE_MESSAGES[state]}")
        with crm.work(PERMISSION, write=False):
            pass
        return crm
    except StorageError as exc:
        crm.close()
        raise DatabaseProblem(str(exc)) from None
    except BaseException:
        crm.close()
        raise


def _as_target(to: str) -> str:
    """A URL as it is; a path as the absolute path of a SQLite file."""
    if "://" in to:
        normalise_url(to)  # refuses what is no database URL crm can use
        return to
    return str(Path(to).expanduser().absolute())


def _refuse_same(source: Database, target_settings: Settings) -> None:
    url = normalise_url(target_settings.database_target()[0])
    path = sqlite_file(url)
    if source.path is not None and path is not None:
        same = source.path.resolve() == path.resolve()
    else:
        same = source.url.set(password=None) == url.set(password=None)
    if same:
        raise Invalid(f"{source.describe()} is the database being copied: give another --to")


@contextmanager
def _target(target_settings: Settings) -> Iterator[Crm]:
    """The target opened as the acting user; a SQLite file made for it is removed if
    the copy fails."""
    path = sqlite_file(normalise_url(target_settings.database_target()[0]))
    made = path is not None and not path.exists()
    target = open_crm(target_settings, check_schema=False, create=True)
    try:
        yield target
    except BaseException:
        target.close()
        if made and path is not None:
            files.remove_sqlite_files(path)
        raise
    target.close()


def _prepare(target: Crm, replace: bool, folder: Path | str | None) -> str | None:
    """Check the target and bring it to this crm's schema; the safety backup's path
    when it held crm data (and ``replace`` allows replacing it)."""
    where = target.database.describe()
    state = schema.read_status(target.database).state
    if state == "newer":
        raise DatabaseProblem(f"{where} was written by a newer crm: install a newer crm to copy into it")
    if state == "foreign":
        raise DatabaseProblem(f"{where} holds tables that are not a crm database; copy into an empty one")
    safety = None
    if state != "empty" and target.has_users():
        if not replace:
            raise Conflict(
                f"{where} already holds crm data ({_holdings(target)}): give --replace to replace it"
            )
        with target.work(PERMISSION, write=False):
            pass
        safety = create_backup(target, folder=folder, kind="safety").file
    if state != "current":
        from crm_tui.logic.service.sla import span_measure

        schema.upgrade(target.database, measure_spans=span_measure(target))
    return safety


def _holdings(crm: Crm) -> str:
    with crm.database.unit_of_work(write=False) as session:
        users = session.execute(select(func.count(col(User.id)))).scalar_one()
        customers = session.execute(select(func.count(col(Customer.id)))).scalar_one()
    return f"{users:,} users, {customers:,} customers"


def _copy_rows(source: Database, target: Database) -> list[TableCopy]:
    """Every crm row of ``source`` in place of ``target``'s, in one transaction on the
    target that commits only if what it holds matches, table by table, what was read."""
    where = target.describe()
    read: dict[str, checksums.Tally] = defaultdict(checksums.Tally)
    try:
        with target.connection(write=True) as conn, dump.read_snapshot(source.engine) as rows:
            dump.replace_rows(conn, checksums.tallied(dump.database_chunks(rows), read))
            stored = checksums.tally_database(conn)
            differing = [name for name, tally in stored.items() if not _equal(read[name], tally)]
            if differing:
                raise DatabaseProblem(
                    f"the copy in {where} does not match the source in "
                    + ", ".join(f"{name} ({read[name].rows} rows read, {stored[name].rows} stored)"
                                for name in differing)
                    + "; nothing was written"
                )  # fmt: skip
    except DBAPIError as exc:
        problem = driver_message(exc)
        raise DatabaseProblem(f"cannot copy into {where}: {problem}; nothing was written") from None
    return [
        TableCopy(
            table=name, rows=tally.rows, source_checksum=read[name].checksum, target_checksum=tally.checksum
        )
        for name, tally in stored.items()
    ]


def _equal(read: checksums.Tally, stored: checksums.Tally) -> bool:
    """Whether a table holds what was read: the same rows, by count and by the whole
    checksum (not only its digits shown)."""
    return (read.rows, read.total) == (stored.rows, stored.total)
