"""Money: integer minor units with an ISO 4217 currency, never floats.

Order lines are priced by one rule, stated once here (``line_amounts``): each line is
rounded on its own to the currency's minor unit, half away from zero, first its net
amount, then its tax; an order's totals are the sums of its lines' rounded amounts.
"""

from __future__ import annotations

import functools
from decimal import Context, Decimal, Inexact, InvalidOperation

from crm_tui.logic.core.errors import Invalid, quoted, shortened

MILLI = 1000  # quantities are kept in thousandths
BASIS_POINTS = 10_000  # percentages are kept in hundredths of a percent

# The largest amount crm keeps, in minor units of any currency: 10^15 is ten trillion
# euros or dollars, a quadrillion yen, beyond any real deal, price or order. The limit is
# there for sums: the database adds amounts up as 64-bit integers (SQLite stops a report
# with "integer overflow" past 2^63 - 1, about 9.2 x 10^18), and 9,223 amounts at this
# maximum still add up within that (amounts of a realistic size, by the billion). Order
# lines and order totals are held to it too, so no price times quantity leaves the range.
MAX_MINOR = 10**15
# A million of one thing on one order line: its thousandths fit a 32-bit column.
MAX_QUANTITY = 10**6
# Room for every digit a number within those limits may have, and a signal for any
# digit beyond (which the default context would round away).
_EXACT = Context(prec=40, traps=[Inexact])


def currency(code: str | None) -> str:
    """An ISO 4217 currency code, upper case; Invalid if no such currency exists."""
    text = (code or "").strip().upper()
    if len(text) != 3 or not _is_currency(text):
        raise Invalid(f"invalid currency {quoted(code)}: use an ISO 4217 code such as EUR, USD or CHF")
    return text


# Babel's answers never change while crm runs; an import asks them for every amount,
# and they were a tenth of a deal import's time.
@functools.cache
def _is_currency(code: str) -> bool:
    from babel.numbers import is_currency

    return is_currency(code)


@functools.cache
def digits(code: str) -> int:
    """How many decimal places the currency's minor unit has (EUR 2, JPY 0, BHD 3)."""
    from babel.numbers import get_currency_precision

    return get_currency_precision(code)


def _decimal(value: str | int | Decimal, what: str) -> Decimal:
    if isinstance(value, bool | float):
        raise Invalid(f"{what} must be written as a decimal number such as 1234.50, not {quoted(value)}")
    try:
        number = Decimal(str(value).strip().replace("_", ""))
    except InvalidOperation:
        raise Invalid(f"invalid {what} {quoted(value)}: write it like 1234.50") from None
    if not number.is_finite():
        raise Invalid(f"invalid {what} {quoted(value)}")
    return number


def _scaled(value: str | int | Decimal, places: int, what: str, most: int, most_text: str) -> int:
    """``value`` times 10**places as an exact integer; Invalid if it has more places, or
    if it is more than ``most`` (in those units; ``most_text`` for people)."""
    number = _decimal(value, what)
    too_large = Invalid(f"{what} {shortened(value)} is too large: at most {most_text}")
    # Looked at before scaling, which 1e999999 would not survive.
    if number.adjusted() + places > len(str(most)):
        raise too_large
    try:
        scaled = number.scaleb(places, context=_EXACT)
        whole = scaled == scaled.to_integral_value()
    except Inexact:  # a digit beyond the precision: 1.000...0001
        whole = False
    if not whole:
        raise Invalid(f"{what} {shortened(value)} has more than {places} decimal places")
    if scaled > most:
        raise too_large
    return int(scaled)


def within_limit(minor: int, code: str | None, what: str = "amount") -> int:
    """``minor`` as it is when it is at most ``MAX_MINOR``; Invalid naming ``what`` if not."""
    if minor > MAX_MINOR:
        most = format_amount(MAX_MINOR, code) if code else f"{MAX_MINOR:,} minor units"
        raise Invalid(f"{what} is too large: at most {most}")
    return minor


def to_minor(value: str | int | Decimal, code: str, *, what: str = "amount") -> int:
    """An amount like ``"1234.50"`` in minor units of ``code``, from 0 to ``MAX_MINOR``."""
    minor = _scaled(value, digits(code), what, MAX_MINOR, format_amount(MAX_MINOR, code))
    if minor < 0:
        raise Invalid(f"{what} must not be negative")
    return minor


def as_decimal(minor: int, code: str) -> Decimal:
    """Minor units back as a decimal amount: 123450 EUR is Decimal('1234.50')."""
    return Decimal(minor).scaleb(-digits(code))


def format_amount(minor: int, code: str) -> str:
    """An amount for people: ``12,345.50 EUR``."""
    return f"{as_decimal(minor, code):,.{digits(code)}f} {code}"


def to_quantity(value: str | int | Decimal) -> int:
    """A quantity in thousandths; more than zero, at most three decimal places."""
    milli = _scaled(value, 3, "quantity", MAX_QUANTITY * MILLI, f"{MAX_QUANTITY:,}")
    if milli <= 0:
        raise Invalid("quantity must be more than zero")
    return milli


def to_basis_points(value: str | int | Decimal | None, what: str) -> int:
    """A percentage (``"12.5"``) in basis points (1250), from 0 to 100."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    points = _scaled(str(value).strip().removesuffix("%"), 2, what, 10**9, "100 percent")
    if not 0 <= points <= 100 * 100:
        raise Invalid(f"{what} must be between 0 and 100 percent")
    return points


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, exactly (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def line_amounts(
    quantity_milli: int, unit_price_minor: int, discount_bp: int, tax_rate_bp: int, code: str | None = None
) -> tuple[int, int]:
    """The net and tax amounts of one order line, in minor units of ``code``.

    net = quantity x unit price x (1 - discount), rounded half away from zero;
    tax = net x tax rate, rounded the same way. Rounding each line once, and summing
    rounded lines, is what an invoice shows, so totals always add up on paper. A line
    whose amount with tax is more than ``MAX_MINOR`` is refused.
    """
    net = _half_up(quantity_milli * unit_price_minor * (BASIS_POINTS - discount_bp), MILLI * BASIS_POINTS)
    tax = _half_up(net * tax_rate_bp, BASIS_POINTS)
    within_limit(net + tax, code, "the line's amount")
    return net, tax


def percent_text(points: int) -> str:
    """Basis points for people: 1250 is ``12.5``."""
    return f"{Decimal(points).scaleb(-2).normalize():f}"


def quantity_text(milli: int) -> str:
    """A quantity for people: 1500 is ``1.5``."""
    return f"{Decimal(milli).scaleb(-3).normalize():f}"
