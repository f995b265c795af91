"""MRR and churn against values worked out by hand (tests/reports_book.py): monthly,
quarterly and yearly terms, an option, two currencies, and the services that do not
count (one-time, pending, suspended, canceled)."""

from datetime import date, datetime, time
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groupbill.services import reports
from groupbill.services.models import Service
from tests import reports_book

TODAY = date(2026, 6, 15)


@pytest.fixture
def book(company, make_client):
    book = reports_book.ledger(company, make_client, TODAY)
    reports_book.services(company, book)
    return book


def test_monthly_normalises_each_term():
    assert reports.monthly(2_700, "month", 3) == 900
    assert reports.monthly(12_000, "year", 1) == 1_000
    assert reports.monthly(10_000, "year", 1) == Fraction(2_500, 3)
    assert reports.monthly(700, "week", 1) * 12 == 700 * Fraction(1461, 28)


def test_mrr_of_active_services_per_currency(company, book):
    # 2 x 1000 + 2700/3 + 12000/12 + (12000 + 3 x 1200)/12 + 1000 (new last month).
    assert reports.mrr(company) == {"EUR": 2_000 + 900 + 1_000 + 1_300 + 1_000, "USD": 833}


def test_movements_by_month(company, book):
    last, this = date(2026, 5, 1), date(2026, 6, 1)
    with CaptureQueriesContext(connection) as queries:
        moves = reports.movements(company, [last, this])
    assert len(queries) == 2
    may, june = moves["EUR"]
    # In force on May 1: the five old active ones, the suspended one and the two canceled
    # later: 2000 + 900 + 1000 + 1300 + 1000 + 900 + 1000.
    assert (may.start, may.new, may.churned, may.churned_services) == (8_100, 1_000, 900, 1)
    assert may.churn_rate == Fraction(900, 8_100)
    assert (june.start, june.new, june.churned, june.net) == (8_200, 0, 1_000, -1_000)
    assert [(m.start, m.new, m.churned) for m in moves["USD"]] == [(833, 0, 0), (833, 0, 0)]


def test_a_cancellation_at_local_midnight_is_in_the_local_month(company, book):
    # "churned_this_month" was canceled on June 1 09:00 Berlin; one at 00:30 Berlin on
    # June 1 is still May 31 in UTC, and belongs to June all the same.
    moment = datetime.combine(date(2026, 6, 1), time(0, 30), ZoneInfo("Europe/Berlin"))
    Service.objects.filter(canceled_at__isnull=False, pricing__count=1).update(canceled_at=moment)
    june = reports.movements(company, [date(2026, 6, 1)])["EUR"][0]
    assert (june.churned, june.churned_services) == (1_000, 1)


def test_summary_is_mrr_now_and_this_month_s_movement(company, book):
    with CaptureQueriesContext(connection) as queries:
        summary = reports.summary(company, TODAY)
    assert len(queries) == 2
    assert summary.mrr == reports.mrr(company)
    june = summary.month["EUR"]
    assert (june.month, june.start, june.new, june.churned) == (date(2026, 6, 1), 8_200, 0, 1_000)


def test_pending_orders(company, book):
    assert reports.pending_orders(company) == 1
