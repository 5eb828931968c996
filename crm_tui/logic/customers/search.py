"""Finding anything by a few words: customers, contacts, deals and tickets.

Every word typed must start a word of the record (``acm`` finds Acme), case and accents
ignored (``zurich`` finds Zürich). A customer is also found by the notes on its timeline.
Best first: the name holding the words whole, then as prefixes, then emails and phones,
then anywhere (notes, descriptions); an exact name first among equals, then the shorter
name, then the newest record. Archived and merged records are left out unless asked for.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, false, select
from sqlmodel import col

from crm_tui.logic.core.context import Crm
from crm_tui.logic.core.errors import Invalid
from crm_tui.logic.core.refs import ref
from crm_tui.logic.core.schemas import Output
from crm_tui.logic.values.normalise import dialled_from_abroad, fold
from crm_tui.storage import deal_totals
from crm_tui.storage import search as index
from crm_tui.storage.models import Contact, Customer, Deal, Ticket

KINDS = ("customer", "contact", "deal", "ticket")
MAX_LIMIT = 500
_MAX_WORDS = 8  # more words narrow nothing a person means, and each costs a lookup
_TOKEN = re.compile(r"[^\W_]+")
_PHONE = re.compile(r"^[\d\s()+\-./]+$")
_SNIPPET_WIDTH = 60


class SearchHit(Output):
    """One record found, with the customer it belongs to and a glimpse of the match."""

    kind: str  # customer, contact, deal, ticket
    id: int
    ref: str
    title: str
    customer_ref: str
    customer: str
    matched: str  # name, contact details, note, text
    snippet: str


def query_words(text: str, country: str | None = None) -> index.Words:
    """The words of a query, each with the spellings that may match it.

    A phone number typed with spaces or dashes is one word of its digits; typed the
    national way of ``country`` (the default country: 0170 123 in Germany), it is also
    spelt as stored, from abroad (49170123). Letters no decomposition makes plain (ø, ł,
    ß) are searched both folded and as typed, since the SQLite tokenizer keeps them
    while logic's name keys fold them.
    """
    stripped = text.strip()
    digits = "".join(ch for ch in stripped if ch.isdigit())
    if _PHONE.match(stripped) and len(digits) >= 3:
        abroad = dialled_from_abroad(digits, country) if not stripped.startswith("+") else None
        return [sorted({digits, abroad or digits})]
    folded = _TOKEN.findall(fold(stripped))
    typed = _TOKEN.findall(_without_marks(stripped.casefold()))
    if len(typed) != len(folded):
        typed = folded
    return [sorted({a, b}) for a, b in zip(folded, typed, strict=True)][:_MAX_WORDS]


def _without_marks(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def customer_filter(id_column: Any, text: str, country: str | None = None) -> ColumnElement[bool]:
    """The customer list's text filter: the customer's own name, company, email or phone
    has a word starting with each word of ``text`` (notes are not searched here)."""
    words = query_words(text, country)
    return index.customer_matches(id_column, words) if words else false()


def few_customers_match(session: Any, text: str, few: int, country: str | None = None) -> bool:
    """Whether at most ``few`` customers pass the list's text filter for ``text``."""
    words = query_words(text, country)
    return not words or index.customers_matching_at_most(session.connection(), words, few + 1) <= few


def _check(kinds: Iterable[str] | None, limit: int) -> set[str] | None:
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if kinds is None:
        return None
    chosen = {str(kind).strip().lower() for kind in kinds}
    unknown = chosen - set(KINDS)
    if unknown:
        raise Invalid(f"unknown kind {sorted(unknown)[0]!r}: use {', '.join(KINDS)}")
    return chosen or None


