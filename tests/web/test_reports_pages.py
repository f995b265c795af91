"""The company dashboard (the landing page after sign-in) and the reports pages: what
staff read on them, their CSV exports, the 30-day outlook from a queued preview, and a
dashboard whose number of queries does not grow with the book."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groupbill.automation import engine
from groupbill.automation.models import EngineRun
from groupbill.companies.queries import company_today
from tests import reports_book
from tests.conftest import ARTIFACTS, login


@pytest.fixture
def book(company, make_client):
    book = reports_book.ledger(company, make_client, company_today(company))
    reports_book.taxed_invoices(book)
    reports_book.services(company, book)
    return book


def text(response) -> str:
    """The page's text without tags and with single spaces, as a reader sees it."""
    import re

    body = response.content.decode()
    body = re.sub(r"<svg.*?</svg>", " ", body, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def rows(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_sign_in_lands_on_the_one_company_s_dashboard(staff, company):
    response = staff.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"/companies/{company.pk}/dashboard/"


def test_dashboard_shows_the_book_s_figures(staff, company, book):
    reports_book._payment(book.ada, 5_000, book.today, company)
    page = text(staff.get(f"/companies/{company.pk}/dashboard/"))
    assert "Income today €50.00" in page
    assert "Overdue €515.00 8 invoices $123.45 1 invoice" in page
    # MRR: 2 x €10 + €27/3 + €120/12 + (€120 + 3 x €12)/12 + €10; one €10 service canceled
    # on the 1st of this month.
    assert "MRR €62.00 -€10.00 this month $8.33 +$0.00 this month" in page
    assert "Pending orders 1" in page
    assert "Last engine run No run yet" in page
    assert "Current 1–30 days 31–60 days 61–90 days Over 90 days Total" in page  # noqa: RUF001
    assert "EUR €3.00 €19.00 €48.00 €192.00 €256.00 €518.00" in page
    assert "No preview of the next 30 days yet." in page


def test_ageing_report_and_its_csv(staff, company, book):
    url = f"/companies/{company.pk}/reports/ageing/"
    page = text(staff.get(url))
    assert "USD $0.00 $0.00 $123.45 $0.00 $0.00 $123.45" in page
    response = staff.get(url + "?format=csv")
    assert rows(response) == [
        ["currency", "current amount", "1_30 amount", "31_60 amount", "61_90 amount",
         "90_plus amount", "current invoices", "1_30 invoices", "31_60 invoices",
         "61_90 invoices", "90_plus invoices", "total"],
        ["EUR", "3.00", "19.00", "48.00", "192.00", "256.00", "2", "3", "2", "2", "1", "518.00"],
        ["USD", "0.00", "0.00", "123.45", "0.00", "0.00", "0", "0", "1", "0", "0", "123.45"],
    ]  # fmt: skip


def test_tax_report_for_a_chosen_period_and_its_csv(staff, company, book):
    first = book.today.replace(day=1)
    start, last = (first - timedelta(days=1)).replace(day=1), first - timedelta(days=1)
    url = f"/companies/{company.pk}/reports/tax/?start={start}&end={last}"
    page = text(staff.get(url))
    assert "EUR DE 19 % domestic 2 €120.00 €22.80" in page
    assert "EUR FR 20 % consumer 1 €50.00 €10.00" in page
    assert "EUR FR 0 % reverse_charge 1 €50.00 €0.00" in page
    assert rows(staff.get(url + "&format=csv"))[1:] == [
        ["EUR", "DE", "19", "domestic", "2", "120.00", "22.80"],
        ["EUR", "DE", "15", "domestic", "1", "10.00", "1.50"],
        ["EUR", "DE", "5", "domestic", "1", "10.00", "0.50"],
        ["EUR", "FR", "20", "consumer", "1", "50.00", "10.00"],
        ["EUR", "FR", "0", "reverse_charge", "1", "50.00", "0.00"],
    ]
    refused = text(staff.get(f"/companies/{company.pk}/reports/tax/?start={last}&end={start}"))
    assert "must be on or after the first day" in refused


def test_revenue_by_group_csv(staff, company, book):
    first = book.today.replace(day=1)
    start, last = (first - timedelta(days=1)).replace(day=1), first - timedelta(days=1)
    url = f"/companies/{company.pk}/reports/revenue/?start={start}&end={last}&by=group"
    table = rows(staff.get(url + "&format=csv"))
    assert table[0] == ["group", "currency", "invoices", "net", "tax", "gross"]
    # The taxed invoices of last month; the ledger's invoices depend on today's date.
    general = next(r for r in table if r[0] == "General")
    assert general[1] == "EUR" and float(general[4]) == 10.00


def test_mrr_report_and_its_csv(staff, company, book):
    url = f"/companies/{company.pk}/reports/mrr/"
    page = text(staff.get(url))
    assert "MRR now (EUR) €62.00" in page and "MRR now (USD) $8.33" in page
    table = rows(staff.get(url + "?format=csv"))
    assert table[0][:6] == ["month", "currency", "mrr at start", "new", "churned", "net"]
    this_month = book.today.strftime("%Y-%m")
    last_month = (book.today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert [this_month, "EUR", "82.00", "0.00", "10.00", "-10.00", "1", "12.2"] in table
    assert [last_month, "EUR", "81.00", "10.00", "9.00", "1.00", "1", "11.1"] in table


def test_forecast_is_queued_and_read_from_the_finished_preview(staff, company, book):
    url = f"/companies/{company.pk}/reports/forecast/"
    response = staff.post(url)
    assert response.status_code == 302
    run = EngineRun.objects.get()
    assert (run.dry_run, run.days, run.company_id) == (True, 30, company.pk)
    assert f"Preview #{run.pk} is queued" in text(staff.get(url))
    engine.work_queued()  # what a worker does
    page = text(staff.get(url))
    assert f"From preview #{run.pk} of 30 days" in page
    assert "Invoices Invoiced Charges Charged Suspensions" in page
    assert len(rows(staff.get(url + "?format=csv"))) == 31
    assert f"From preview #{run.pk}" in text(staff.get(f"/companies/{company.pk}/dashboard/"))


def _grow(company, make_client, n: int) -> None:
    """n more clients, each with an overdue invoice, a payment and an active service."""
    book = reports_book.Book(company_today(company), None, None, None)
    for i in range(n):
        c = make_client(email=f"more{i}@example.com")
        book.ada = book.bob = c
        reports_book._invoice(c, "EUR", issued_on=book.today - timedelta(days=40),
                              due_on=book.today - timedelta(days=26), total=1_000 + i)  # fmt: skip
        reports_book._payment(c, 500, book.today, company)
    reports_book.services(company, reports_book.Book(book.today, c, c, c))


def test_the_dashboard_s_queries_do_not_grow_with_the_book(staff, company, make_client, book):
    url = f"/companies/{company.pk}/dashboard/"
    staff.get(url)  # sessions, content types: cached from here on
    with CaptureQueriesContext(connection) as small:
        assert staff.get(url).status_code == 200
    _grow(company, make_client, 30)
    with CaptureQueriesContext(connection) as large:
        page = text(staff.get(url))
    assert len(large) == len(small) <= 20
    assert "Income today €150.00" in page  # 30 x €5 more


@pytest.mark.django_db(transaction=True)
def test_dashboard_and_mrr_report_in_a_browser(browser_page, staff_user, company, make_client):
    book = reports_book.ledger(company, make_client, company_today(company))
    reports_book.taxed_invoices(book)
    reports_book.services(company, book)
    for days in range(0, 330, 17):
        reports_book._payment(book.ada, 3_000 + 40 * days, book.today - timedelta(days=days),
                              company)  # fmt: skip
    page = browser_page
    login(page)
    page.wait_for_url(f"**/companies/{company.pk}/dashboard/")
    assert page.locator("#overdue").inner_text().startswith("Overdue\n€515.00")
    assert page.locator("svg.chart").count() == 1
    page.screenshot(path=f"{ARTIFACTS}/dashboard.png", full_page=True)
    page.get_by_role("link", name="MRR and churn").click()
    page.get_by_role("heading", name="MRR and churn").wait_for()
    assert page.locator("svg.chart").count() == 2  # EUR and USD, never added together
    page.screenshot(path=f"{ARTIFACTS}/report-mrr.png", full_page=True)
    page.get_by_role("link", name="Receivables ageing").click()
    page.screenshot(path=f"{ARTIFACTS}/report-ageing.png", full_page=True)
    page.get_by_role("link", name="Revenue").click()
    page.locator("#by-group").wait_for()
    page.screenshot(path=f"{ARTIFACTS}/report-revenue.png", full_page=True)
    page.get_by_role("link", name="Tax", exact=True).click()
    page.get_by_role("link", name="Last month").click()
    page.locator("#tax").get_by_text("reverse_charge").wait_for()
    page.screenshot(path=f"{ARTIFACTS}/report-tax.png", full_page=True)
    _renewing_service(company, make_client)
    page.get_by_role("link", name="Next 30 days").click()
    page.get_by_role("button", name="Queue a preview of the next 30 days").click()
    page.get_by_text("of the next 30 days is queued").wait_for()
    engine.work_queued()  # a worker runs it
    page.reload()
    page.locator("#forecast-days").wait_for()
    assert page.locator("#forecast-totals").inner_text().split("\n")[1] == "Invoices\t1\t€10.00"
    assert page.locator("svg.chart").count() == 1
    page.screenshot(path=f"{ARTIFACTS}/report-forecast.png", full_page=True)


def _renewing_service(company, make_client):
    """A paid monthly service from today: its next invoice is due within 30 days."""
    from groupbill.billing import payments
    from groupbill.catalog.models import Package, PackagePrice
    from groupbill.services import actions as services

    package = Package.objects.create(company=company, name="Mail")
    price = PackagePrice.objects.create(
        package=package, unit="month", count=1, currency="EUR", price=1_000
    )
    service = services.add_service(make_client(email="dora@example.com"), pricing=price,
                                   start_on=company_today(company), actor="test")  # fmt: skip
    payments.pay_invoice(service.first_invoice, amount=service.first_invoice.total, actor="test")
    services.provision(service, actor="test")


def test_a_new_company_s_dashboard_and_reports_say_there_is_nothing_yet(staff, company):
    page = text(staff.get(f"/companies/{company.pk}/dashboard/"))
    assert "Income today None yet" in page and "Overdue Nothing overdue" in page
    assert "MRR No recurring services" in page and "No payments in the last 12 months." in page
    for name in ("ageing", "revenue", "tax", "mrr", "forecast"):
        assert staff.get(f"/companies/{company.pk}/reports/{name}/").status_code == 200
    assert rows(staff.get(f"/companies/{company.pk}/reports/tax/?format=csv")) == [
        ["currency", "country", "rate", "rule", "lines", "net", "tax"]
    ]
    assert staff.get("/companies/999999/dashboard/").status_code == 404


def test_reports_are_for_staff_only(client, company):
    response = client.get(f"/companies/{company.pk}/reports/ageing/?format=csv")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
