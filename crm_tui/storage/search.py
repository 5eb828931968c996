"""The full-text index: one document per customer, contact, deal, ticket and note.

The index is kept in sync by triggers in the database itself, so every write counts,
whoever makes it: the ORM, bulk Core inserts, merges, raw SQL, a restored file. On
SQLite it is an FTS5 table; on PostgreSQL a table with a weighted ``tsvector`` and a
GIN index. Both hold the same documents, keyed by ``record id * 8 + kind code``:

    name  the record's name or title (customers: with the company)  weight A
    keys  the name folded by logic (``name_key``): Søren is "soren" weight A
    info  emails and phones                                          weight B
    body  notes, descriptions, titles of contacts                    weight D

``hidden`` marks archived and merged records, and everything of an archived customer.
Migration 0005 calls ``install``; a later change of the document shape needs a new
migration that calls it again (it drops what it creates first).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, text
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import NullType

from crm_tui.storage import progress

TABLE = "search_index"
KINDS = {"customer": 1, "contact": 2, "deal": 3, "ticket": 4, "note": 5}
_KIND_NAMES = {code: kind for kind, code in KINDS.items()}
_SPAN = 8  # document key = record id * 8 + kind code
# Candidates read per ranking tier: the newest of them compete; enough that a page of
# 20 distinct records survives de-duplication, few enough to stay within a millisecond.
_CAP = 300


def is_index_table(name: str) -> bool:
    """Whether a table belongs to the index (FTS5 makes shadow tables beside it)."""
    return name == TABLE or name.startswith(TABLE + "_")


# The documents, as SQL over one row ``{r}`` (NEW in a trigger, the table in a rebuild).
# The same text serves SQLite and PostgreSQL.
_CUSTOMER_HIDDEN = (
    "EXISTS (SELECT 1 FROM customers c WHERE c.id = {r}.customer_id"
    " AND (c.archived_at IS NOT NULL OR c.merged_into_id IS NOT NULL))"
)


@dataclass(frozen=True)
class _Source:
    table: str
    kind: str
    name: str
    keys: str
    info: str
    body: str
    customer: str
    hidden: str
    columns: tuple[str, ...]  # a change of these re-indexes the row


_SOURCES = (
    _Source(
        "customers", "customer",
        name="{r}.name || coalesce(' ' || {r}.company, '')",
        keys="{r}.name_key || coalesce(' ' || {r}.company_key, '')",
        info="coalesce({r}.email, '') || ' ' || coalesce({r}.phone, '')",
        body="''",
        customer="{r}.id",
        hidden="({r}.archived_at IS NOT NULL OR {r}.merged_into_id IS NOT NULL)",
        columns=("name", "name_key", "company", "company_key", "email", "phone", "archived_at",
                 "merged_into_id"),
    ),
    _Source(
        "contacts", "contact",
        name="{r}.name", keys="{r}.name_key",
        info="coalesce({r}.email, '') || ' ' || coalesce({r}.phone, '') || ' ' || coalesce({r}.mobile, '')",
        body="coalesce({r}.title, '')",
        customer="{r}.customer_id", hidden=_CUSTOMER_HIDDEN,
        columns=("name", "name_key", "title", "email", "phone", "mobile", "customer_id"),
    ),
    _Source(
        "deals", "deal",
        name="{r}.title", keys="''", info="''", body="coalesce({r}.lost_reason, '')",
        customer="{r}.customer_id",
        hidden="({r}.archived_at IS NOT NULL OR " + _CUSTOMER_HIDDEN + ")",
        columns=("title", "lost_reason", "customer_id", "archived_at"),
    ),
    _Source(
        "tickets", "ticket",
        name="{r}.subject", keys="''", info="''",
        body="{r}.description || coalesce(' ' || {r}.resolution, '')",
        customer="{r}.customer_id",
        hidden="({r}.archived_at IS NOT NULL OR {r}.merged_into_id IS NOT NULL OR " + _CUSTOMER_HIDDEN + ")",
        columns=("subject", "description", "resolution", "customer_id", "archived_at", "merged_into_id"),
    ),
    _Source(
        "activities", "note",
        name="''", keys="''", info="''", body="coalesce({r}.subject || ': ', '') || {r}.body",
        customer="{r}.customer_id", hidden=_CUSTOMER_HIDDEN,
        columns=("subject", "body", "customer_id"),
    ),
)  # fmt: skip


def _document(source: _Source, row: str, key_column: str) -> tuple[str, str]:
    """The column list and the values of one document, for INSERT ... SELECT/VALUES."""
    key = f"{row}.id * {_SPAN} + {KINDS[source.kind]}"
    values = [key, source.name, source.keys, source.info, source.body, source.customer, source.hidden]
    columns = f"{key_column}, name, keys, info, body, customer_id, hidden"
    return columns, ", ".join(value.format(r=row) for value in values)


# Children whose visibility follows their customer's: (table, kind, extra condition).
_CHILDREN = (
    ("contacts", "contact", ""),
    ("activities", "note", ""),
    ("deals", "deal", " AND archived_at IS NULL"),
    ("tickets", "ticket", " AND archived_at IS NULL AND merged_into_id IS NULL"),
)


def _follow_customer(key_column: str) -> list[str]:
    """Statements that show or hide a customer's records with it (NEW is the customer)."""
    hidden = "(NEW.archived_at IS NOT NULL OR NEW.merged_into_id IS NOT NULL)"
    return [
        f"UPDATE {TABLE} SET hidden = {hidden} WHERE {key_column} IN "
        f"(SELECT id * {_SPAN} + {KINDS[kind]} FROM {table} WHERE customer_id = NEW.id{extra})"
        for table, kind, extra in _CHILDREN
    ]


