"""The lists across clients (invoices, payments, services) as staff see them: filters that
stay in the URL, the overdue badge, sorting, paging, CSV export, the invoice list's bulk
actions, and a page costing the same number of queries however large the book."""

import csv
import io
import os
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from groupbill.audit.models import AuditEntry
from groupbill.billing import invoices, payments
from groupbill.catalog.models import Package, PackagePrice
from groupbill.companies.queries import company_today
from groupbill.notices import pdf
from groupbill.notices.models import OutboxMessage, PrintJob, PrintStatus
from groupbill.services.models import Service
from tests.conftest import ARTIFACTS, login
from tests.web.lists_helpers import rows

ACTOR = "test"


def issue(client, amount, *, due_in, issued_ago=30, currency="EUR", description="Hosting"):
    """An invoice of one line, issued `issued_ago` days ago and due in `due_in` days (from
    the company's today; negative: past due)."""
    today = company_today(client.company)
    lines = invoices.clean_lines([{"description": description, "unit_amount": amount}])
    invoice = invoices.create_invoice(client, lines, actor=ACTOR, currency=currency)
    invoices.issue_invoice(invoice, issued_on=today - timedelta(days=issued_ago),
                           due_on=today + timedelta(days=due_in), actor=ACTOR)  # fmt: skip
    invoice.refresh_from_db()
    return invoice


@pytest.fixture
def book(company, make_client, group, default_group):
    """Ada (Resellers, Analytical Engines Ltd) owes an overdue invoice and has one not due
    yet; Bob (default group) paid his and has a draft and a voided one in USD."""
    ada = make_client(group=group, company="Analytical Engines Ltd", tax_id="DE 136 695 976")
    bob = make_client(first_name="Bob", last_name="Babbage", email="bob@diff.example")
    book = {
        "ada": ada,
        "bob": bob,
        "overdue": issue(ada, 12500, due_in=-3),
        "open": issue(ada, 4000, due_in=10, issued_ago=2),
        "paid": issue(bob, 9900, due_in=-20, issued_ago=40),
        "usd": issue(bob, 700, due_in=5, currency="USD"),
    }
    payments.pay_invoice(book["paid"], amount=book["paid"].total, actor=ACTOR, reference="wire")
    invoices.void_invoice(book["usd"], actor=ACTOR, reason="wrong currency")
    lines = invoices.clean_lines([{"description": "Setup", "unit_amount": 500}])
    book["draft"] = invoices.create_invoice(bob, lines, actor=ACTOR)
    return book


def page(http, url):
    response = http.get(url)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def invoice_rows(http, query=""):
    return rows(page(http, f"/invoices/{query}"), "invoices")


def test_the_invoice_list_names_clients_formats_money_and_badges_overdue(staff, book):
    shown = {r[1]: r for r in invoice_rows(staff)}
    overdue = shown[str(book["overdue"])]
    assert overdue[2] == "Ada Lovelace Analytical Engines Ltd"
    assert overdue[3] == "Resellers"
    assert "Overdue" in overdue[5]
    assert overdue[6] == "Open"
    assert overdue[7] == overdue[8] == "€125.00"
    assert "Overdue" not in shown[str(book["open"])][5]  # open, but not due yet
    assert "Overdue" not in shown[str(book["paid"])][5]  # past its date, but paid
    assert shown[str(book["usd"])][7] == "$7.00"
    assert shown[f"Draft invoice #{book['draft'].pk}"][4] == "—"


def test_filters_stay_in_the_url_and_combine(staff, book, group):
    def numbers(query):
        return [r[1] for r in invoice_rows(staff, query)]

    assert numbers("?status=overdue") == [str(book["overdue"])]
    assert sorted(numbers("?status=open")) == sorted([str(book["overdue"]), str(book["open"])])
    assert numbers(f"?group={group.pk}&sort=number") == [str(book["overdue"]), str(book["open"])]
    assert numbers("?currency=USD") == [str(book["usd"])]
    today = company_today(book["ada"].company)
    since = (today - timedelta(days=5)).isoformat()
    assert numbers(f"?issued_from={since}") == [str(book["open"])]
    until = (today - timedelta(days=10)).isoformat()
    assert numbers(f"?status=paid&due_to={until}") == [str(book["paid"])]
    html = page(staff, f"/invoices/?status=overdue&group={group.pk}")
    assert '<option value="overdue" selected>' in html  # the form shows what filters
    assert '<option value="50" selected>' in html  # and the page size in use
    assert f'<option value="{group.pk}" selected>' in html


