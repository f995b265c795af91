"""Invoices: drafts with their lines, issuing (a gap-free number), voiding, deleting drafts,
and payments on them. An issued invoice keeps its lines and totals: taking lines off it or
voiding it issues a credit note (`/credit-notes`), and `credited` sums them.

Amounts are integers in the invoice currency's minor units (1250 EUR is 12.50); every
amount is answered beside its `currency`. A line's `lines.N.field` names it in errors.
`client_id` names the client the invoice is for: unknown, it is a 404 like an id in the
path; `payment_account_id` is a 422 on its field.
"""

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Body, Router, Schema, Status
from pydantic import StrictBool, StrictStr

from groupbill.api.auth import actor, key_company, principal
from groupbill.api.common import BodyId, Id, PageQuery, StrictBody, paginate, referenced
from groupbill.api.fields import (
    LINES,
    CurrencyCode,
    Day,
    LineAmount,
    Quantity,
    WholeNumber,
    required_text,
    text,
)
from groupbill.api.transactions import TransactionOut, transaction_out
from groupbill.billing import charges, invoices, payments
from groupbill.billing.models import Invoice, InvoiceStatus
from groupbill.billing.queries import (
    get_invoice,
    get_invoice_line,
    get_payment_account,
    get_transaction,
)
from groupbill.billing.queries import invoices as all_invoices
from groupbill.clients.queries import get_client
from groupbill.companies.queries import company_today
from groupbill.errors import FieldError, ValidationFailed
from groupbill.listing import filtered
from groupbill.notices.pdf import invoice_pdf

router = Router(tags=["invoices"])

StatusValue = Literal[tuple(InvoiceStatus.values)]  # type: ignore[valid-type]


class LineIn(StrictBody):
    description: required_text(500)
    unit_amount: LineAmount
    quantity: Quantity = 1
    taxable: StrictBool = True


Lines = Annotated[list[LineIn], LINES]


class InvoiceIn(StrictBody):
    client_id: BodyId
    currency: CurrencyCode | None = None  # the client's default currency when left out
    notes: text(5000) = ""
    lines: Lines


class LinesIn(StrictBody):
    lines: Lines


class IssueIn(StrictBody):
    issued_on: Day | None = None  # the company's today when left out
    due_on: Day | None = None  # the issue date when left out


class VoidIn(StrictBody):
    reason: StrictStr = ""


class PaymentIn(StrictBody):
    """Either money received by hand (`amount`, with `method` and `reference`), applied to
    the invoice (any excess stays as credit), or a charge of the client's saved payment
    account (`payment_account_id` and `idempotency_key`) for the balance due, or for
    `amount` of it.

    The key is yours (each API key has its own keys) and bound to the request: sent again
    with the same request it answers the first charge and charges nothing; with another
    invoice, account or amount it is refused (422 on `idempotency_key`). While a charge of
    the invoice waits for the gateway's answer, another is refused (409)."""

    amount: WholeNumber | None = None
    method: StrictStr | None = None
    reference: StrictStr | None = None
    payment_account_id: BodyId | None = None
    idempotency_key: StrictStr | None = None


class UnapplyIn(StrictBody):
    amount: WholeNumber | None = None  # everything applied when left out


class LineOut(Schema):
    id: int
    service_id: int | None
    kind: str
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


class AppliedOut(Schema):
    transaction_id: int
    amount: int


class CreditNoteRef(Schema):
    id: int
    number: int
    total: int


class InvoiceOut(Schema):
    id: int
    company_id: int
    client_id: int
    number: int | None
    status: str
    currency: str
    issued_on: date | None
    due_on: date | None
    subtotal: int
    tax_total: int
    total: int
    credited: int  # what its credit notes credit: the invoice still bills total - credited
    amount_paid: int
    balance_due: int  # total - credited - amount_paid
    delivery_method: str
    notes: str
    lines: list[LineOut]
    payments: list[AppliedOut]
    credit_notes: list[CreditNoteRef]  # by number; GET /credit-notes/{id} for their lines