def search(
    crm: Crm, text: str, *, kinds: Iterable[str] | None = None, limit: int = 20, archived: bool = False
) -> list[SearchHit]:
    """Records of ``kinds`` (all by default) matching every word of ``text``, best first.

    ``archived`` includes archived and merged records and those of archived customers.
    """
    chosen = _check(kinds, limit)
    words = query_words(text, crm.settings.default_country)
    if not words:
        return []
    with crm.work() as work:
        found = index.find(
            work.session.connection(), words, fold(text), kinds=chosen, hidden=archived, limit=limit
        )
        titles = _titles(work.session, found)
    return [_hit(item, titles, words) for item in found]


_TITLE_COLUMNS = {
    "customer": (col(Customer.id), col(Customer.name)),
    "contact": (col(Contact.id), col(Contact.name)),
    "deal": (col(Deal.id), col(Deal.title)),
    "ticket": (col(Ticket.id), col(Ticket.subject)),
}


def _titles(session: Any, found: list[index.Found]) -> dict[tuple[str, int], str]:
    """The current name or title of every record found and of their customers."""
    wanted: dict[str, set[int]] = {kind: set() for kind in KINDS}
    for item in found:
        wanted[item.kind].add(item.record_id)
        wanted["customer"].add(item.customer_id)
    titles: dict[tuple[str, int], str] = {}
    for kind, ids in wanted.items():
        if ids:
            id_column, title_column = _TITLE_COLUMNS[kind]
            for record_id, title in session.execute(
                select(id_column, title_column).where(id_column.in_(ids))
            ):
                titles[kind, record_id] = title
    return titles


def _hit(item: index.Found, titles: dict[tuple[str, int], str], words: index.Words) -> SearchHit:
    if item.tier >= 3:
        matched, source = "name", item.name
    elif item.tier == 2:
        matched, source = "contact details", item.info
    else:
        matched, source = _where(item, words)
    if item.matched == "note":
        matched = "note"
    customer = titles.get(("customer", item.customer_id), "")
    return SearchHit(
        kind=item.kind,
        id=item.record_id,
        ref=ref(item.kind, item.record_id),
        title=titles.get((item.kind, item.record_id), customer if item.kind == "customer" else ""),
        customer_ref=ref("customer", item.customer_id),
        customer=customer,
        matched=matched,
        snippet=snippet(source, words),
    )


def _where(item: index.Found, words: index.Words) -> tuple[str, str]:
    """Which text of a document holds the first word: name, contact details or text."""
    for matched, source in (("name", item.name), ("contact details", item.info), ("text", item.body)):
        if _first_match(source, words) is not None:
            return matched, source
    return "text", item.body


def _first_match(text: str, words: index.Words) -> int | None:
    spellings = tuple(spelling for word in words for spelling in word)
    for token in _TOKEN.finditer(text):
        candidates = {fold(token.group()), _without_marks(token.group().casefold())}
        digits = "".join(ch for ch in token.group() if ch.isdigit())
        if any(c.startswith(spellings) for c in candidates) or (digits and digits.startswith(spellings)):
            return token.start()
    return None


def snippet(text: str, words: index.Words, width: int = _SNIPPET_WIDTH) -> str:
    """A short stretch of ``text`` around its first word matching the query, on one line."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    start = _first_match(flat, words) or 0
    begin = max(0, min(start - width // 3, len(flat) - width))
    if begin > 0:
        space = flat.rfind(" ", 0, begin + 1)
        begin = space + 1 if space >= 0 and begin - space < 12 else begin
    end = min(len(flat), begin + width)
    if end < len(flat):
        space = flat.rfind(" ", begin, end)
        end = space if space > begin + width // 2 else end
    return ("…" if begin > 0 else "") + flat[begin:end].strip() + ("…" if end < len(flat) else "")


def reindex(crm: Crm) -> tuple[int, int]:
    """Rebuild the search index and the stage totals from the data (admins only);
    returns the documents indexed and the deals counted.

    Triggers keep both in sync on every write, so this is for repairs: a database
    edited with the triggers dropped, or an index damaged on disk.
    """
    with crm.work("database.manage") as work:
        conn = work.session.connection()
        return index.rebuild(conn), deal_totals.rebuild(conn)
