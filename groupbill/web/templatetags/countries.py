from babel import Locale
from django import template

register = template.Library()


@register.filter
def country_name(code: str) -> str:
    """ "FR"|country_name -> France."""
    return Locale("en").territories.get(code, code) if code else ""