# SQLite: FTS5 and plain triggers.

_FTS5 = (
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5("
    "name, keys, info, body, customer_id UNINDEXED, hidden UNINDEXED, "
    # remove_diacritics 2 folds Zürich to zurich; prefix indexes make "acm*" a lookup.
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')"
)


# A bulk write (an import) names its table here for the length of its transaction: the
# rows it inserts are indexed together at its end, which costs a quarter of indexing
# them one by one through the trigger. Nobody else sees the row: it is written and
# removed inside one write transaction.
PAUSED = f"{TABLE}_paused"
_PAUSED_TABLE = f"CREATE TABLE IF NOT EXISTS {PAUSED} (source TEXT PRIMARY KEY)"


def _insert_trigger(source: _Source, pausable: bool = True) -> str:
    columns, new = _document(source, "NEW", "rowid")
    when = f"WHEN NOT EXISTS (SELECT 1 FROM {PAUSED} WHERE source = '{source.table}') " if pausable else ""
    return (
        f"CREATE TRIGGER {TABLE}_{source.table}_insert AFTER INSERT ON {source.table} "
        f"{when}BEGIN INSERT INTO {TABLE} ({columns}) VALUES ({new}); END"
    )


def _sqlite_triggers(source: _Source) -> list[str]:
    columns, new = _document(source, "NEW", "rowid")
    key = f"OLD.id * {_SPAN} + {KINDS[source.kind]}"
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in source.columns)
    name = f"{TABLE}_{source.table}"
    statements = [
        _insert_trigger(source),
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF {', '.join(source.columns)} ON {source.table} "
        f"WHEN {changed} BEGIN DELETE FROM {TABLE} WHERE rowid = {key}; "
        f"INSERT INTO {TABLE} ({columns}) VALUES ({new}); END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {source.table} BEGIN "
        f"DELETE FROM {TABLE} WHERE rowid = {key}; END",
    ]
    if source.table == "customers":
        was = "(OLD.archived_at IS NULL AND OLD.merged_into_id IS NULL)"
        now = "(NEW.archived_at IS NULL AND NEW.merged_into_id IS NULL)"
        follow = "; ".join(_follow_customer("rowid"))
        statements.append(
            f"CREATE TRIGGER {TABLE}_customers_follow AFTER UPDATE OF archived_at, merged_into_id "
            f"ON customers WHEN {was} IS NOT {now} BEGIN {follow}; END"
        )
    return statements