def test_a_value_that_cannot_be_read_is_said_and_not_applied(staff, book):
    html = page(staff, "/invoices/?due_from=31.02.2026&status=open")
    assert "Due from: Enter a valid date. (not applied)" in html
    assert len(rows(html, "invoices")) == 2  # the status filter still applies


def test_columns_sort_both_ways(staff, book):
    def totals(sort):
        return [r[7] for r in invoice_rows(staff, f"?sort={sort}&status=open")]

    assert totals("total") == ["€40.00", "€125.00"]
    assert totals("-total") == ["€125.00", "€40.00"]
    by_client = [r[2].split()[0] for r in invoice_rows(staff, "?sort=client")]
    assert by_client == ["Bob"] * 3 + ["Ada"] * 2  # Babbage before Lovelace
    html = page(staff, "/invoices/?sort=total&status=open")
    assert 'href="?sort=-total&amp;status=open" aria-sort="ascending"' in html


def test_the_list_pages_and_keeps_its_filters(staff, make_client):
    ada = make_client()
    for n in range(30):
        issue(ada, 1000 + n, due_in=-1)
    first = page(staff, "/invoices/?status=overdue&per=25&sort=total")
    assert len(rows(first, "invoices")) == 25
    assert "Page 1 of 2 · 30 invoices" in first
    assert 'href="?status=overdue&amp;per=25&amp;sort=total&amp;page=2" rel="next"' in first
    second = page(staff, "/invoices/?status=overdue&per=25&sort=total&page=2")
    assert [r[7] for r in rows(second, "invoices")] == [f"€10.{n}" for n in range(25, 30)]


def test_csv_export_is_the_filtered_list_every_page(staff, book):
    response = staff.get("/invoices/?status=open&sort=number&per=25&page=7")
    response = staff.get("/invoices/?status=open&sort=number&format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="invoices.csv"'
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["number"], r["client"], r["company"], r["group"], r["overdue"], r["currency"],
             r["total"], r["balance_due"]) for r in table] == [
        (str(book["overdue"].number), "Ada Lovelace", "Analytical Engines Ltd", "Resellers",
         "yes", "EUR", "125.00", "125.00"),
        (str(book["open"].number), "Ada Lovelace", "Analytical Engines Ltd", "Resellers", "",
         "EUR", "40.00", "40.00"),
    ]  # fmt: skip


def test_the_payments_list_filters_by_gateway_kind_and_date(staff, book):
    ada = book["ada"]
    payments.record_payment(ada, amount=2000, currency="EUR", actor=ACTOR, method="sandbox",
                            reference="ch_1")  # fmt: skip
    payments.add_credit(ada, amount=300, currency="EUR", actor=ACTOR, note="goodwill")
    shown = rows(page(staff, "/transactions/?gateway=sandbox"), "transactions")
    assert [(r[1], r[2], r[4], r[5], r[7]) for r in shown] == [
        ("Ada Lovelace", "Payment", "sandbox", "ch_1", "€20.00")
    ]
    assert shown[0][0].startswith(company_today(ada.company).isoformat())  # the company's day
    credit = rows(page(staff, "/transactions/?kind=credit"), "transactions")
    assert [(r[1], r[7]) for r in credit] == [("Ada Lovelace", "€3.00")]
    wire = rows(page(staff, "/transactions/?gateway=manual"), "transactions")
    assert [(r[1], r[6]) for r in wire] == [("Bob Babbage", f"{book['paid']} €99.00")]
    today = company_today(ada.company)
    assert rows(page(staff, f"/transactions/?date_to={today - timedelta(days=1)}"),
                "transactions") == [["No transactions match."]]  # fmt: skip
    assert len(rows(page(staff, f"/transactions/?date_from={today}"), "transactions")) == 3
    response = staff.get("/transactions/?kind=credit&format=csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["client"], r["kind"], r["currency"], r["amount"]) for r in table] == [
        ("Ada Lovelace", "credit", "EUR", "3.00")
    ]


@pytest.fixture
def hosting(company):
    package = Package.objects.create(company=company, name="Managed WordPress")
    return PackagePrice.objects.create(
        package=package, unit="month", count=1, currency="EUR", price=1250
    )


