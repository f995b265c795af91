from django import template

from groupbill.portal.dates import day_text

register = template.Library()


@register.filter
def day(value, language: str = "en") -> str:
    """{{ invoice.due_on|day:request.client.language }} -> "Nov 25, 2026" (en)."""
    return day_text(value, language)
