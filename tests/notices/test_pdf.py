"""PDF invoices and the paper print queue: the text of the rendered PDF (read back with
pypdf), money in zero- and three-decimal currencies, client text outside latin-1, the API
download, and the queue from the engine's paper delivery to "printed and mailed"."""

import io
import os
import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from groupbill.audit.models import AuditEntry
from groupbill.automation.engine import AsOf, execute
from groupbill.automation.tasks import TASKS
from groupbill.billing import invoices, payments
from groupbill.billing.invoices import NewLine
from groupbill.clients.actions import add_contact
from groupbill.companies.models import TaxRule
from groupbill.notices import print_queue
from groupbill.notices.models import PrintJob, PrintStatus
from groupbill.notices.pdf import batch_pdf, invoice_pdf, money_text
from groupbill.settings_catalog.actions import set_client_setting, set_company_settings
from tests.conftest import ACTOR, ARTIFACTS, skip_or_fail

D = date(2026, 11, 24)


def text_of(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    """pypdf may break a line anywhere a cell wraps; compare on single spaces."""
    return " ".join(text.replace("\xa0", " ").split())


def issued(client, lines, *, currency=None):
    inv = invoices.create_invoice(client, lines, actor=ACTOR, currency=currency)
    return invoices.issue_invoice(inv, issued_on=D, due_on=date(2026, 12, 8), actor=ACTOR)


@pytest.fixture
def taxed_invoice(company, make_client):
    company.notify_email = "billing@acme.example"
    company.save()
    TaxRule.objects.create(company=company, level=1, name="GST", country="CA", rate=Decimal("5"))
    TaxRule.objects.create(company=company, level=2, name="PST", country="CA", state="BC",
                           rate=Decimal("7.5"))  # fmt: skip
    client = make_client(first_name="Grace", last_name="Hopper", company="Hopper Labs",
                         address1="1 Harbour Street", city="Vancouver", state="BC",
                         zip="V6B 1A1", country="CA")  # fmt: skip
    add_contact(client, {"role": "billing", "first_name": "Bill", "last_name": "Payer",
                         "email": "ap@hopper.example"}, actor=ACTOR)  # fmt: skip
    inv = issued(client, [
        NewLine("Web Hosting XL", 3100, period_start=date(2026, 12, 1),
                period_end=date(2027, 1, 1)),
        NewLine("Setup fee", 1500),
        NewLine("Extra mailbox", 250, quantity=3),
    ])  # fmt: skip
    payments.pay_invoice(inv, amount=2000, actor=ACTOR)
    inv.refresh_from_db()
    return inv


def test_the_pdf_shows_everything_on_the_invoice(taxed_invoice):
    inv = taxed_invoice
    text = flat(text_of(invoice_pdf(inv)))
    assert f"Invoice {inv.number}" in text
    for expected in [
        "Acme Hosting",
        "billing@acme.example",
        "Grace Hopper",
        "Hopper Labs",
        "1 Harbour Street",
        "V6B 1A1 Vancouver, BC",
        "Attn: Bill Payer",
        "Web Hosting XL",
        "Setup fee",
        "Extra mailbox",
        "Nov 24, 2026",
        "Dec 8, 2026",
        "Dec 1, 2026 - Dec 31, 2026",
        "Open",
    ]:
        assert expected in text, expected
    # 31.00 + 15.00 + 3 x 2.50 = 53.50; GST 5% = 2.68 (rounded per line), PST 7.5%.
    assert (inv.subtotal, inv.amount_paid) == (5350, 2000)
    tax1 = sum(ln.tax1_amount for ln in inv.lines.all())
    tax2 = sum(ln.tax2_amount for ln in inv.lines.all())
    assert tax1 and tax2
    for label, minor in [("Subtotal", inv.subtotal), ("Tax 1 (5%)", tax1),
                         ("Tax 2 (7.5%)", tax2), ("Total", inv.total),
                         ("Balance due", inv.balance_due)]:  # fmt: skip
        assert f"{label} {money_text(minor, 'EUR')}" in text, label
    assert money_text(-2000, "EUR") in text  # the payment applied
    assert "€53.50" in text and "€7.50" in text  # the bundled font has the euro sign
    assert inv.balance_due == inv.total - 2000


@pytest.mark.parametrize(("currency", "unit", "shown"),
                         [("JPY", 1250, "¥1,250"), ("BHD", 12345, "BHD12.345")])  # fmt: skip
def test_zero_and_three_decimal_currencies(make_client, currency, unit, shown):
    client = make_client(default_currency=currency)
    inv = issued(client, [NewLine("Licence", unit)], currency=currency)
    text = flat(text_of(invoice_pdf(inv)))
    assert f"Subtotal {shown}" in text
    assert f"Balance due {shown}" in text


def test_client_text_outside_latin1_never_breaks_rendering(make_client):
    client = make_client(first_name="Zoë Łukasz", last_name="山田 太郎", company="Ωmega “Ltd”",
                         city="Kraków", language="pl")  # fmt: skip
    inv = issued(
        client,
        [
            NewLine(
                "Hébergement \u2013 10 Go → ∞ 🚀",
                1000,
                period_start=date(2026, 12, 1),
                period_end=date(2027, 1, 1),
            )
        ],
    )
    text = flat(text_of(invoice_pdf(inv)))
    # Names in any script print as given (DejaVu, and a fallback font for CJK); only what
    # no bundled font has (the emoji) becomes "?".
    assert "Zoë Łukasz" in text and "山田 太郎" in text
    assert "Ωmega “Ltd”" in text and "Kraków" in text
    assert "Hébergement \u2013 10 Go → ∞ ?" in text
    assert "gru 2026" in text  # Polish dates: "1 gru 2026"


def test_a_draft_renders_as_draft(make_client):
    inv = invoices.create_invoice(make_client(), [NewLine("Hosting", 1000)], actor=ACTOR)
    text = flat(text_of(invoice_pdf(inv)))
    assert "Draft" in text and "Hosting" in text


def test_api_downloads_the_pdf(api, taxed_invoice, make_client):
    inv = taxed_invoice
    response = api.get(f"/invoices/{inv.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{inv.number}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert f"Invoice {inv.number}" in text_of(response.content)

    draft = invoices.create_invoice(make_client(), [NewLine("Hosting", 1000)], actor=ACTOR)
    response = api.get(f"/invoices/{draft.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="draft-{draft.pk}.pdf"'
    assert api.get("/invoices/999999/pdf").status_code == 404


def test_the_print_queue_from_paper_delivery_to_printed(company, make_client):
    set_company_settings(company, {"delivery_methods": ["email", "paper"]}, actor=ACTOR)
    on_paper = [make_client(first_name=f"Paper{i}") for i in range(3)]
    by_email = make_client(first_name="Mail")
    for client in on_paper:
        set_client_setting(client, "invoice_method", "paper", actor=ACTOR)
    paper_invoices = [issued(c, [NewLine(f"Service of {c.pk}", 1000)]) for c in on_paper]
    issued(by_email, [NewLine("Emailed", 1000)])

    execute(AsOf(day=D), companies=[company], tasks=TASKS)

    jobs = list(print_queue.queued())
    assert [j.invoice_id for j in jobs] == [i.pk for i in paper_invoices]
    text = flat(text_of(batch_pdf([j.invoice for j in jobs])))
    for inv in paper_invoices:
        assert f"Invoice {inv.number}" in text and f"Service of {inv.client_id}" in text
    assert "Emailed" not in text
    assert len(PdfReader(io.BytesIO(batch_pdf([j.invoice for j in jobs]))).pages) == 3

    marked = print_queue.mark_printed(jobs[:2], actor="staff:ann")
    assert len(marked) == 2
    assert [j.invoice_id for j in print_queue.queued()] == [paper_invoices[2].pk]
    again = print_queue.mark_printed([j.pk for j in jobs], actor="staff:bob")  # idempotent
    assert [j.invoice_id for j in again] == [paper_invoices[2].pk]
    assert not print_queue.queued().exists()
    first = PrintJob.objects.get(pk=jobs[0].pk)
    assert (first.status, first.printed_by) == (PrintStatus.PRINTED, "staff:ann")
    assert first.printed_at is not None
    audited = AuditEntry.objects.filter(action="invoice.printed").order_by("pk")
    assert [(a.object_id, a.actor) for a in audited] == [
        (paper_invoices[0].pk, "staff:ann"),
        (paper_invoices[1].pk, "staff:ann"),
        (paper_invoices[2].pk, "staff:bob"),
    ]
    assert print_queue.mark_printed([j.pk for j in jobs], actor="staff:bob") == []
    assert AuditEntry.objects.filter(action="invoice.printed").count() == 3


def test_render_one_invoice_to_png(taxed_invoice):
    """Writes test-artifacts/invoice.pdf and, with poppler's pdftoppm, invoice-1.png to
    look at."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, "invoice.pdf")
    with open(path, "wb") as f:
        f.write(invoice_pdf(taxed_invoice))
    if shutil.which("pdftoppm") is None:
        skip_or_fail("pdftoppm is not installed (apt-get install poppler-utils)")
    subprocess.run(["pdftoppm", "-png", "-r", "80", path, os.path.join(ARTIFACTS, "invoice")],
                   check=True)  # fmt: skip


def test_admin_pages_download_pdfs_and_empty_the_print_queue(staff, company, make_client):
    set_company_settings(company, {"delivery_methods": ["email", "paper"]}, actor=ACTOR)
    clients = [make_client(first_name=f"Paper{i}") for i in range(2)]
    for c in clients:
        set_client_setting(c, "invoice_method", "paper", actor=ACTOR)
    paper = [issued(c, [NewLine(f"Service of {c.pk}", 1000)]) for c in clients]
    execute(AsOf(day=D), companies=[company], tasks=TASKS)

    page = staff.get(f"/invoices/{paper[0].pk}/").content.decode()
    assert f'href="/invoices/{paper[0].pk}/pdf/"' in page and "Download PDF" in page
    response = staff.get(f"/invoices/{paper[0].pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    assert f"invoice-{paper[0].number}.pdf" in response["Content-Disposition"]

    home = staff.get("/print-queue/").content.decode()
    assert 'href="/print-queue/"' in home  # the nav link
    for inv in paper:
        assert f"Invoice {inv.number}" in home and "€10.00" in home
    text = flat(text_of(staff.get("/print-queue/pdf/").content))
    assert all(f"Invoice {inv.number}" in text for inv in paper)

    staff.post("/print-queue/", {"job": [paper[0].print_job.pk]})
    after = staff.get("/print-queue/").content.decode()
    assert f"Invoice {paper[0].number}<" not in after and f"Invoice {paper[1].number}" in after
    staff.post("/print-queue/", {"job": [paper[1].print_job.pk]})
    assert 'id="empty"' in staff.get("/print-queue/").content.decode()
    audited = AuditEntry.objects.filter(action="invoice.printed", actor__startswith="staff:")
    assert audited.count() == 2