def test_the_services_list_filters_sorts_and_exports(staff, book, hosting, group):
    today = company_today(book["ada"].company)
    soon = Service.objects.create(
        client=book["ada"],
        package=hosting.package,
        pricing=hosting,
        status="active",
        renew_date=today + timedelta(days=3),
    )
    later = Service.objects.create(
        client=book["bob"],
        package=hosting.package,
        pricing=hosting,
        status="suspended",
        renew_date=today + timedelta(days=40),
    )
    shown = rows(page(staff, "/services/?sort=renews"), "services")
    assert [(r[0], r[1], r[2], r[4], r[6]) for r in shown] == [
        (f"#{soon.pk}", "Managed WordPress", "Ada Lovelace", "Active", "€12.50 1 month"),
        (f"#{later.pk}", "Managed WordPress", "Bob Babbage", "Suspended", "€12.50 1 month"),
    ]
    assert [r[0] for r in rows(page(staff, "/services/?status=suspended"), "services")] == [
        f"#{later.pk}"
    ]
    assert [r[0] for r in rows(page(staff, f"/services/?group={group.pk}"), "services")] == [
        f"#{soon.pk}"
    ]
    until = (today + timedelta(days=10)).isoformat()
    assert [r[0] for r in rows(page(staff, f"/services/?renew_to={until}"), "services")] == [
        f"#{soon.pk}"
    ]
    response = staff.get("/services/?sort=-renews&format=csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["service"], r["client"], r["price"], r["term"]) for r in table] == [
        (str(later.pk), "Bob Babbage", "12.50", "1 month"),
        (str(soon.pk), "Ada Lovelace", "12.50", "1 month"),
    ]


# --- bulk actions ------------------------------------------------------------------------


def bulk(http, action, *invoices_, next_url="/invoices/?status=open"):
    data = {"action": action, "invoice": [i.pk for i in invoices_], "next": next_url}
    return http.post("/invoices/bulk/", data)


def shown_messages(http, response):
    assert response.status_code == 302
    html = page(http, response["Location"])
    return [" ".join(m.split()) for m in rows_of_messages(html)]


def rows_of_messages(html):
    import re

    return re.findall(r'<li class="[^"]*" role="status">(.*?)</li>', html, re.S)


def test_send_a_reminder_now_queues_one_per_invoice_and_day(staff, book):
    response = bulk(staff, "remind", book["overdue"], book["open"], book["paid"])
    assert response["Location"] == "/invoices/?status=open"  # back to the same list
    said = shown_messages(staff, response)
    assert f"Reminder queued for 2 invoice(s): {book['overdue']}, {book['open']}." in said
    assert f"No reminder for {book['paid']}: not open (draft, paid or void)." in said
    again = shown_messages(staff, bulk(staff, "remind", book["overdue"], book["open"]))
    assert again == [f"No reminder for {book['overdue']}, {book['open']}: already reminded today."]
    sent = OutboxMessage.objects.filter(key__startswith="reminder:").order_by("invoice_id")
    ada = [{"name": "Ada Lovelace", "email": "ada@example.com"}]
    assert [(m.invoice_id, m.template, m.recipients) for m in sent] == [
        (book["overdue"].pk, "notice_first", ada),
        (book["open"].pk, "notice_first", ada),
    ]
    audited = AuditEntry.objects.filter(action="invoice.reminder", actor="staff:staff")
    assert sorted(a.object_id for a in audited) == [book["overdue"].pk, book["open"].pk]


def test_a_reminder_needs_an_email_to_go_to(staff, book, make_client):
    mute = make_client(first_name="No", last_name="Mail", email="")
    invoice = issue(mute, 1000, due_in=-1)
    said = shown_messages(staff, bulk(staff, "remind", invoice))
    assert said == [f"No reminder for {invoice}: the client has no contact with an email address."]
    assert not OutboxMessage.objects.filter(invoice=invoice).exists()


def test_mark_printed_takes_queued_invoices_off_the_print_queue_once(staff, book):
    PrintJob.objects.create(invoice=book["overdue"])
    said = shown_messages(staff, bulk(staff, "printed", book["overdue"], book["open"]))
    assert said == [
        "1 invoice(s) marked printed and mailed; 1 were not waiting in the print queue."
    ]
    assert PrintJob.objects.get(invoice=book["overdue"]).status == PrintStatus.PRINTED
    again = shown_messages(staff, bulk(staff, "printed", book["overdue"]))
    assert again == [
        "0 invoice(s) marked printed and mailed; 1 were not waiting in the print queue."
    ]
    assert AuditEntry.objects.filter(action="invoice.printed").count() == 1