class InvoiceList(Schema):
    items: list[InvoiceOut]
    count: int


_FIELDS = ("id", "company_id", "client_id", "number", "status", "currency", "issued_on",
           "due_on", "subtotal", "tax_total", "total", "credited", "amount_paid", "balance_due",
           "delivery_method", "notes")  # fmt: skip
_LINE_FIELDS = ("id", "service_id", "kind", "description", "period_start", "period_end",
                "quantity", "unit_amount", "amount", "tax1_amount", "tax2_amount",
                "total")  # fmt: skip


def invoice_out(invoice: Invoice) -> dict[str, Any]:
    """The invoice with its lines, the payments applied to it and its credit notes. Tax
    rates are percent as decimal text ("19.0000"), never floats. An issued invoice keeps
    every line, credited or not."""
    return {
        **{f: getattr(invoice, f) for f in _FIELDS},
        "lines": [
            {
                **{f: getattr(line, f) for f in _LINE_FIELDS},
                "tax1_rate": str(line.tax1_rate),
                "tax2_rate": str(line.tax2_rate),
            }
            for line in invoice.lines.all()
        ],
        "payments": [
            {"transaction_id": a.transaction_id, "amount": a.amount}
            for a in invoice.applications.all()
        ],
        "credit_notes": [
            {"id": n.pk, "number": n.number, "total": n.total} for n in invoice.credit_notes.all()
        ],
    }


def _lines(lines: list[LineIn]) -> list[invoices.NewLine]:
    return invoices.clean_lines([line.model_dump(exclude_unset=True) for line in lines])


@router.get("/invoices", response=InvoiceList)
def list_invoices(
    request: HttpRequest,
    page: PageQuery,
    client_id: Id | None = None,
    status: StatusValue | None = None,
):
    queryset = filtered(all_invoices(), (("client_id", client_id), ("status", status)))
    if key_company(request) is not None:
        queryset = queryset.filter(company_id=key_company(request))
    return paginate(queryset, page, invoice_out)


@router.post("/invoices", response={201: InvoiceOut})
def create_invoice(request: HttpRequest, body: InvoiceIn):
    """A draft (no number yet) with its lines taxed for the client; issue it to bill it."""
    client = get_client(body.client_id)
    invoice = invoices.create_invoice(client, _lines(body.lines), actor=actor(request),
                                      currency=body.currency, notes=body.notes)  # fmt: skip
    return Status(201, invoice_out(get_invoice(invoice.pk)))


@router.get("/invoices/{invoice_id}", response=InvoiceOut)
def read_invoice(request: HttpRequest, invoice_id: Id):
    return invoice_out(get_invoice(invoice_id))


_PDF = {200: {"description": "The invoice as a PDF file",  # int: it replaces the default
                "content": {"application/pdf": {"schema": {"type": "string",
                                                           "format": "binary"}}}}}  # fmt: skip


@router.get("/invoices/{invoice_id}/pdf", openapi_extra={"responses": _PDF})
def invoice_pdf_file(request: HttpRequest, invoice_id: Id):
    """The printable invoice (drafts too: named draft-<id>.pdf)."""
    invoice = get_invoice(invoice_id)
    name = f"invoice-{invoice.number}" if invoice.number else f"draft-{invoice.pk}"
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


@router.delete("/invoices/{invoice_id}", response={204: None})
def delete_invoice(request: HttpRequest, invoice_id: Id):
    """Drafts only: an issued invoice keeps its number and is voided instead (409)."""
    invoices.delete_draft(get_invoice(invoice_id), actor=actor(request))
    return Status(204, None)


@router.post("/invoices/{invoice_id}/lines", response=InvoiceOut)
def add_lines(request: HttpRequest, invoice_id: Id, body: LinesIn):
    """Add lines to a draft or open invoice; answers the invoice with its new totals."""
    invoice = get_invoice(invoice_id)
    invoices.add_lines(invoice, _lines(body.lines), actor=actor(request))
    return invoice_out(get_invoice(invoice_id))