# PostgreSQL: a table, a generated tsvector, and trigger functions.


# Accents folded in SQL without the unaccent extension (often not installable): each
# accented Latin letter whose fold is one plain letter. Logic's folded name_key is
# indexed too, so names fold fully; this covers titles and notes.
def _fold_map() -> tuple[str, str]:
    source, target = [], []
    for code in range(0xC0, 0x250):
        letter = chr(code)
        plain = "".join(
            ch for ch in unicodedata.normalize("NFKD", letter.casefold()) if not unicodedata.combining(ch)
        )
        plain = plain.translate(str.maketrans("øłđðıħŧ", "olddiht"))
        if letter.isalpha() and len(plain) == 1 and plain.isascii() and plain != letter:
            source.append(letter)
            target.append(plain)
    # Punctuation becomes a space, as for SQLite's tokenizer; "%" is left out because
    # psycopg reads it as a placeholder (the parser splits words on it anyway).
    punctuation = "@.,;:!?-+_/\\()[]{}<>&|#*~^$=\"'`"
    return "".join(source) + punctuation, "".join(target) + " " * len(punctuation)


def _pg_folded(expression: str) -> str:
    source, target = _fold_map()
    quote = lambda s: "'" + s.replace("'", "''") + "'"  # noqa: E731
    return f"translate({expression}, {quote(source)}, {quote(target)})"


def _pg_vector() -> str:
    def part(expression: str, weight: str) -> str:
        return f"setweight(to_tsvector('simple'::regconfig, {_pg_folded(expression)}), '{weight}')"

    return " || ".join([part("name || ' ' || keys", "A"), part("info", "B"), part("body", "D")])


def _pg_table() -> list[str]:
    return [
        f"CREATE TABLE {TABLE} (doc_id BIGINT PRIMARY KEY, customer_id INTEGER, hidden BOOLEAN NOT NULL,"
        " name TEXT NOT NULL, keys TEXT NOT NULL, info TEXT NOT NULL, body TEXT NOT NULL,"
        f" document TSVECTOR GENERATED ALWAYS AS ({_pg_vector()}) STORED)",
        f"CREATE INDEX {TABLE}_document ON {TABLE} USING gin (document)",
    ]


def _pg_triggers(source: _Source) -> list[str]:
    columns, new = _document(source, "NEW", "doc_id")
    key = f"OLD.id * {_SPAN} + {KINDS[source.kind]}"
    function = f"{TABLE}_{source.table}_sync"
    follow = ""
    if source.table == "customers":
        changed = (
            "(OLD.archived_at IS NULL AND OLD.merged_into_id IS NULL) IS DISTINCT FROM "
            "(NEW.archived_at IS NULL AND NEW.merged_into_id IS NULL)"
        )
        follow = f"IF TG_OP = 'UPDATE' AND {changed} THEN {'; '.join(_follow_customer('doc_id'))}; END IF;"
    changed_columns = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in source.columns)
    return [
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN DELETE FROM {TABLE} WHERE doc_id = {key}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN INSERT INTO {TABLE} ({columns}) VALUES ({new}); END IF; "
        f"{follow} RETURN NULL; END $$",
        f"CREATE TRIGGER {function}_insert AFTER INSERT ON {source.table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {function}_update AFTER UPDATE OF {', '.join(source.columns)} ON {source.table} "
        f"FOR EACH ROW WHEN ({changed_columns.replace('OLD.', 'OLD.').replace('NEW.', 'NEW.')}) "
        f"EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {function}_delete AFTER DELETE ON {source.table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


# Installing and rebuilding.


def _is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def uninstall(conn: Connection) -> None:
    """Drop the index, its triggers and functions."""
    sqlite = _is_sqlite(conn)
    for source in _SOURCES:
        if sqlite:
            for event in ("insert", "update", "delete"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TABLE}_{source.table}_{event}")
        else:
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {TABLE}_{source.table}_sync() CASCADE")
    if sqlite:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TABLE}_customers_follow")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {PAUSED}")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")


