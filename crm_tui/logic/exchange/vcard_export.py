"""Contacts written as vCard 4.0 (RFC 6350), for address books and phones.

CRLF line ends, lines folded at 75 octets (never inside a UTF-8 character), text
escaped; ORG is the contact's customer, and a person customer is a card naming no
company. The custom fields a card brought are written back as it had them, and the
email and phones with the TYPEs the card gave them (see ``vcard``, which reads them).
"""

from __future__ import annotations

import re
from typing import IO, Any

from sqlmodel import col

from crm_tui.logic.core.context import Crm
from crm_tui.logic.exchange.vcard import CRM_FIELD, PREFIX, SHAPES, WRITTEN_AS

LINE_OCTETS = 75
_COPY = re.compile(r" \(\d+\)$")  # the mark of a second property of one name


def card_lines(custom: dict[str, Any]) -> list[str]:
    """The content lines that write a contact's custom fields back into its card, in the
    order of their names (so that the same contact is always the same card)."""
    lines = []
    for key, value in sorted(custom.items()):
        if key in SHAPES:
            continue  # how the card wrote the email or a phone: written with it
        if key.startswith(PREFIX):
            lines.append(f"{_COPY.sub('', key.removeprefix(PREFIX))}:{value}")
        elif '"' not in key and not any(ord(char) < 32 for char in key):
            lines.append(f'{CRM_FIELD};NAME="{key}":{escape(str(value))}')
    return lines


def escape(text: str) -> str:
    """A text value escaped for vCard 4.0: backslash, comma, semicolon and new lines."""
    return (
        text.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """A content line cut into pieces of at most 75 octets, joined by CRLF and a space;
    a cut never falls inside a UTF-8 character."""
    data = line.encode("utf-8")
    if len(data) <= LINE_OCTETS:
        return line
    pieces, start, room = [], 0, LINE_OCTETS
    while start < len(data):
        end = min(start + room, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # a continuation byte
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start, room = end, LINE_OCTETS - 1  # the leading space counts
    return "\r\n ".join(pieces)


def _tel(number: str) -> str:
    """A stored phone as a TEL property: a tel: URI when it is international."""
    match = re.fullmatch(r"(\+\d+)(?: ext\. (\d+))?", number)
    if match:
        extension = f";ext={match.group(2)}" if match.group(2) else ""
        return f"VALUE=uri:tel:{match.group(1)}{extension}"
    return f"VALUE=text:{escape(number)}"


def card_text(
    *, name: str, customer: str | None, title: str | None, email: str | None,
    phone: str | None, mobile: str | None, custom: dict[str, Any] | None = None,
) -> str:  # fmt: skip
    """One contact as a vCard 4.0, CRLF line ends included."""
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"FN:{escape(name)}"]
    if customer:
        lines.append(f"ORG:{escape(customer)}")
    if title:
        lines.append(f"TITLE:{escape(title)}")
    custom = custom or {}
    shape = {target: custom.get(key) or WRITTEN_AS[target] for key, target in SHAPES.items()}
    if email:
        lines.append(f"{shape['email']}:{escape(email)}")
    if phone:
        lines.append(f"{shape['phone']};{_tel(phone)}")
    if mobile:
        lines.append(f"{shape['mobile']};{_tel(mobile)}")
    lines += card_lines(custom)
    lines.append("END:VCARD")
    return "".join(fold(line) + "\r\n" for line in lines)


def export_contacts(crm: Crm, out: IO[str]) -> tuple[int, int]:
    """Write every contact to ``out`` as vCard 4.0, oldest first, then every active
    person customer as a card naming no company (as a card that names none is read);
    returns how many of each.

    Read in one consistent snapshot and streamed, like every export (admins only).
    """
    from sqlalchemy import select

    from crm_tui.logic.exchange.exports import snapshot
    from crm_tui.storage.models import Contact, Customer

    query = (
        select(
            col(Contact.name),
            col(Customer.name),
            col(Contact.title),
            col(Contact.email),
            col(Contact.phone),
            col(Contact.mobile),
            col(Contact.custom),
        )
        .join(Customer, col(Customer.id) == col(Contact.customer_id))
        .order_by(col(Contact.id))
    )
    people = (
        select(col(Customer.name), col(Customer.email), col(Customer.phone), col(Customer.custom))
        .where(
            col(Customer.kind) == "person",
            col(Customer.archived_at).is_(None),
            col(Customer.merged_into_id).is_(None),
        )
        .order_by(col(Customer.id))
    )
    count = persons = 0
    with snapshot(crm) as conn:
        for name, customer, title, email, phone, mobile, custom in conn.execution_options(
            yield_per=2_000
        ).execute(query):
            out.write(
                card_text(
                    name=name, customer=customer, title=title, email=email, phone=phone, mobile=mobile,
                    custom=custom,
                )
            )  # fmt: skip
            count += 1
        for name, email, phone, custom in conn.execution_options(yield_per=2_000).execute(people):
            out.write(
                card_text(
                    name=name, customer=None, title=None, email=email, phone=phone, mobile=None, custom=custom
                )
            )
            persons += 1
    return count, persons
