"""Credit notes: an issued invoice is never changed in place. What it no longer bills (lines
taken off it, or all its lines when it is voided) is credited in a credit note numbered in
the company's own gap-free credit note sequence, referencing the invoice and the lines it
credits, each line at most once. The invoice keeps its lines and totals; its `credited` is
the sum of its credit notes' totals, and what it still asks is `total - credited -
amount_paid`.

`invoices.remove_lines` and `invoices.void_invoice` are the use cases; `credit` is the step
they share, run inside their transaction under the client's lock. Moving payments beyond
what the invoice still bills back to the client's credit is theirs (`ledger`).
"""

from datetime import date

from django.db.models import QuerySet, Sum

from groupbill.audit.actions import record, wrap
from groupbill.billing import numbering, parties
from groupbill.billing.models import (
    CreditNote,
    CreditNoteLine,
    CreditNoteSequence,
    Invoice,
    InvoiceLine,
)
from groupbill.companies.queries import company_today
from groupbill.errors import Conflict

# What a credit note copies of each line it credits, as the line was billed.
_COPIED = ("description", "period_start", "period_end", "quantity", "unit_amount", "amount",
           "tax1_rate", "tax1_amount", "tax2_rate", "tax2_amount", "total", "tax_rule",
           "tax_reason", "position")  # fmt: skip


def _copy(line: InvoiceLine) -> dict:
    return {f: getattr(line, f) for f in _COPIED}


def uncredited(invoice: Invoice) -> QuerySet[InvoiceLine]:
    """The invoice's lines no credit note credits yet: what it still bills."""
    return invoice.lines.filter(credit_line__isnull=True)


def reserve_numbers(company_id: int, count: int) -> int:
    """Take `count` consecutive credit note numbers (gap-free, inside the caller's
    transaction), returning the first."""
    return numbering.take(CreditNoteSequence, company_id, count)


def credit(
    invoice: Invoice,
    lines: list[InvoiceLine],
    *,
    actor: str,
    reason: str,
    issued_on: date | None = None,
) -> CreditNote:
    """Issue a credit note for `lines` of the issued `invoice` (none of them credited yet),
    dated `issued_on` (by default the company's today), and add its total to the invoice's
    `credited` (saved). Refused (Conflict) if the note would credit less than nothing, or
    leave the invoice billing less than nothing (a discount line left without what it
    discounts): void the invoice instead. The caller holds the transaction and the
    client's lock."""
    total = sum(line.total for line in lines)
    if total < 0 or total > invoice.billed:
        raise Conflict(
            f"Crediting these lines of {invoice} would leave it billing less than nothing, or "
            "credit less than nothing; void the invoice instead."
        )
    seller, buyer = parties.of_invoice(invoice)  # as issued
    note = CreditNote.objects.create(
        company_id=invoice.company_id,
        client_id=invoice.client_id,
        invoice=invoice,
        number=reserve_numbers(invoice.company_id, 1),
        currency=invoice.currency,
        # Never dated before the invoice it credits.
        issued_on=max(issued_on or company_today(invoice.company), invoice.issued_on),
        reason=reason,
        subtotal=sum(line.amount for line in lines),
        tax_total=sum(line.tax1_amount + line.tax2_amount for line in lines),
        total=total,
        seller=seller,
        buyer=buyer,
    )
    CreditNoteLine.objects.bulk_create(
        CreditNoteLine(credit_note=note, invoice_line=line, **_copy(line)) for line in lines
    )
    invoice.credited = invoice.credit_notes.aggregate(s=Sum("total"))["s"] or 0
    invoice.save(update_fields=["credited"])
    record(subject=note, actor=actor, action="credit_note.issue",
           new=wrap({"invoice": invoice.number, "invoice_id": invoice.pk,
                     "lines": [line.pk for line in lines], "total": total,
                     "currency": note.currency, "reason": reason}))  # fmt: skip
    return note
