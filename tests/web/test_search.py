"""The top bar's search: each kind found by what staff type, results grouped by kind."""

import os

import pytest
from django.utils.formats import date_format

from groupbill.billing import invoices
from groupbill.catalog.models import Package, PackagePrice
from groupbill.services.models import Service
from tests.conftest import ARTIFACTS, login
from tests.web.lists_helpers import rows
from tests.web.test_lists import issue


@pytest.fixture
def found(company, make_client, group):
    ada = make_client(group=group, company="Analytical Engines Ltd", tax_id="DE136695976")
    bob = make_client(first_name="Bob", last_name="Babbage", email="bob@diff.example",
                      company="Difference Works")  # fmt: skip
    package = Package.objects.create(company=company, name="Managed WordPress")
    price = PackagePrice.objects.create(package=package, unit="month", count=1, currency="EUR",
                                        price=1250)  # fmt: skip
    return {
        "ada": ada,
        "bob": bob,
        "invoice": issue(ada, 12500, due_in=-3),
        "other": issue(bob, 900, due_in=4),
        "service": Service.objects.create(client=bob, package=package, pricing=price,
                                          status="active"),
    }  # fmt: skip


def search(http, text):
    response = http.get("/search/", {"q": text})
    assert response.status_code == 200
    html = response.content.decode()
    return {
        kind: [r[0] for r in rows(html, f"table-{kind}")]
        for kind in ("clients", "invoices", "credit_notes", "services")
    }, html


def names(http, text, kind):
    return search(http, text)[0][kind]


@pytest.mark.parametrize(
    "text",
    ["lovelace", "Ada Lovelace", "ADA@EXAMPLE", "analytical", "DE 136 695 976", "136695"],
)
def test_clients_by_name_email_company_or_tax_id(staff, found, text):
    assert names(staff, text, "clients") == ["Ada Lovelace"]


def test_every_word_must_match(staff, found):
    assert names(staff, "bob lovelace", "clients") == []
    assert names(staff, "babbage works", "clients") == ["Bob Babbage"]


def test_invoices_by_number(staff, found):
    number = found["invoice"].number
    for text in (str(number), f"Invoice {number}", f"#{number}"):
        shown, html = search(staff, text)
        assert shown["invoices"] == [str(found["invoice"])]
    assert "Overdue" in html and "€125.00" in html and "Ada Lovelace" in html


def test_credit_notes_by_number(staff, found):
    invoice = issue(found["bob"], 4250, due_in=4, currency="GBP")
    invoices.void_invoice(invoice, actor="test", reason="billed twice")
    note = invoice.credit_notes.get()
    for text in (str(note.number), f"Credit note {note.number}", f"#{note.number}"):
        shown, html = search(staff, text)
        assert shown["credit_notes"] == [f"Credit note {note.number}"]
    row = rows(html, "table-credit_notes")[0]
    issued = date_format(note.issued_on)
    assert row[1:6] == ["Bob Babbage", "Acme Hosting", issued, str(invoice), "£42.50"]
    # The number leads to the invoice page's row of the note, which lists it.
    assert f'href="/invoices/{invoice.pk}/#credit-note-{note.pk}"' in html
    page = staff.get(f"/invoices/{invoice.pk}/").content.decode()
    assert f'<tr id="credit-note-{note.pk}">' in page
    assert names(staff, f"draft {note.number}", "credit_notes") == []


def test_services_by_id_or_label(staff, found):
    service = found["service"]
    assert names(staff, f"#{service.pk}", "services") == [f"Managed WordPress #{service.pk}"]
    assert names(staff, "wordpress", "services") == [f"Managed WordPress #{service.pk}"]


def test_nothing_found_is_said(staff, found):
    shown, html = search(staff, "zebra")
    assert shown == {"clients": [], "invoices": [], "credit_notes": [], "services": []}
    assert "Nothing matches “zebra”." in html


def test_many_hits_are_cut_at_the_limit_and_said(staff, company, make_client):
    for n in range(22):
        make_client(first_name=f"Zed{n}", email=f"zed{n}@example.com")
    shown, html = search(staff, "zed")
    assert len(shown["clients"]) == 20
    assert "Showing the first 20; type more to narrow the search." in html


def test_search_from_the_top_bar_in_the_browser(browser_page, staff_user, found):
    page = browser_page
    login(page)
    page.fill("header input[name=q]", "a")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/search/?q=a")
    page.fill("header input[name=q]", "wordpress")
    page.press("header input[name=q]", "Enter")
    page.wait_for_selector("#found-services")
    page.goto(f"/search/?q={found['invoice'].number}")
    assert page.locator("#found-invoices tbody tr").count() == 1
    page.goto("/search/?q=example")
    assert page.locator("#found-clients tbody tr").count() == 2
    page.screenshot(path=os.path.join(ARTIFACTS, "search-results.png"), full_page=True)
    invoices.void_invoice(found["other"], actor="test", reason="billed twice")
    note = found["other"].credit_notes.get()
    page.goto(f"/search/?q={note.number}")
    assert page.locator("#found-credit_notes tbody tr").count() == 1
    page.screenshot(path=os.path.join(ARTIFACTS, "search-credit-notes.png"), full_page=True)
    page.click(f"#found-credit_notes a:text('{note}')")
    page.wait_for_url(f"**/invoices/{found['other'].pk}/#credit-note-{note.pk}")
    assert page.locator(f"#credit-note-{note.pk}").is_visible()
