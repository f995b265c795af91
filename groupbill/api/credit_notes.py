"""Credit notes: what an issued invoice no longer bills. Staff never write one directly:
taking a line off an issued invoice (`DELETE /invoices/{id}/lines/{line_id}`), voiding it,
cancelling a service whose open invoice the group's settings void, or the engine cancelling
an unpaid queued change issues one, numbered in the company's own credit note sequence.

Each credit note names the invoice it credits and copies the lines it credits as they were
billed (`invoice_line_id` is the invoice's line; a line is credited at most once). Amounts
are integers in the `currency`'s minor units; `total` (what is credited) is never negative.
"""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from groupbill.api.auth import key_company
from groupbill.api.common import Id, PageQuery, paginate
from groupbill.billing.models import CreditNote
from groupbill.billing.queries import credit_notes, get_credit_note
from groupbill.listing import filtered
from groupbill.ui.downloads import credit_note_pdf_response

router = Router(tags=["credit notes"])


class CreditNoteLineOut(Schema):
    id: int
    invoice_line_id: int
    description: str
    period_start: date | None
    period_end: date | None
    quantity: int
    unit_amount: int
    amount: int
    tax1_rate: str
    tax1_amount: int
    tax2_rate: str
    tax2_amount: int
    total: int


class CreditNoteOut(Schema):
    id: int
    company_id: int
    client_id: int
    invoice_id: int
    invoice_number: int | None
    number: int
    currency: str
    issued_on: date
    reason: str
    subtotal: int
    tax_total: int
    total: int
    created_at: datetime
    lines: list[CreditNoteLineOut]


class CreditNoteList(Schema):
    items: list[CreditNoteOut]
    count: int


_FIELDS = ("id", "company_id", "client_id", "invoice_id", "number", "currency", "issued_on",
           "reason", "subtotal", "tax_total", "total", "created_at")  # fmt: skip
_LINE_FIELDS = ("id", "invoice_line_id", "description", "period_start", "period_end",
                "quantity", "unit_amount", "amount", "tax1_amount", "tax2_amount",
                "total")  # fmt: skip


def credit_note_out(note: CreditNote) -> dict[str, Any]:
    """The credit note with its lines. Tax rates are percent as decimal text ("19.0000")."""
    return {
        **{f: getattr(note, f) for f in _FIELDS},
        "invoice_number": note.invoice.number,
        "lines": [
            {
                **{f: getattr(line, f) for f in _LINE_FIELDS},
                "tax1_rate": str(line.tax1_rate),
                "tax2_rate": str(line.tax2_rate),
            }
            for line in note.lines.all()
        ],
    }


@router.get("/credit-notes", response=CreditNoteList)
def list_credit_notes(
    request: HttpRequest,
    page: PageQuery,
    client_id: Id | None = None,
    invoice_id: Id | None = None,
):
    queryset = filtered(credit_notes(), (("client_id", client_id), ("invoice_id", invoice_id)))
    if key_company(request) is not None:
        queryset = queryset.filter(company_id=key_company(request))
    return paginate(queryset, page, credit_note_out)


@router.get("/credit-notes/{credit_note_id}", response=CreditNoteOut)
def read_credit_note(request: HttpRequest, credit_note_id: Id):
    return credit_note_out(get_credit_note(credit_note_id))


_PDF = {200: {"description": "The credit note as a PDF file",
              "content": {"application/pdf": {"schema": {"type": "string",
                                                         "format": "binary"}}}}}  # fmt: skip


@router.get("/credit-notes/{credit_note_id}/pdf", openapi_extra={"responses": _PDF})
def credit_note_pdf_file(request: HttpRequest, credit_note_id: Id):
    """The printable credit note (credit-note-<number>.pdf)."""
    return credit_note_pdf_response(get_credit_note(credit_note_id))
