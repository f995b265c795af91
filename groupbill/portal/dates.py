"""Dates as the client reads them: in their language, like their invoices and emails."""

from datetime import date, datetime

from babel.dates import format_date
from django.utils import timezone

from groupbill.notices.pdf import _locale


def day_text(value: date | datetime | None, language: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()  # the active zone: the company's
    return format_date(value, format="medium", locale=_locale(language or "en"))
