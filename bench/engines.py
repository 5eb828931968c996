"""A plain connection to a benchmark's database, SQLite's (sqlite3) or PostgreSQL's
(psycopg): what the baselines and the counts of the data are read with."""

from __future__ import annotations

import sqlite3
from typing import Any


class Plain:
    """A plain connection to the database, SQLite's or PostgreSQL's, and how each
    writes a parameter and a word as a prefix query."""

    def __init__(self, database: str) -> None:
        self.postgres = "://" in database
        if self.postgres:
            from bench.server import connect

            self.connection = connect(database, autocommit=True)
        else:
            self.connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)

    def execute(self, sql: str, parameters: tuple[object, ...] = ()) -> Any:
        return self.connection.execute(sql.replace("?", "%s") if self.postgres else sql, parameters)

    def prefix(self, word: str) -> str:
        return f"{word}:*" if self.postgres else f'"{word}"*'

    def close(self) -> None:
        self.connection.close()