@router.delete("/invoices/{invoice_id}/lines/{line_id}", response={204: None})
def remove_line(request: HttpRequest, invoice_id: Id, line_id: Id):
    """Take a line off an invoice. A draft's is deleted; an issued (open or paid) invoice
    keeps it and a credit note credits it (409 if one did already). What was paid beyond
    what the invoice still bills goes back as credit; an invoice left with nothing to bill
    is voided."""
    invoice = get_invoice(invoice_id)
    line = get_invoice_line(invoice, line_id)
    invoices.remove_lines(invoice, [line.pk], actor=actor(request))
    return Status(204, None)


@router.post("/invoices/{invoice_id}/issue", response=InvoiceOut)
def issue_invoice(
    request: HttpRequest, invoice_id: Id, body: Annotated[IssueIn | None, Body()] = None
):
    """Give a draft its number and open it. The body may be left out."""
    body = body or IssueIn()
    invoice = get_invoice(invoice_id)
    invoices.issue_invoice(invoice, issued_on=body.issued_on or company_today(invoice.company),
                           due_on=body.due_on, actor=actor(request))  # fmt: skip
    return invoice_out(get_invoice(invoice_id))


@router.post("/invoices/{invoice_id}/void", response=InvoiceOut)
def void_invoice(
    request: HttpRequest, invoice_id: Id, body: Annotated[VoidIn | None, Body()] = None
):
    """Void the invoice: an issued one's lines not credited yet are credited in a credit
    note; what was paid on it goes back to the client as credit."""
    body = body or VoidIn()
    invoices.void_invoice(get_invoice(invoice_id), actor=actor(request), reason=body.reason)
    return invoice_out(get_invoice(invoice_id))


def _by_hand_or_account(body: PaymentIn) -> bool:
    """True for a charge of a saved account; refuses a body that mixes the two ways."""
    sent = body.model_fields_set
    account_fields = ("payment_account_id", "idempotency_key")
    if not sent & set(account_fields):
        if body.amount is None:
            raise ValidationFailed.one("amount", "is required")
        return False
    errors = [FieldError(f, "is required") for f in account_fields if getattr(body, f) is None]
    errors += [
        FieldError(f, "is not used when charging a payment account")
        for f in ("method", "reference")
        if f in sent
    ]
    if errors:
        raise ValidationFailed(errors)
    return True


@router.post("/invoices/{invoice_id}/payments", response={201: TransactionOut})
def pay_invoice(request: HttpRequest, invoice_id: Id, body: PaymentIn):
    """Record a payment on the invoice, or charge a saved account for its balance due. A
    charge answers its transaction whatever the gateway said: see `status` (approved,
    declined, error)."""
    invoice = get_invoice(invoice_id)
    if _by_hand_or_account(body):
        account = referenced(get_payment_account, "payment_account_id", body.payment_account_id)
        txn = charges.pay_with_account(invoice, account, actor=actor(request),
                                       principal=principal(request), key=body.idempotency_key,
                                       amount=body.amount)  # fmt: skip
    else:
        txn = payments.pay_invoice(invoice, amount=body.amount, actor=actor(request),
                                   method=body.method or "manual",
                                   reference=body.reference or "")  # fmt: skip
    return Status(201, transaction_out(get_transaction(txn.pk)))


@router.post("/invoices/{invoice_id}/unapply", response=InvoiceOut)
def unapply(request: HttpRequest, invoice_id: Id, body: Annotated[UnapplyIn | None, Body()] = None):
    """Take payments back off the invoice (all, or `amount`, newest first); the money
    becomes the client's loose credit again."""
    body = body or UnapplyIn()
    payments.unapply(get_invoice(invoice_id), actor=actor(request), amount=body.amount)
    return invoice_out(get_invoice(invoice_id))
