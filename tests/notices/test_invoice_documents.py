"""Complete invoice documents for an EU seller: seller and buyer identity with addresses
and VAT IDs, tax per rate, the reverse-charge note, how to pay (bank transfer reference and
a link to pay in the portal), names in any script. Each is rendered to PNG in
test-artifacts/ to be looked at."""

import io
import os
import shutil
import subprocess
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from groupbill import clock
from groupbill.billing.invoices import NewLine, create_invoice, issue_invoice
from groupbill.billing.taxes import REVERSE_CHARGE_NOTE
from groupbill.notices.pdf import invoice_pdf
from tests.conftest import ACTOR, ARTIFACTS, skip_or_fail


@pytest.fixture
def seller_with_portal(eu_seller, settings):
    settings.PORTAL_BASE_URL = "https://billing.acme.example"
    return eu_seller


def flat(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.replace("\xa0", " ").split())


def issued(client, lines):
    with clock.frozen_at(datetime(2026, 11, 24, 12, tzinfo=UTC)):
        invoice = create_invoice(client, lines, actor=ACTOR, currency="EUR")
    return issue_invoice(invoice, issued_on=date(2026, 11, 24), due_on=date(2026, 12, 8),
                         actor=ACTOR)  # fmt: skip


def picture(data: bytes, name: str) -> None:
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"{name}.pdf")
    with open(path, "wb") as f:
        f.write(data)
    if shutil.which("pdftoppm") is None:
        skip_or_fail("pdftoppm is not installed (apt-get install poppler-utils)")
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", path,
                    os.path.join(ARTIFACTS, name)], check=True)  # fmt: skip


HOSTING = NewLine("Managed server M", 4900, period_start=date(2026, 12, 1),
                  period_end=date(2027, 1, 1))  # fmt: skip


def test_a_reverse_charge_invoice_names_both_parties_and_says_why(seller_with_portal, make_client):
    client = make_client(company="Client SARL", first_name="Claire", last_name="Dubois",
                         address1="1 rue de la Paix", zip="75002", city="Paris", country="FR",
                         tax_id="FR40303265045")  # fmt: skip
    invoice = issued(client, [HOSTING, NewLine("Setup", 2500)])
    data = invoice_pdf(invoice)
    text = flat(data)
    for expected in [
        "Acme Hosting GmbH", "Hauptstraße 1", "10115 Berlin", "Germany",
        "VAT ID: DE136695976", "Registration: HRB 12345, Amtsgericht Berlin",
        "Client SARL", "Claire Dubois", "1 rue de la Paix", "75002 Paris", "France",
        "VAT ID: FR40303265045",
        "Dec 1, 2026 - Dec 31, 2026",
        "0% reverse charge",
        "VAT 0% (reverse charge) €0.00",
        "Total €74.00",
        REVERSE_CHARGE_NOTE,
        f"Please pay €74.00 by Dec 8, 2026: online at "
        f"https://billing.acme.example/portal/invoices/{invoice.pk}/pay/",
        f'IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX, reference "Invoice '
        f'{invoice.number}"',
    ]:  # fmt: skip
        assert expected in text, expected
    assert text.count("Dec 1, 2026 - Dec 31, 2026") == 1  # the period once per line
    picture(data, "invoice-reverse-charge")


GREEK_COMPANY = "Αθηνά Ψηφιακή Α.Ε."  # noqa: RUF001 (Greek letters, meant)


def test_domestic_vat_and_names_in_cyrillic_and_greek(seller_with_portal, make_client):
    client = make_client(first_name="Анна", last_name="Смирнова", company=GREEK_COMPANY,
                         address1="Λεωφόρος Συγγρού 12", zip="117 42", city="Αθήνα",
                         country="DE")  # fmt: skip
    invoice = issued(client, [HOSTING, NewLine("Резервное копирование", 1000, quantity=2)])
    data = invoice_pdf(invoice)
    text = flat(data)
    for expected in ["Анна Смирнова", GREEK_COMPANY, "Λεωφόρος Συγγρού 12",
                     "117 42 Αθήνα", "Резервное копирование",
                     "VAT 19% €13.11", "Total €82.11"]:  # fmt: skip
        assert expected in text, expected
    assert "reverse charge" not in text
    picture(data, "invoice-cyrillic-greek")


def test_a_credit_note_is_a_document_of_its_own_and_the_invoice_shows_it(
    seller_with_portal, make_client, api
):
    from groupbill.billing import invoices, payments
    from groupbill.billing.models import CreditNote
    from groupbill.notices.pdf import credit_note_pdf

    client = make_client(company="Client SARL", address1="1 rue de la Paix", zip="75002",
                         city="Paris", country="FR", tax_id="FR40303265045")  # fmt: skip
    consumer_line = NewLine("Backup 100 GB", 1000, period_start=date(2026, 12, 1),
                            period_end=date(2027, 1, 1))  # fmt: skip
    invoice = issued(client, [HOSTING, consumer_line])
    payments.pay_invoice(invoice, amount=3000, actor=ACTOR)
    backup = invoice.lines.get(description="Backup 100 GB")
    invoices.remove_lines(invoice, [backup.pk], actor=ACTOR, reason="Backup cancelled")
    note = CreditNote.objects.get()
    data = credit_note_pdf(note)
    text = flat(data)
    for expected in [
        "Credit note 1", f"Credits Invoice {invoice.number}", "Acme Hosting GmbH",
        "VAT ID: DE136695976", "Client SARL", "VAT ID: FR40303265045",
        "Backup 100 GB", "Dec 1, 2026 - Dec 31, 2026", "0% reverse charge",
        "Total credited €10.00", "Reason: Backup cancelled", REVERSE_CHARGE_NOTE,
    ]:  # fmt: skip
        assert expected in text, expected
    assert "Managed server M" not in text  # only the line it credits
    picture(data, "credit-note")

    invoice.refresh_from_db()
    text = flat(invoice_pdf(invoice))
    # Total 59.00, credit note 10.00, paid 30.00: 19.00 still due.
    assert "Total €59.00" in text and "Credit note 1" in text and "-€10.00" in text
    assert "Balance due €19.00" in text
    response = api.get(f"/credit-notes/{note.pk}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="credit-note-1.pdf"'
