"""File downloads shared by the admin UI and the client portal."""

from django.http import HttpResponse

from groupbill.billing.models import Invoice
from groupbill.notices import pdf


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def invoice_pdf_response(invoice: Invoice) -> HttpResponse:
    name = f"invoice-{invoice.number}" if invoice.number else f"draft-{invoice.pk}"
    return pdf_response(pdf.invoice_pdf(invoice), f"{name}.pdf")
