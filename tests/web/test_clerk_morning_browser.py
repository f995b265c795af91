"""A billing clerk's morning in the browser, as a Billing (not superuser) staff user: the
dashboard's overdue figure, the overdue invoices, a reminder sent for two of them, a client
found from the top bar whose double payment is refunded, and the month's revenue. Then the
same pages as Support (read-only): no changing control, and each change posted anyway with
a valid CSRF token is 403 and changes nothing. Screenshots: test-artifacts/clerk-morning-*."""

import os
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from groupbill.billing import payments
from groupbill.billing.models import Transaction, TransactionKind
from groupbill.companies.actions import set_staff_role
from groupbill.companies.queries import company_today
from groupbill.companies.roles import Role
from groupbill.notices.models import OutboxMessage
from tests import reports_book
from tests.conftest import ARTIFACTS, login

pytestmark = pytest.mark.browser

PASSWORD = "morning coffee 2026"
OVERDUE = 9  # reports_book.ledger: 8 EUR invoices (€515.00) and 1 USD ($123.45)


@pytest.fixture
def book(company, make_client):
    """reports_book's ledger (overdue invoices in EUR and USD, a paid invoice of Bob's),
    Bob's second payment of that paid invoice (€50.00 of loose credit, to refund), and an
    invoice of Cy's issued today: the month's only USD revenue, $99.00."""
    today = company_today(company)
    book = reports_book.ledger(company, make_client, today)
    payments.record_payment(book.bob, amount=5_000, currency="EUR", actor="test",
                            reference="BANK-0412")  # fmt: skip
    reports_book._invoice(book.cy, "USD", issued_on=today, due_on=today + timedelta(days=14),
                          total=9_900, country="US")  # fmt: skip
    return book


def staff(django_user_model, company, role: Role, username: str):
    user = django_user_model.objects.create_user(username, password=PASSWORD, is_staff=True)
    set_staff_role(company, user, role, actor="test")
    return user


def shot(page, n: int, step: str) -> None:
    page.screenshot(path=os.path.join(ARTIFACTS, f"clerk-morning-{n}-{step}.png"), full_page=True)


def reminders():
    return OutboxMessage.objects.filter(key__startswith="reminder:")


def test_a_billing_clerk_s_morning(browser_page, django_user_model, company, book):
    staff(django_user_model, company, Role.BILLING, "clerk")
    page = browser_page
    login(page, "clerk", PASSWORD)

    # The dashboard is where the clerk lands; what is overdue, per currency.
    overdue = page.locator("#overdue")
    assert overdue.locator(".figure").all_inner_texts() == [
        "€515.00 8 invoices",
        "$123.45 1 invoice",
    ]
    shot(page, 1, "dashboard")

    # The overdue invoices: the invoice list, filtered.
    overdue.get_by_role("link", name="The overdue invoices").click()
    page.wait_for_url(re.compile(r"/invoices/\?status=overdue"))
    assert page.locator("#filters select[name=status]").input_value() == "overdue"
    rows = page.locator("#invoices tbody tr")
    assert rows.count() == OVERDUE
    assert page.locator("#invoices tbody tr.overdue .badge.overdue").count() == OVERDUE
    assert rows.filter(has_text="Bob Lovelace").filter(has_text="€7.00").count() == 1
    shot(page, 2, "overdue-invoices")

    # Two of them reminded now.
    ticked = {}  # invoice id -> the name the list shows
    for row in (rows.nth(0), rows.nth(1)):
        box = row.locator("input[name=invoice]")
        box.check()
        ticked[int(box.get_attribute("value"))] = row.locator("td").nth(1).inner_text()
    ids = sorted(ticked)
    page.get_by_role("button", name="Send a reminder now").click()
    said = page.locator(".messages li.success")
    said.wait_for()
    names = ", ".join(ticked[pk] for pk in ids)
    assert said.inner_text() == f"Reminder queued for 2 invoice(s): {names}."
    assert sorted(m.invoice_id for m in reminders()) == ids
    assert {m.template for m in reminders()} == {"notice_first"}
    shot(page, 3, "reminders-sent")

    # Bob, found from the top bar.
    page.get_by_role("search").get_by_role("searchbox").fill("Bob")
    page.keyboard.press("Enter")
    found = page.locator("#table-clients")
    found.wait_for()
    shot(page, 4, "search")
    found.get_by_role("link", name="Bob Lovelace").click()
    page.get_by_role("heading", name=re.compile("Bob Lovelace")).wait_for()
    balances = page.locator("#balances tbody td")  # currency, due, loose credit, action
    assert balances.all_inner_texts() == ["EUR", "€7.00", "€50.00", "Apply credit"]
    shot(page, 5, "client")

    # His second payment of the paid invoice, refunded in full.
    payment = page.locator("#payments tbody tr", has_text="BANK-0412")
    assert payment.locator("input[name=amount]").input_value() == "50.00"
    payment.locator("input[name=reference]").fill("Paid twice")
    payment.get_by_role("button", name="Refund").click()
    said = page.locator(".messages li.success")
    said.wait_for()
    assert said.inner_text().startswith("Refunded 50.00 EUR of the payment of ")
    refund = page.locator("#payments tbody tr", has_text="Paid twice")
    assert "Refund" in refund.inner_text() and "\u2212€50.00" in refund.inner_text()
    assert "€50.00 refunded" in payment.inner_text()
    assert page.locator("#payments form").count() == 0  # nothing left to refund
    assert balances.all_inner_texts() == ["EUR", "€7.00", "€0.00", ""]
    made = Transaction.objects.get(kind=TransactionKind.REFUND)
    assert (made.amount, made.refund_of.reference, made.actor) == (
        5_000,
        "BANK-0412",
        "staff:clerk",
    )
    shot(page, 6, "refund")

    # The month's revenue: invoiced this month, by the clients' groups.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_role("navigation", name="Reports").get_by_role("link", name="Revenue").click()
    general_usd = page.locator("#by-group tbody tr", has_text="General").filter(has_text="USD")
    assert general_usd.inner_text().split("\t") == ["General", "USD", "1", "$99.00", "$0.00",
                                                    "$99.00"]  # fmt: skip
    shot(page, 7, "revenue")


