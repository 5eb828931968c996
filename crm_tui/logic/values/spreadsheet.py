"""CSV cells that a spreadsheet opens as text, never runs.

Excel, LibreOffice and Google Sheets run a cell that begins with = + - or @ (and, in
some, a tab or carriage return) as a formula, which a customer's name or a note can be
made to abuse (CSV injection). Such a cell is written with a leading ``'``, which
spreadsheets show as text and do not display; so is a cell that already begins with
``'``, so that taking one ``'`` off reads every cell back exactly.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def inert(text: str) -> str:
    """``text`` as a cell no spreadsheet runs as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def from_inert(text: str) -> str:
    """The text ``inert`` was given."""
    return text[1:] if text.startswith("'") else text
