"""Money: integer minor units with an ISO 4217 currency, never floats.

Order lines are priced by one rule, stated once here (``line_amounts``): each line is
rounded on its own to the currency's minor unit, half away from zero, first its net
amount, then its tax; an order's totals are the sums of its lines' rounded amounts.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from crm_tui.logic.core.errors import Invalid

MILLI = 1000  # quantities are kept in thousandths
BASIS_POINTS = 10_000  # percentages are kept in hundredths of a percent


def currency(code: str | None) -> str:
    """An ISO 4217 currency code, upper case; Invalid if no such currency exists."""
    from babel.numbers import is_currency

    text = (code or "").strip().upper()
    if len(text) != 3 or not is_currency(text):
        raise Invalid(f"invalid currency {code!r}: use an ISO 4217 code such as EUR, USD or CHF")
    return text


def digits(code: str) -> int:
    """How many decimal places the currency's minor unit has (EUR 2, JPY 0, BHD 3)."""
    from babel.numbers import get_currency_precision

    return get_currency_precision(code)


def _decimal(value: str | int | Decimal, what: str) -> Decimal:
    if isinstance(value, bool | float):
        raise Invalid(f"{what} must be written as a decimal number such as 1234.50, not {value!r}")
    try:
        number = Decimal(str(value).strip().replace("_", ""))
    except InvalidOperation:
        raise Invalid(f"invalid {what} {value!r}: write it like 1234.50") from None
    if not number.is_finite():
        raise Invalid(f"invalid {what} {value!r}")
    return number


def _scaled(value: str | int | Decimal, places: int, what: str) -> int:
    """``value`` times 10**places as an exact integer; Invalid if it has more places."""
    number = _decimal(value, what)
    scaled = number.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise Invalid(f"{what} {value} has more than {places} decimal places")
    return int(scaled)


def to_minor(value: str | int | Decimal, code: str, *, what: str = "amount") -> int:
    """An amount like ``"1234.50"`` in minor units of ``code``; negative amounts are refused."""
    minor = _scaled(value, digits(code), what)
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
    milli = _scaled(value, 3, "quantity")
    if milli <= 0:
        raise Invalid("quantity must be more than zero")
    return milli


def to_basis_points(value: str | int | Decimal | None, what: str) -> int:
    """A percentage (``"12.5"``) in basis points (1250), from 0 to 100."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    points = _scaled(str(value).strip().removesuffix("%"), 2, what)
    if not 0 <= points <= 100 * 100:
        raise Invalid(f"{what} must be between 0 and 100 percent")
    return points


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, exactly (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def line_amounts(
    quantity_milli: int, unit_price_minor: int, discount_bp: int, tax_rate_bp: int
) -> tuple[int, int]:
    """The net and tax amounts of one order line, in minor units.

    net = quantity x unit price x (1 - discount), rounded half away from zero;
    tax = net x tax rate, rounded the same way. Rounding each line once, and summing
    rounded lines, is what an invoice shows, so totals always add up on paper.
    """
    net = _half_up(quantity_milli * unit_price_minor * (BASIS_POINTS - discount_bp), MILLI * BASIS_POINTS)
    tax = _half_up(net * tax_rate_bp, BASIS_POINTS)
    return net, tax


def percent_text(points: int) -> str:
    """Basis points for people: 1250 is ``12.5``."""
    return f"{Decimal(points).scaleb(-2).normalize():f}"


def quantity_text(milli: int) -> str:
    """A quantity for people: 1500 is ``1.5``."""
    return f"{Decimal(milli).scaleb(-3).normalize():f}"
