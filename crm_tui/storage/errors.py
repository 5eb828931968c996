"""Errors raised by storage; logic turns them into the user's words."""


class StorageError(Exception):
    """Base of the errors storage raises."""


class DatabaseUnavailable(StorageError):
    """The database cannot be opened or created where it was asked for."""


class SchemaTooNew(StorageError):
    """The database was written by a newer crm than this one."""


class SchemaTooOld(StorageError):
    """The database needs `crm db upgrade` before this crm can use it."""


class StaleRecord(StorageError):
    """A row changed (or vanished) between reading it and writing it."""


# SQLSTATE classes (and one code) by which PostgreSQL says it cannot be reached or
# used by this login: connection (08), authorization (28), no such database (3D),
# out of resources (53), shut down by its operator (57), no right to a table (42501).
_ACCESS_CLASSES = frozenset({"08", "28", "3D", "53", "57"})
_NO_RIGHT = "42501"


def is_access_problem(exc: Exception) -> bool:
    """Whether a database error says the database cannot be reached or used as it is
    set up (a refused connection, a login without the right, a read-only or locked
    SQLite file), rather than that crm asked something wrong of it."""
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):  # SQLite's, and a connection PostgreSQL lost
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(code, str) and (code[:2] in _ACCESS_CLASSES or code == _NO_RIGHT)


def driver_message(exc: Exception) -> str:
    """The database's own words for an error, on one line, each line said once: no SQL
    statement and no parameters (SQLAlchemy adds those; they may hold customers' data).

    psycopg writes a refused connection over two lines, and, having tried a server
    twice (with TLS and without), the same failure twice.
    """
    text = str(getattr(exc, "orig", None) or exc).removeprefix("connection failed: ")
    said: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line and line not in said:
            said.append(line)
    return "; ".join(said)