def install(conn: Connection) -> None:
    """Create the index and its triggers, and fill it from the data."""
    uninstall(conn)
    sqlite = _is_sqlite(conn)
    statements = [_FTS5, _PAUSED_TABLE] if sqlite else _pg_table()
    for source in _SOURCES:
        statements += _sqlite_triggers(source) if sqlite else _pg_triggers(source)
    for statement in statements:
        conn.exec_driver_sql(statement)
    _fill(conn)


def pause_on_insert(conn: Connection, pausable: bool = True) -> None:
    """Make each SQLite insert trigger skip a table named in the paused table, or (not
    ``pausable``) index every row again; the index itself is kept."""
    if not _is_sqlite(conn):
        return
    conn.exec_driver_sql(_PAUSED_TABLE if pausable else f"DROP TABLE IF EXISTS {PAUSED}")
    for source in _SOURCES:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TABLE}_{source.table}_insert")
        conn.exec_driver_sql(_insert_trigger(source, pausable))


@contextmanager
def indexed_at_end(conn: Connection, table: str) -> Iterator[int | None]:
    """Index the rows inserted into ``table`` inside this block all at once, at its end.

    Call it inside a write transaction (which holds SQLite's write lock, so the rows
    with ids above the largest one now are exactly those this block inserts); the block
    gets that largest id (0 for an empty table). On PostgreSQL the triggers keep
    indexing row by row, and the block gets None.
    """
    if not _is_sqlite(conn):
        yield None
        return
    last = conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar_one()
    conn.exec_driver_sql(f"INSERT INTO {PAUSED} (source) VALUES ('{table}')")
    yield last
    conn.exec_driver_sql(f"DELETE FROM {PAUSED} WHERE source = '{table}'")
    conn.exec_driver_sql(index_rows_after(table, last))


def index_rows_after(table: str, last: int) -> str:
    """SQLite: the statement that indexes the rows of ``table`` with ids above ``last``."""
    source = next(source for source in _SOURCES if source.table == table)
    columns, values = _document(source, table, "rowid")
    return f"INSERT INTO {TABLE} ({columns}) SELECT {values} FROM {table} WHERE id > {int(last)}"


