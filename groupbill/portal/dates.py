"""Dates as the client reads them: in their language, like their invoices and emails."""

from datetime import date, datetime

from django.utils import timezone

from groupbill.notices.pdf import date_text, locale_for


def day_text(value: date | datetime | None, language: str) -> str:
    if value is None:
        return ""  # pages show their own placeholder
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()  # the active zone: the company's
    return date_text(value, locale_for(language or "en"))
