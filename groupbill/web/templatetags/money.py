from babel.numbers import format_currency
from django import template

from groupbill.money import format_plain, to_decimal

register = template.Library()


@register.filter
def money(minor: int | None, currency: str) -> str:
    """1250|money:"EUR" -> €12.50; amounts are minor units, the currency sets the decimals."""
    if minor is None:
        return ""
    return format_currency(to_decimal(minor, currency), currency, locale="en_US")


@register.filter
def plain(minor: int | None, currency: str) -> str:
    """1250|plain:"EUR" -> 12.50: for form inputs, which take amounts without a symbol."""
    return "" if minor is None else format_plain(minor, currency)