def test_download_pdfs_of_the_ticked_invoices_is_bounded(staff, book, monkeypatch):
    response = bulk(staff, "pdf", book["overdue"], book["open"], book["paid"])
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="invoices-3.pdf"'
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 3
    monkeypatch.setattr(pdf, "BATCH_LIMIT", 2)
    said = shown_messages(staff, bulk(staff, "pdf", book["overdue"], book["open"], book["paid"]))
    assert said == ["Nothing done: one PDF holds at most 2 invoices, not 3."]


def test_nothing_ticked_is_said(staff, book):
    assert shown_messages(staff, bulk(staff, "remind")) == ["Tick the invoices first."]


def test_bulk_goes_back_only_to_this_site(staff, book):
    response = bulk(staff, "remind", next_url="https://evil.example/")
    assert response["Location"] == "/invoices/"


# --- a page costs the same few queries, however large the book ---------------------------


def grow(make_client, hosting, group, size):
    for n in range(size):
        client = make_client(group=group if n % 2 else None, first_name=f"C{n}",
                             email=f"c{n}@example.com")  # fmt: skip
        invoice = issue(client, 1000 + n, due_in=-1 if n % 2 else 5)
        payments.pay_invoice(invoice, amount=500, actor=ACTOR)
        Service.objects.create(client=client, package=hosting.package, pricing=hosting,
                               status="active")  # fmt: skip


def queries(http, url):
    with CaptureQueriesContext(connection) as captured:
        assert http.get(url).status_code == 200
    return len(captured)


URLS = [
    "/invoices/?sort=client",
    "/invoices/?status=overdue&sort=-balance",
    "/transactions/?sort=client",
    "/services/?sort=client",
    "/search/?q=example",
    "/clients/",
]


def test_a_page_costs_the_same_queries_for_a_small_and_a_larger_book(
    staff, make_client, hosting, group
):
    grow(make_client, hosting, group, 3)
    small = {url: queries(staff, url) for url in URLS}
    grow(make_client, hosting, group, 30)
    large = {url: queries(staff, url) for url in URLS}
    assert large == small
    assert max(small.values()) <= 15, small


# --- screenshot ---------------------------------------------------------------------------


def test_the_invoice_list_in_the_browser(browser_page, staff_user, book):
    page_ = browser_page
    login(page_)
    page_.goto("/invoices/?sort=-due")
    page_.select_option("select[name=status]", "overdue")
    page_.click("#filters button[type=submit]")
    page_.wait_for_url("**/invoices/?*status=overdue*")
    assert page_.locator("#invoices tbody tr").count() == 1
    page_.goto("/invoices/?sort=-due")
    page_.check("input[data-select-all]")
    assert page_.locator("input[name=invoice]:checked").count() == 5
    page_.uncheck("input[data-select-all]")
    assert page_.locator("input[name=invoice]:checked").count() == 0
    page_.check(f"#inv-{book['overdue'].pk}")
    page_.click("button[value=remind]")
    page_.wait_for_selector(".messages li")
    assert "Reminder queued for 1 invoice(s)" in page_.inner_text(".messages")
    page_.screenshot(path=os.path.join(ARTIFACTS, "invoice-list.png"), full_page=True)


def test_the_payments_and_services_lists_in_the_browser(browser_page, staff_user, book, hosting):
    today = company_today(book["ada"].company)
    Service.objects.create(client=book["ada"], package=hosting.package, pricing=hosting,
                           status="active", renew_date=today)  # fmt: skip
    page_ = browser_page
    login(page_)
    page_.goto("/transactions/")
    assert page_.locator("#transactions tbody tr").count() == 1
    assert "€99.00" in page_.inner_text("#transactions")
    page_.screenshot(path=os.path.join(ARTIFACTS, "payments-list.png"), full_page=True)
    page_.goto("/services/")
    page_.select_option("select[name=status]", "active")
    page_.click("#filters button[type=submit]")
    page_.wait_for_url("**/services/?*status=active*")
    assert page_.locator("#services tbody tr").count() == 1
    page_.screenshot(path=os.path.join(ARTIFACTS, "services-list.png"), full_page=True)
