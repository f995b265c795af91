"""The limits that keep every amount, date and list a caller may send inside what the
system can compute and store, each refused as a 422 on its field.

- Dates (a service's start, a change's or cancellation's day, an invoice's issue and due
  dates, a recurring invoice's start, an engine run's as_of): at most DATE_WINDOW_YEARS
  before or after today (the wall clock's date). Beyond, a service would be caught up for
  thousands of periods, and calendar arithmetic overflows near years 1 and 9999.
- Money: a line's amount is at most invoices.MAX_AMOUNT (10^15 minor units), an invoice
  has at most MAX_LINES lines, so an invoice's total stays under 10^18; sums over many
  invoices (balances) are made in Python's unbounded integers, never by the database.
"""

from datetime import date, timedelta

from django.utils import timezone

from groupbill.errors import ValidationFailed

DATE_WINDOW_YEARS = 10
MAX_LINES = 500


def date_window(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.now().date()
    span = timedelta(days=round(365.25 * DATE_WINDOW_YEARS))
    return today - span, today + span


def check_date(value: date, field: str) -> date:
    earliest, latest = date_window()
    if not earliest <= value <= latest:
        raise ValidationFailed.one(
            field,
            f"must be within {DATE_WINDOW_YEARS} years of today ({earliest} to {latest})",
        )
    return value
