"""File downloads shared by the admin UI and the client portal."""

import csv

from django.http import HttpResponse

from groupbill.billing.models import CreditNote, Invoice
from groupbill.notices import pdf


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def invoice_pdf_response(invoice: Invoice) -> HttpResponse:
    name = f"invoice-{invoice.number}" if invoice.number else f"draft-{invoice.pk}"
    return pdf_response(pdf.invoice_pdf(invoice), f"{name}.pdf")


def credit_note_pdf_response(note: CreditNote) -> HttpResponse:
    return pdf_response(pdf.credit_note_pdf(note), f"credit-note-{note.number}.pdf")


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    """A CSV download (UTF-8, comma-separated, a header row): amounts are written as plain
    decimals beside their currency's column, never with a symbol."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return response


def _cell(value):
    """Text a spreadsheet would run as a formula (=, +, -, @) is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value
