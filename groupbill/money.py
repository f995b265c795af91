"""Money: integer minor units, exact fractions, one explicit rounding.

Amounts are `int` minor units of an ISO 4217 currency (cents for EUR, yen for JPY, fils
for BHD). Anything that divides (proration, tax, splitting) works on exact `Fraction`s
and rounds once, with the company's rounding mode; where a whole is split, the parts add
up to the whole exactly because the remainder goes to the last part.
"""

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from groupbill.currencies import MINOR_UNITS

HALF_UP = "half_up"  # ties away from zero
HALF_EVEN = "half_even"  # ties to the even neighbour (banker's rounding)
ROUNDING_MODES = (HALF_UP, HALF_EVEN)


def exponent(currency: str) -> int:
    return MINOR_UNITS[currency]


def round_fraction(value: Fraction, mode: str) -> int:
    """Round an exact quantity of minor units to a whole one."""
    if mode not in ROUNDING_MODES:
        raise ValueError(f"unknown rounding mode {mode!r}")
    floor = value.numerator // value.denominator
    rest = value - floor  # 0 <= rest < 1
    half = Fraction(1, 2)
    if rest > half:
        return floor + 1
    if rest < half:
        return floor
    if mode == HALF_UP:
        return floor + 1 if value > 0 else floor
    return floor if floor % 2 == 0 else floor + 1


def parse(amount: str | int | Decimal, currency: str) -> int:
    """A decimal amount as people write it ("12.50") to minor units; refuses more decimals
    than the currency has instead of rounding silently."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise ValueError(f"{amount!r} is not an amount") from None
    if not value.is_finite():
        raise ValueError(f"{amount!r} is not an amount")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        digits = exponent(currency)
        raise ValueError(f"{currency} amounts have at most {digits} decimal place(s)")
    return int(scaled)


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_plain(minor: int, currency: str) -> str:
    """ "12.50" for 1250 EUR, "1250" for 1250 JPY; locale-aware display is Babel's job."""
    digits = exponent(currency)
    return f"{to_decimal(minor, currency):.{digits}f}"


def prorate(amount: int, part: int, whole: int, mode: str) -> int:
    """amount x part / whole, rounded once."""
    if whole <= 0:
        raise ValueError("the whole must be positive")
    return round_fraction(Fraction(amount * part, whole), mode)


def split(total: int, weights: Sequence[int | Fraction], mode: str) -> list[int]:
    """Split `total` in proportion to `weights`: each part rounded, the remainder to the last
    part, so the parts always add up to `total`."""
    if not weights:
        raise ValueError("nothing to split into")
    weight_sum = sum(Fraction(w) for w in weights)
    if weight_sum == 0:
        raise ValueError("weights add up to zero")
    parts = [round_fraction(total * Fraction(w) / weight_sum, mode) for w in weights[:-1]]
    parts.append(total - sum(parts))
    return parts


def tax_on(net: int, rate_percent: Decimal | Fraction | int, mode: str) -> int:
    """Exclusive tax: what is added on top of `net`."""
    return round_fraction(Fraction(net) * Fraction(rate_percent) / 100, mode)


def tax_within(gross: int, rate_percent: Decimal | Fraction | int, mode: str) -> int:
    """Inclusive tax: the tax part contained in `gross`."""
    rate = Fraction(rate_percent)
    return round_fraction(Fraction(gross) * rate / (100 + rate), mode)