def test_the_same_morning_as_support(browser_page, django_user_model, company, book):
    """Support reads every page of the morning, with no control that changes anything; the
    changes posted anyway (with the page's own CSRF token) are refused and change nothing."""
    staff(django_user_model, company, Role.SUPPORT, "helpdesk")
    page = browser_page
    login(page, "helpdesk", PASSWORD)
    assert page.locator("#overdue .figure").first.inner_text() == "€515.00 8 invoices"
    assert page.locator("header .badge", has_text="read-only").is_visible()
    shot(page, 8, "support-dashboard")

    page.goto("/invoices/?status=overdue")
    assert page.locator("#invoices tbody tr.overdue").count() == OVERDUE
    assert page.locator("main form[method=post]").count() == 0
    assert page.locator("main input[type=checkbox]").count() == 0
    assert page.get_by_role("button", name="Send a reminder now").count() == 0
    shot(page, 9, "support-overdue-invoices")

    bob = book.bob
    page.goto(f"/clients/{bob.pk}/")
    assert page.locator("#payments tbody tr", has_text="BANK-0412").is_visible()
    assert page.locator("main form[method=post]").count() == 0
    assert page.get_by_role("button", name="Refund").count() == 0
    shot(page, 10, "support-client")
    page.goto(f"/companies/{company.pk}/reports/revenue/")
    assert page.locator("#by-group tbody tr", has_text="USD").filter(has_text="$99.00").count()
    shot(page, 11, "support-revenue")

    token = page.locator("header input[name=csrfmiddlewaretoken]").input_value()
    payment = Transaction.objects.get(reference="BANK-0412")
    overdue = [i.pk for i in bob.invoices.filter(status="open")]
    changes = {
        "/invoices/bulk/": [("action", "remind"), *(("invoice", pk) for pk in overdue)],
        f"/clients/{bob.pk}/refund/": [("transaction", payment.pk), ("amount", "50.00")],
    }
    before = (reminders().count(), Transaction.objects.count())
    for url, fields in changes.items():
        response = page.request.post(url, data=urlencode([("csrfmiddlewaretoken", token), *fields]),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"},
                                     max_redirects=0)  # fmt: skip
        assert response.status == 403, url
        assert "Your role does not allow this here" in response.text(), url
    assert (reminders().count(), Transaction.objects.count()) == before == (0, 1)
    # The token was a valid one: signing out with it works.
    response = page.request.post("/logout/", form={"csrfmiddlewaretoken": token}, max_redirects=0)
    assert response.status == 302
