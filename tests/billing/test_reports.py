"""The ledger's report figures against values worked out by hand on a seeded book
(tests/reports_book.py): ageing across its day boundaries, income by local day and
month, revenue by month and group, tax per rate and country. Every figure per currency."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groupbill.billing import reports
from groupbill.billing.models import TransactionKind, TransactionStatus
from tests import reports_book

TODAY = date(2026, 6, 15)


@pytest.fixture
def book(company, make_client):
    return reports_book.ledger(company, make_client, TODAY)


def test_ageing_puts_each_boundary_day_in_its_bucket(company, book):
    eur, usd = reports.ageing(company, TODAY)
    assert eur.currency == "EUR"
    # Due in 5 days (100) and today (200) are current; 1 (400), 10 (700 of 1000 left) and
    # 30 (800) days late are 1-30; 31 (1600) and 60 (3200); 61 (6400) and 90 (12800); 91.
    assert eur.amounts == {
        "current": 300,
        "1_30": 400 + 700 + 800,
        "31_60": 1600 + 3200,
        "61_90": 6400 + 12800,
        "90_plus": 25600,
    }
    assert eur.counts == {"current": 2, "1_30": 3, "31_60": 2, "61_90": 2, "90_plus": 1}
    assert eur.total == 51_800
    assert (eur.overdue, eur.overdue_count) == (51_500, 8)
    # Paid, void, draft and fully paid open invoices owe nothing; dollars stay apart.
    assert (usd.currency, usd.amounts["31_60"], usd.total) == ("USD", 12_345, 12_345)


def test_ageing_moves_an_invoice_on_the_day_it_crosses_a_boundary(company, book):
    tomorrow = reports.ageing(company, TODAY + timedelta(days=1))[0]
    # Tomorrow the invoice due today is 1 day late, the one 30 days late is 31, ...
    assert tomorrow.amounts == {
        "current": 100,
        "1_30": 200 + 400 + 700,
        "31_60": 800 + 1600,
        "61_90": 3200 + 6400,
        "90_plus": 12800 + 25600,
    }


def test_income_counts_payments_less_refunds_on_the_company_s_local_days(company, book):
    pay = reports_book._payment
    pay(book.ada, 5_000, TODAY, company, hour=0)  # 00:00 Berlin is yesterday in UTC
    pay(book.ada, 1_000, TODAY, company, kind=TransactionKind.REFUND)
    pay(book.ada, 2_000, TODAY - timedelta(days=1), company, hour=23)
    pay(book.ada, 9_999, TODAY, company, status=TransactionStatus.DECLINED)
    pay(book.ada, 8_888, TODAY, company, kind=TransactionKind.CREDIT)  # granted, not paid
    pay(book.cy, 300, TODAY, company, currency="USD")
    pay(book.bob, 4_000, date(2026, 5, 31), company, hour=23)
    pay(book.bob, 7_000, date(2025, 6, 30), company)  # 12 months ago is July 2025

    assert reports.income_on(company, TODAY) == {"EUR": 4_000, "USD": 300}
    eur, usd = reports.income_by_month(company, TODAY)
    assert eur.months[0] == date(2025, 7, 1) and eur.months[-1] == date(2026, 6, 1)
    assert (eur.at(date(2026, 6, 1)), eur.at(date(2026, 5, 1))) == (6_000, 4_000)
    assert sum(eur.amounts) == 10_000
    assert usd.amounts[-1] == 300 and sum(usd.amounts) == 300
    failed = reports.failed_charges(company, TODAY - timedelta(days=30))
    assert [(f.currency, f.count, f.amount) for f in failed] == [("EUR", 1, 9_999)]


def test_revenue_by_month_is_net_of_tax_by_month_of_issue(company, book):
    reports_book.taxed_invoices(book)
    eur, usd = reports.revenue_by_month(company, TODAY)
    by_month = dict(zip(eur.months, eur.amounts, strict=True))
    assert by_month[date(2026, 6, 1)] == 100 + 200  # issued Jun 6 and Jun 1
    # May 31, 2, 1 and 22, then the taxed invoices of May 29 without their tax.
    assert by_month[date(2026, 5, 1)] == 400 + 800 + 1600 + 1000 + 13_000 + 10_000
    assert by_month[date(2026, 4, 1)] == 3200 + 6400
    assert by_month[date(2026, 3, 1)] == 12800 + 25600
    assert by_month[date(2025, 11, 1)] == 5000 + 800  # paid and fully-paid open; not void
    assert sum(eur.amounts) == 300 + 26_800 + 9_600 + 38_400 + 5_800
    assert (usd.at(date(2026, 4, 1)), sum(usd.amounts)) == (12_345, 12_345)


def test_revenue_by_group(company, book):
    reports_book.taxed_invoices(book)
    rows = reports.revenue_by_group(company, date(2026, 5, 1), date(2026, 6, 1))
    assert [(r.group, r.currency, r.invoices, r.net, r.tax, r.gross) for r in rows] == [
        ("General", "EUR", 2, 1_000 + 10_000, 1_000, 12_000),
        ("Resellers", "EUR", 4, 400 + 800 + 1600 + 13_000, 2_480, 18_280),
    ]


def test_tax_by_rate_and_country(company, book):
    reports_book.taxed_invoices(book)
    rows = reports.tax_by_rate(company, date(2026, 5, 1), date(2026, 6, 1))
    got = [(r.currency, r.country, r.rate, r.rule, r.lines, r.net, r.tax) for r in rows]
    assert got == [
        ("EUR", "DE", Decimal("19"), "domestic", 2, 12_000, 2_280),
        ("EUR", "DE", Decimal("15"), "domestic", 1, 1_000, 150),
        ("EUR", "DE", Decimal("5"), "domestic", 1, 1_000, 50),  # the line's second tax
        ("EUR", "FR", Decimal("20"), "consumer", 1, 5_000, 1_000),
        ("EUR", "FR", Decimal("0"), "reverse_charge", 1, 5_000, 0),
    ]
    assert [str(r.rate) for r in rows] == ["19", "15", "5", "20", "0"]  # as people write them
    # Before the period: nothing (the void invoice's line never counts).
    assert reports.tax_by_rate(company, date(2026, 4, 1), date(2026, 5, 1)) == []


def test_dashboard_tells_the_same_in_two_queries(company, book):
    pay = reports_book._payment
    pay(book.ada, 5_000, TODAY, company, hour=0)
    pay(book.ada, 1_000, TODAY, company, kind=TransactionKind.REFUND)
    pay(book.ada, 9_999, TODAY - timedelta(days=3), company, status=TransactionStatus.ERROR)
    pay(book.ada, 7_777, TODAY - timedelta(days=31), company, status=TransactionStatus.DECLINED)
    pay(book.cy, 300, date(2026, 2, 1), company, currency="USD", hour=0)
    pay(book.cy, 50, TODAY, company, currency="GBP", status=TransactionStatus.DECLINED)
    with CaptureQueriesContext(connection) as queries:
        board = reports.dashboard(company, TODAY)
    assert len(queries) == 2
    assert board.income_today == reports.income_on(company, TODAY) == {"EUR": 4_000}
    assert board.income == reports.income_by_month(company, TODAY)
    assert [(s.currency, sum(s.amounts)) for s in board.income] == [("EUR", 4_000), ("USD", 300)]
    assert board.failed == reports.failed_charges(company, TODAY - timedelta(days=30))
    assert [(f.currency, f.count, f.amount) for f in board.failed] == [
        ("EUR", 1, 9_999), ("GBP", 1, 50),
    ]  # fmt: skip
    assert board.ageing == reports.ageing(company, TODAY)
    assert board.income_this_month() == {"EUR": 4_000, "USD": 0}
