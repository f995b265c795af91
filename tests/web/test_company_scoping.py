"""Two companies and a staff user with a role in only one: the pages across companies
(search, print queue, automation, the lists' filters) show only their company, and
anything of the other company (a run of every company too) answers 404 as a missing id
does."""

import os
import re

import pytest
from django.urls import reverse

from groupbill.automation.models import EngineRun
from groupbill.billing import invoices
from groupbill.billing.models import Transaction
from groupbill.clients.models import Client
from groupbill.companies.models import Company
from groupbill.companies.roles import Role
from groupbill.notices.models import PrintJob, PrintStatus
from tests.conftest import ARTIFACTS, login
from tests.web.lists_helpers import rows
from tests.web.test_lists import issue
from tests.web.test_permission_matrix import book
from tests.web.test_read_only_staff import member


@pytest.fixture
def own(db):
    return book("Own")


@pytest.fixture
def other(own):
    return book("Other")


@pytest.fixture
def billing(django_user_model, own, other):
    """A billing clerk of Own only."""
    return member(django_user_model, own, Role.BILLING, "clerk")[1]


def _client(ids) -> Client:
    return Client.objects.get(pk=ids["client"])


def options(html: str, name: str) -> list[str]:
    """The labels a filter's select offers (the "Any" choice left out)."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    labels = re.findall(r"<option[^>]*>([^<]*)</option>", select.group(1))
    return [label for label in labels if label != "Any"]


def test_search_finds_only_the_users_companies(billing, staff, own, other):
    mine, theirs = issue(_client(own), 1000, due_in=5), issue(_client(other), 2000, due_in=5)
    assert mine.number == theirs.number  # numbered per company: the same number in both
    page = billing.get("/search/", {"q": "Ada"}).content.decode()
    assert [r[0] for r in rows(page, "table-clients")] == ["Ada Own"]
    page = billing.get("/search/", {"q": str(mine.number)}).content.decode()
    assert [r[2] for r in rows(page, "table-invoices")] == ["Own"]
    page = billing.get("/search/", {"q": "Hosting"}).content.decode()
    assert {r[1] for r in rows(page, "table-services")} == {"Ada Own"}
    assert "Nothing matches" in billing.get("/search/", {"q": "Other"}).content.decode()
    # A superuser is in every company.
    page = staff.get("/search/", {"q": "Ada"}).content.decode()
    assert [r[0] for r in rows(page, "table-clients")] == ["Ada Own", "Ada Other"]


def test_search_finds_only_the_users_companies_credit_notes(billing, staff, own, other):
    notes = []
    for ids in (own, other):
        invoice = issue(_client(ids), 1000, due_in=5)
        invoices.void_invoice(invoice, actor="test", reason="billed twice")
        notes.append(invoice.credit_notes.get())
    assert notes[0].number == notes[1].number  # numbered per company: the same number in both
    text = f"Credit note {notes[0].number}"
    page = billing.get("/search/", {"q": text}).content.decode()
    assert [(r[1], r[2]) for r in rows(page, "table-credit_notes")] == [("Ada Own", "Own")]
    assert "Ada Other" not in page
    page = staff.get("/search/", {"q": text}).content.decode()
    assert [r[2] for r in rows(page, "table-credit_notes")] == ["Own", "Other"]


def test_the_print_queue_shows_and_marks_only_the_users_companies(billing, own, other):
    mine = PrintJob.objects.create(invoice=issue(_client(own), 1000, due_in=5))
    theirs = PrintJob.objects.create(invoice=issue(_client(other), 2000, due_in=5))
    page = billing.get(reverse("web:print_queue")).content.decode()
    queued = rows(page, "print-queue")
    assert {r[2] for r in queued} == {"Ada Own"}
    billing.post(reverse("web:print_queue"), {"job": [mine.pk, theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == (PrintStatus.PRINTED, PrintStatus.QUEUED)


def test_the_lists_offer_only_the_users_companies_groups_and_gateways(billing, own, other):
    for ids, method in ((own, "manual"), (other, "othergateway")):
        issue(_client(ids), 1000, due_in=5, currency="EUR" if ids is own else "GBP")
        Transaction.objects.create(
            company_id=ids["company"], client_id=ids["client"], kind="payment",
            status="approved", currency="EUR", amount=100, method=method, actor="test",
        )  # fmt: skip
    invoices = billing.get(reverse("web:invoice_list")).content.decode()
    assert options(invoices, "company") == ["Own"]
    assert options(invoices, "group") == ["General", "Own resellers"]
    assert "EUR" in options(invoices, "currency")
    assert "GBP" not in options(invoices, "currency")
    payments = billing.get(reverse("web:transaction_list")).content.decode()
    assert "manual" in options(payments, "gateway")
    assert "othergateway" not in options(payments, "gateway")
    services = billing.get(reverse("web:service_list")).content.decode()
    assert options(services, "company") == ["Own"]
    assert options(services, "package").count("Hosting") == 1  # Own's, not Other's too
    # Asking for the other company's rows by its id filters nothing in.
    asked = billing.get(reverse("web:invoice_list"), {"company": other["company"]})
    assert "Company: Select a valid choice" in asked.content.decode()
    assert {r[2] for r in rows(asked.content.decode(), "invoices")} == {"Ada Own"}


def test_bulk_actions_leave_other_companies_invoices_alone(billing, own, other):
    theirs = issue(_client(other), 2000, due_in=-5)
    PrintJob.objects.create(invoice=theirs)
    back = billing.post(reverse("web:invoice_bulk"), {"invoice": [theirs.pk], "action": "printed"})
    assert back.status_code == 302
    assert PrintJob.objects.get(invoice=theirs).status == PrintStatus.QUEUED


def test_automation_shows_only_the_users_companies_runs(billing, staff, own, other):
    every = EngineRun.objects.create(as_of="2026-01-02T12:00Z", actor="scheduler", status="done")
    page = billing.get(reverse("web:automation")).content.decode()
    assert {(r[0], r[1]) for r in rows(page, "runs")} == {(f"#{own['run']}", "Own")}
    for run in (other["run"], every.pk, 999_999):
        assert billing.get(reverse("web:automation_run", args=[run])).status_code == 404
    assert billing.get(reverse("web:automation_run", args=[own["run"]])).status_code == 200
    # A superuser sees every run, the one of every company too.
    page = staff.get(reverse("web:automation")).content.decode()
    shown = {r[0] for r in rows(page, "runs")}
    assert {f"#{every.pk}", f"#{other['run']}", f"#{own['run']}"} <= shown


def test_an_owner_of_one_company_previews_and_runs_only_it(django_user_model, own, other):
    _, owner = member(django_user_model, own, Role.OWNER, "owner")
    page = owner.get(reverse("web:automation")).content.decode()
    assert f'<input type="hidden" name="company" value="{own["company"]}">' in page
    assert "Every company" not in page
    queued = owner.post(reverse("web:automation"),
                        {"action": "preview_1", "company": own["company"]})  # fmt: skip
    assert queued.status_code == 302
    preview = EngineRun.objects.order_by("-pk").first()
    assert (preview.company_id, preview.dry_run) == (own["company"], True)
    before = EngineRun.objects.count()
    for company in (other["company"], ""):
        refused = owner.post(reverse("web:automation"), {"action": "run_now", "company": company})
        assert refused.status_code == 404
    assert EngineRun.objects.count() == before


def test_the_dashboard_links_a_run_of_every_company_only_for_who_sees_it(billing, staff, own):
    every = EngineRun.objects.create(as_of="2026-01-02T12:00Z", actor="scheduler", status="done")
    dashboard = reverse("web:company_dashboard", args=[own["company"]])
    link = f'href="{reverse("web:automation_run", args=[every.pk])}"'
    assert f"#{every.pk}" in billing.get(dashboard).content.decode()
    assert link not in billing.get(dashboard).content.decode()
    assert link in staff.get(dashboard).content.decode()


def test_another_companys_pages_and_objects_answer_404(billing, own, other):
    for name, kwargs in (
        ("company_dashboard", {"company_id": other["company"]}),
        ("client_detail", {"client_id": other["client"]}),
        ("invoice_pdf", {"invoice_id": other["invoice"]}),
        ("client_detail", {"client_id": 999_999}),
    ):
        assert billing.get(reverse(f"web:{name}", kwargs=kwargs)).status_code == 404, name
    assert billing.get(reverse("web:client_detail", args=[own["client"]])).status_code == 200


def test_home_and_reports_lead_to_the_users_one_company(billing, own, other):
    company = Company.objects.get(pk=own["company"])
    home = billing.get(reverse("web:home"))
    assert home["Location"] == reverse("web:company_dashboard", args=[company.pk])
    reports = billing.get(reverse("web:reports_home"))
    assert reports["Location"] == reverse("web:report_ageing", args=[company.pk])


def test_a_member_of_every_company_sees_the_runs_of_every_company(django_user_model, own):
    every = EngineRun.objects.create(as_of="2026-01-02T12:00Z", actor="scheduler", status="done")
    _, support = member(django_user_model, own, Role.SUPPORT, "support")
    assert support.get(reverse("web:automation_run", args=[every.pk])).status_code == 200


@pytest.mark.browser
def test_the_pages_across_companies_in_the_browser(
    browser_page, django_user_model, staff_user, own, other
):
    """An owner of Own only, with Other's invoice, print job and runs in the book."""
    member(django_user_model, own, Role.OWNER, "owner")
    for ids in (own, other):
        PrintJob.objects.create(invoice=issue(_client(ids), 1000, due_in=-3))
    EngineRun.objects.create(as_of="2026-01-02T12:00Z", actor="scheduler", status="done")
    page = browser_page
    login(page, "owner", "pw pw pw")
    shots = {
        "automation": reverse("web:automation"),
        "search": "/search/?q=Ada",
        "print-queue": reverse("web:print_queue"),
        "invoice-list": reverse("web:invoice_list"),
        "dashboard": reverse("web:company_dashboard", args=[own["company"]]),
    }
    for name, url in shots.items():
        page.goto(url)
        assert "Ada Other" not in page.content(), name
        page.screenshot(path=os.path.join(ARTIFACTS, f"one-company-{name}.png"), full_page=True)
    page.goto(reverse("web:automation"))
    page.get_by_role("button", name="Preview tomorrow").click()
    assert page.locator("main p.muted").first.inner_text().startswith("Own · by staff:owner")
    page.screenshot(path=os.path.join(ARTIFACTS, "one-company-preview.png"), full_page=True)
    # A superuser chooses the company, or every company.
    page.context.clear_cookies()
    login(page)
    page.goto(reverse("web:automation"))
    targets = page.locator("#run-company option").all_inner_texts()
    assert targets == ["Every company", "Other", "Own"]
    page.screenshot(path=os.path.join(ARTIFACTS, "automation-every-company.png"), full_page=True)