def _fill(conn: Connection) -> None:
    key_column = "rowid" if _is_sqlite(conn) else "doc_id"
    total = None
    if progress.reported():
        total = sum(conn.exec_driver_sql(f"SELECT count(*) FROM {s.table}").scalar_one() for s in _SOURCES)
    with progress.step("indexing for search", total) as advance:
        for source in _SOURCES:
            columns, values = _document(source, source.table, key_column)
            done = conn.exec_driver_sql(
                f"INSERT INTO {TABLE} ({columns}) SELECT {values} FROM {source.table}"
            )
            advance(done.rowcount)
    if _is_sqlite(conn):
        # Merge FTS5's segments into one b-tree: fewer, larger reads per query.
        conn.exec_driver_sql(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('optimize')")
    else:
        conn.exec_driver_sql(f"ANALYZE {TABLE}")


def rebuild(conn: Connection) -> int:
    """Empty the index and fill it again from the data; returns the documents indexed."""
    conn.exec_driver_sql(f"DELETE FROM {TABLE}")
    _fill(conn)
    return conn.exec_driver_sql(f"SELECT count(*) FROM {TABLE}").scalar_one()


# Querying.

# A query is a list of words; each word is a list of spellings any of which may match
# (the folded "soren" and the typed "søren", since SQLite's tokenizer keeps ø).
Words = list[list[str]]


@dataclass(frozen=True)
class Found:
    """One record found: what it is, whose it is, how well and where it matched."""

    kind: str  # customer, contact, deal, ticket (a note's customer is the record)
    record_id: int
    customer_id: int
    tier: int  # 4 whole words in the name, 3 prefixes in the name, 2 in emails/phones, 1 anywhere
    exact: bool  # the name is exactly the query
    matched: str  # the kind of document that matched: the above, or "note"
    matched_id: int
    name: str
    info: str
    body: str


# (tier, columns searched, whole words or prefixes); a record is ranked by its best tier.
_TIERS = ((4, "name", False), (3, "name", True), (2, "info", True), (1, None, True))


def _fts5_query(words: Words, columns: str | None, prefix: bool) -> str:
    star = "*" if prefix else ""
    groups = " AND ".join("(" + " OR ".join(f'"{s}"{star}' for s in word) + ")" for word in words)
    scope = {"name": "{name keys}", "info": "{info}", None: ""}[columns]
    return f"{scope} : ({groups})" if scope else groups


def _tsquery(words: Words, columns: str | None, prefix: bool) -> str:
    suffix = (":*" if prefix else ":") + {"name": "A", "info": "B", None: ""}[columns]
    suffix = "" if suffix == ":" else suffix
    return " & ".join("(" + " | ".join(f"{s}{suffix}" for s in word) + ")" for word in words)


def find(
    conn: Connection, words: Words, exact: str, *, kinds: set[str] | None = None,
    hidden: bool = False, limit: int = 20,
) -> list[Found]:  # fmt: skip
    """The best ``limit`` records whose documents hold every word.

    Rank: the tier of the best match, then an exact name, then shorter names, then the
    newest. Each tier reads its newest ``_CAP`` matches only and stops early once
    the page is full, so a word in half the data costs what a rare word does.
    """
    if not words or limit < 1:
        return []
    codes = sorted(
        {KINDS[k] for k in kinds or KINDS if k != "note"}
        | ({5} if not kinds or "customer" in kinds else set())
    )
    best: dict[tuple[str, int], tuple[tuple[Any, ...], int]] = {}
    for tier, columns, prefix in _TIERS:
        for key, customer_id, name_len, is_exact in _tier_rows(
            conn, words, exact, tier, columns, prefix, codes, hidden
        ):
            kind = _KIND_NAMES[key % _SPAN]
            entity = ("customer", customer_id) if kind == "note" else (kind, key // _SPAN)
            rank = (tier, bool(is_exact), -(name_len or 0) if tier >= 3 else 0, key)
            if entity not in best or rank > best[entity][0]:
                best[entity] = (rank, key)
        if len(best) >= limit:
            break
    chosen = sorted(best.items(), key=lambda item: item[1][0], reverse=True)[:limit]
    texts = _texts(conn, [key for _, (_, key) in chosen])
    found = []
    for (kind, record_id), (rank, key) in chosen:
        name, info, body, customer_id = texts[key]
        found.append(
            Found(kind, record_id, customer_id, rank[0], rank[1], _KIND_NAMES[key % _SPAN], key // _SPAN,
                  name, info, body)
        )  # fmt: skip
    return found


def _tier_rows(
    conn: Connection, words: Words, exact: str, tier: int, columns: str | None, prefix: bool,
    codes: list[int], hidden: bool,
) -> Sequence[Row[int, int, int, bool]]:  # fmt: skip
    kinds = ", ".join(str(code) for code in codes)
    if _is_sqlite(conn):
        sql = (
            f"SELECT rowid, customer_id, length(name), keys = :exact OR lower(name) = :exact FROM {TABLE} "
            f"WHERE {TABLE} MATCH :query AND rowid % {_SPAN} IN ({kinds})"
            + ("" if hidden else " AND hidden = 0")
            + " ORDER BY rowid DESC LIMIT :cap"
        )
        query = _fts5_query(words, columns, prefix)
    else:
        sql = (
            f"SELECT doc_id, customer_id, length(name), keys = :exact OR lower(name) = :exact FROM {TABLE} "
            f"WHERE document @@ to_tsquery('simple', :query) AND doc_id % {_SPAN} IN ({kinds})"
            + ("" if hidden else " AND NOT hidden")
            + " ORDER BY doc_id DESC LIMIT :cap"
        )
        query = _tsquery(words, columns, prefix)
    return conn.execute(text(sql), {"query": query, "exact": exact, "cap": _CAP}).all()


def _texts(conn: Connection, keys: list[int]) -> dict[int, tuple[str, str, str, int]]:
    if not keys:
        return {}
    key_column = "rowid" if _is_sqlite(conn) else "doc_id"
    rows = conn.execute(
        text(
            f"SELECT {key_column}, name, info, body, customer_id FROM {TABLE} WHERE {key_column} IN :keys"
        ).bindparams(bindparam("keys", expanding=True)),
        {"keys": keys},
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


# Customer ids as a SQL condition, for lists that filter and sort on their own.


class CustomerMatch(ColumnElement[Any]):
    """``id_column`` is a customer whose own document holds every word (prefixes)."""

    # No type (so ColumnElement[Any], though it is a condition): a Boolean one would be
    # compared with 1 on SQLite ("id IN (...) = 1"), which hides the IN from the planner.
    type = NullType()
    inherit_cache = False  # the words are part of the SQL text

    def __init__(self, id_column: Any, words: Words) -> None:
        self.id_column = id_column
        self.words = words


def customer_matches(id_column: Any, words: Words) -> ColumnElement[bool]:
    """A condition on ``id_column``: the customer's name, email or phone holds every word."""
    return CustomerMatch(id_column, words)


@compiles(CustomerMatch, "sqlite")
def _customer_match_sqlite(element: CustomerMatch, compiler: Any, **kw: Any) -> str:
    query = bindparam("search_query", _fts5_query(element.words, None, True), unique=True)
    ids = text(
        f"SELECT rowid / {_SPAN} FROM {TABLE} WHERE {TABLE} MATCH :search_query AND rowid % {_SPAN} = 1"
    ).bindparams(query)
    return f"{compiler.process(element.id_column, **kw)} IN ({compiler.process(ids, **kw)})"


@compiles(CustomerMatch, "postgresql")
def _customer_match_postgresql(element: CustomerMatch, compiler: Any, **kw: Any) -> str:
    query = bindparam("search_query", _tsquery(element.words, None, True), unique=True)
    ids = text(
        f"SELECT customer_id FROM {TABLE} WHERE document @@ to_tsquery('simple', :search_query) "
        f"AND doc_id % {_SPAN} = 1"
    ).bindparams(query)
    return f"{compiler.process(element.id_column, **kw)} IN ({compiler.process(ids, **kw)})"


def customers_matching_at_most(conn: Connection, words: Words, cap: int) -> int:
    """How many customers' own documents hold every word, counting no further than ``cap``
    (cheap: the index alone answers, and stops at ``cap``)."""
    if _is_sqlite(conn):
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM {TABLE} WHERE {TABLE} MATCH :query "
            f"AND rowid % {_SPAN} = 1 LIMIT :cap)"
        )
        query = _fts5_query(words, None, True)
    else:
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM {TABLE} WHERE document @@ to_tsquery('simple', :query) "
            f"AND doc_id % {_SPAN} = 1 LIMIT :cap) AS found"
        )
        query = _tsquery(words, None, True)
    return conn.execute(text(sql), {"query": query, "cap": cap}).scalar_one()
