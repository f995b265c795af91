"""What newcomers found on the existing pages: the client list's company column and group
filter, the automation runs paged, the invoice page naming its client and offering
"Remove" on drafts only, and the print queue paged with a bounded PDF."""

import io

from django.utils import timezone
from pypdf import PdfReader

from groupbill.automation.models import EngineRun
from groupbill.billing import invoices
from groupbill.notices import pdf
from groupbill.notices.models import PrintJob
from tests.web.lists_helpers import rows
from tests.web.test_lists import issue, page


def test_the_client_list_shows_the_company_and_keeps_its_group_filter(staff, make_client, group):
    ada = make_client(group=group, company="Analytical Engines Ltd")
    make_client(first_name="Bob", last_name="Babbage", email="bob@example.com")
    html = page(staff, f"/clients/?group={group.pk}")
    assert [r[1:3] for r in rows(html, "clients")] == [["Ada Lovelace", "Analytical Engines Ltd"]]
    assert f'<option value="{group.pk}" selected>Resellers</option>' in html
    for n in range(55):
        make_client(group=group, first_name=f"C{n}", email=f"c{n}@example.com")
    html = page(staff, f"/clients/?group={group.pk}")
    assert "Page 1 of 2 · 56 clients" in html
    assert f'href="?group={group.pk}&amp;page=2"' in html  # the next page keeps the filter
    assert ada.pk


def test_recent_runs_page(staff, company):
    EngineRun.objects.bulk_create(
        EngineRun(as_of=timezone.now(), actor="engine", status="done") for _ in range(35)
    )
    first = page(staff, "/automation/")
    assert len(rows(first, "runs")) == 30
    assert "Page 1 of 2 · 35 runs" in first
    second = page(staff, "/automation/?page=2")
    assert len(rows(second, "runs")) == 5


def test_the_invoice_page_names_its_client_and_removes_lines_of_drafts_only(staff, make_client):
    ada = make_client(company="Analytical Engines Ltd")
    issued = issue(ada, 1000, due_in=5)
    html = page(staff, f"/invoices/{issued.pk}/")
    assert "Ada Lovelace</a> · Analytical Engines Ltd" in html
    assert ">Remove</button>" not in html
    line = issued.lines.get()
    refused = staff.post(f"/invoices/{issued.pk}/", {"action": "remove_line", "line": line.pk},
                         follow=True).content.decode()  # fmt: skip
    assert "an issued invoice keeps its lines: void it and issue a corrected one" in refused
    assert issued.lines.count() == 1
    draft = invoices.create_invoice(
        ada, invoices.clean_lines([{"description": "Setup", "unit_amount": 500}]), actor="t"
    )
    html = page(staff, f"/invoices/{draft.pk}/")
    assert ">Remove</button>" in html


def test_the_print_queue_pages_and_its_pdf_is_one_page_of_it(staff, make_client, monkeypatch):
    monkeypatch.setattr(pdf, "BATCH_LIMIT", 2)
    ada = make_client()
    queued = [issue(ada, 1000 + n, due_in=5) for n in range(5)]
    for invoice in queued:
        PrintJob.objects.create(invoice=invoice)
    first = page(staff, "/print-queue/")
    assert [r[1] for r in rows(first, "print-queue")] == [str(i) for i in queued[:2]]
    assert [r[2] for r in rows(first, "print-queue")] == ["Ada Lovelace"] * 2
    assert "Page 1 of 3 · 5 invoices" in first
    assert "Download this page as one PDF (2 invoices)" in first
    third = staff.get("/print-queue/pdf/?page=3")
    assert third["Content-Disposition"] == 'attachment; filename="print-queue-3.pdf"'
    assert len(PdfReader(io.BytesIO(third.content)).pages) == 1
    assert len(PdfReader(io.BytesIO(staff.get("/print-queue/pdf/").content)).pages) == 2
