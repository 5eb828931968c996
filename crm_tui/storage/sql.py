"""SQL that differs between SQLite and PostgreSQL, behind one function each (with a
generic SQL fallback), for logic to use as SQLAlchemy expressions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, DateTime, Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class month_of(FunctionElement[str]):  # used like a SQL function
    """The month of a date or a UTC datetime column, as text: 2026-04."""

    type = String()
    inherit_cache = True
    name = "month_of"


@compiles(month_of)
def _month_generic(element: month_of, compiler: Any, **kw: Any) -> str:
    (value,) = element.clauses
    return f"substr(CAST({compiler.process(value, **kw)} AS VARCHAR(32)), 1, 7)"


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    # Dates are stored as YYYY-MM-DD and datetimes as naive UTC YYYY-MM-DD HH:MM:SS.ffffff.
    (value,) = element.clauses
    return f"substr({compiler.process(value, **kw)}, 1, 7)"


@compiles(month_of, "postgresql")
def _month_postgresql(element: month_of, compiler: Any, **kw: Any) -> str:
    (value,) = element.clauses
    sql = compiler.process(value, **kw)
    if isinstance(value.type, DateTime) or not isinstance(value.type, Date):
        sql = f"({sql}) AT TIME ZONE 'UTC'"  # the month in UTC, whatever the session's zone
    return f"to_char({sql}, 'YYYY-MM')"


class seconds_between(FunctionElement[float]):  # used like a SQL function
    """Seconds from the first datetime to the second, with their microseconds."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_generic(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(value, **kw) for value in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end}) - ({start}))"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    # SQLite's date functions keep milliseconds only, and round: read as a whole,
    # 00:00:00.9997 is 00:00:01. So the whole seconds come from the first 19 characters
    # (the days between them, rounded to the second, which they are), and the stored
    # fraction (".ffffff" from the 20th character; none reads as 0) is added.
    start, end = (compiler.process(value, **kw) for value in element.clauses)
    return (
        f"(round((julianday(substr({end}, 1, 19)) - julianday(substr({start}, 1, 19))) * 86400)"
        f" + (CAST(substr({end}, 20) AS REAL) - CAST(substr({start}, 20) AS REAL)))"
    )


class no_index(FunctionElement[Any]):  # used like a SQL function
    """The column itself, but not to be looked up through an index.

    SQLite picks an index for any condition on an indexed column unless told otherwise,
    even when the condition keeps most rows and reading the table straight through is
    several times faster than a lookup per row. On SQLite this is the documented
    ``+column``, elsewhere the plain column.
    """

    inherit_cache = True
    name = "no_index"

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(no_index)
def _no_index_generic(element: no_index, compiler: Any, **kw: Any) -> str:
    (value,) = element.clauses
    return compiler.process(value, **kw)


@compiles(no_index, "sqlite")
def _no_index_sqlite(element: no_index, compiler: Any, **kw: Any) -> str:
    (value,) = element.clauses
    return f"+{compiler.process(value, **kw)}"
