"""Invoice use cases: drafts, lines with their taxes, issuing with a gap-free number,
taking lines off and voiding (an issued invoice through a credit note: `credit_notes`).
Money moves through `ledger`; every change is audited."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max, Sum

from groupbill import bounds, clock
from groupbill import validation as v
from groupbill.audit.actions import record, wrap
from groupbill.billing import (
    credit_notes,
    ledger,
    lock_objects,
    numbering,
    parties,
    signals,
    taxes,
)
from groupbill.billing.models import (
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
    LineKind,
)
from groupbill.clients.models import Client
from groupbill.companies.queries import company_today
from groupbill.currencies import clean_currency
from groupbill.errors import Conflict, FieldError, ValidationFailed

MAX_AMOUNT = 10**15  # minor units; keeps sums far inside 64 bits
MAX_QUANTITY = 1_000_000  # units on one line


@dataclass(frozen=True)
class NewLine:
    description: str
    unit_amount: int
    quantity: int = 1
    kind: str = LineKind.CUSTOM
    service_id: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    taxable: bool = True
    extra: dict = field(default_factory=dict)


def _amount(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > MAX_AMOUNT:
        raise ValueError("must be a whole number of minor units (e.g. 1250 for 12.50)")
    return value


def _quantity(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_QUANTITY:
        raise ValueError("must be a whole number from 1 to 1000000")
    return value


LINE_CLEANERS = {
    "description": lambda x: v.text(x, max_length=500, required=True),
    "unit_amount": _amount,
    "quantity": _quantity,
    "taxable": v.boolean,
}


def clean_lines(items: list[dict[str, Any]], prefix: str = "lines") -> list[NewLine]:
    """Lines as sent by people (API, UI) to NewLines; errors name `lines.N.field`."""
    errors: list[FieldError] = []
    out = []
    for i, item in enumerate(items):
        cleaned, item_errors = v.collect(item, LINE_CLEANERS)
        for name in ("description", "unit_amount"):
            if name not in item:
                item_errors.append(FieldError(name, "is required"))
        amount = 0 if item_errors else cleaned["unit_amount"] * cleaned.get("quantity", 1)
        if abs(amount) > MAX_AMOUNT:  # each is bounded, their product must be too
            item_errors.append(
                FieldError("unit_amount", f"times the quantity must be at most {MAX_AMOUNT}")
            )
        errors += [FieldError(f"{prefix}.{i}.{e.field}", e.message) for e in item_errors]
        if not item_errors:
            out.append(NewLine(**cleaned))
    v.raise_if(errors)
    return out


def _text(value: Any, field: str, max_length: int) -> str:
    try:
        return v.text(value, max_length=max_length)
    except ValueError as exc:
        raise ValidationFailed.one(field, str(exc)) from None


def _editable(invoice: Invoice) -> None:
    if invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.OPEN):
        raise Conflict(f"{invoice} is {invoice.status}; its lines can no longer change.")


def line_values(
    line: NewLine, decision: taxes.TaxDecision, mode: str, position: int
) -> dict[str, Any]:
    """An invoice line's fields with its taxes (rounded per line) and the decision behind
    them, as {attname: value}: for `build_line`, and for bulk issuing without instances."""
    amount = line.quantity * line.unit_amount
    applied = decision.rates if line.taxable else []
    line_taxes = taxes.line_taxes(amount, applied, mode)
    exclusive = sum(t for t, r in zip(line_taxes, applied, strict=True) if not r.inclusive)
    values = {
        "service_id": line.service_id,
        "kind": line.kind,
        "description": line.description,
        "period_start": line.period_start,
        "period_end": line.period_end,
        "quantity": line.quantity,
        "unit_amount": line.unit_amount,
        "amount": amount,
        "taxable": line.taxable,
        "total": amount + exclusive,
        "position": position,
        "tax_rule": decision.rule if line.taxable else "",
        "tax_reason": decision.reason if line.taxable else "",
    }
    for level_rate, tax in zip(applied, line_taxes, strict=True):
        values[f"tax{level_rate.level}_rate"] = level_rate.rate
        values[f"tax{level_rate.level}_amount"] = tax
    return values


def build_line(
    invoice: Invoice, line: NewLine, decision: taxes.TaxDecision, mode: str, position: int
) -> InvoiceLine:
    """An invoice line with its taxes and the decision behind them, not saved."""
    return InvoiceLine(invoice=invoice, **line_values(line, decision, mode, position))


def recalculate(invoice: Invoice) -> Invoice:
    """Totals are sums of the stored (already rounded) lines."""
    sums = invoice.lines.aggregate(
        subtotal=Sum("amount"), tax1=Sum("tax1_amount"), tax2=Sum("tax2_amount"), total=Sum("total")
    )
    invoice.subtotal = sums["subtotal"] or 0
    invoice.tax_total = (sums["tax1"] or 0) + (sums["tax2"] or 0)
    invoice.total = sums["total"] or 0
    invoice.save(update_fields=["subtotal", "tax_total", "total"])
    return invoice


def _insert_lines(invoice: Invoice, lines: list[NewLine]) -> None:
    if invoice.lines.count() + len(lines) > bounds.MAX_LINES:
        raise ValidationFailed.one("lines", f"an invoice has at most {bounds.MAX_LINES} lines")
    company = invoice.company
    decision = taxes.decision_for(invoice.client, company_today(company))
    start = (invoice.lines.aggregate(last=Max("position"))["last"] or 0) + 1
    InvoiceLine.objects.bulk_create(
        build_line(invoice, line, decision, company.rounding_mode, start + i)
        for i, line in enumerate(lines)
    )


def create_invoice(
    client: Client,
    lines: list[NewLine],
    *,
    actor: str,
    currency: str | None = None,
    notes: str = "",
) -> Invoice:
    """A draft invoice (no number yet) with its lines taxed for the client."""
    try:
        currency = clean_currency(currency or client.default_currency)
    except ValueError as exc:
        raise ValidationFailed.one("currency", str(exc)) from None
    notes = _text(notes, "notes", 5000)
    with transaction.atomic():
        invoice = Invoice.objects.create(
            company_id=client.company_id, client=client, currency=currency, notes=notes
        )
        _insert_lines(invoice, lines)
        recalculate(invoice)
        record(
            subject=invoice,
            actor=actor,
            action="invoice.create",
            new=wrap({"total": invoice.total, "currency": invoice.currency}),
        )
        signals.invoice_created.send(Invoice, invoice=invoice)
    return invoice


def add_lines(invoice: Invoice, lines: list[NewLine], *, actor: str) -> Invoice:
    with transaction.atomic():
        lock_objects.client(invoice.client_id)
        invoice.refresh_from_db()
        _editable(invoice)
        old = invoice.total
        _insert_lines(invoice, lines)
        recalculate(invoice)
        ledger.settle(invoice)
        record(subject=invoice, actor=actor, action="invoice.lines_add",
               old=wrap({"total": old, "currency": invoice.currency}),
               new=wrap({"total": invoice.total, "currency": invoice.currency}))  # fmt: skip
    return invoice


def remove_lines(
    invoice: Invoice,
    line_ids: list[int],
    *,
    actor: str,
    reason: str = "",
    today: date | None = None,
) -> Invoice:
    """Take lines off an invoice. A draft's are deleted. An issued (open or paid) invoice
    keeps them: a credit note (dated `today`, by default the company's) credits them, and
    payments beyond what the invoice still bills go back to the client as credit. An
    invoice left with nothing to bill (no line, or every line credited) is voided."""
    reason = _text(reason, "reason", 500)
    with transaction.atomic():
        lock_objects.client(invoice.client_id)
        invoice.refresh_from_db()
        if invoice.status == InvoiceStatus.DRAFT:
            return _remove_draft_lines(invoice, line_ids, actor, reason)
        if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
            raise Conflict(f"{invoice} is {invoice.status}; its lines can no longer change.")
        lines = list(invoice.lines.filter(pk__in=line_ids).select_related("credit_line"))
        done = [line for line in lines if hasattr(line, "credit_line")]
        if done:
            raise Conflict(f"{invoice}'s line {done[0].pk} is credited already.")
        if not lines:
            return invoice
        if not credit_notes.uncredited(invoice).exclude(pk__in=[ln.pk for ln in lines]).exists():
            return _void(invoice, actor, reason or "all its lines were removed", today)
        old = invoice.billed
        note = credit_notes.credit(invoice, lines, actor=actor, reason=reason, issued_on=today)
        excess = invoice.amount_paid - invoice.billed
        if excess > 0:
            ledger.remove_applications(invoice, excess)
        ledger.settle(invoice)
        record(subject=invoice, actor=actor, action="invoice.lines_remove",
               old=wrap({"billed": old}),
               new=wrap({"billed": invoice.billed, "credit_note": note.number,
                         "reason": reason}))  # fmt: skip
    return invoice


def _remove_draft_lines(invoice: Invoice, line_ids: list[int], actor: str, reason: str):
    deleted, _ = invoice.lines.filter(pk__in=line_ids).delete()
    if not deleted:
        return invoice
    old = invoice.total
    recalculate(invoice)
    if not invoice.lines.exists():
        return _void(invoice, actor, reason or "all its lines were removed")
    record(subject=invoice, actor=actor, action="invoice.lines_remove",
           old=wrap({"total": old, "currency": invoice.currency}),
           new=wrap({"total": invoice.total, "currency": invoice.currency,
                     "reason": reason}))  # fmt: skip
    return invoice


def reserve_numbers(company_id: int, count: int) -> int:
    """Take `count` consecutive invoice numbers, returning the first, under the sequence's
    row lock inside the caller's transaction: a rollback gives them back (no gaps)."""
    return numbering.take(InvoiceSequence, company_id, count)


def issue_invoice(
    invoice: Invoice, *, issued_on: date, due_on: date | None = None, actor: str
) -> Invoice:
    """Give a draft its number (gap-free: taken inside this transaction) and open it.
    A due date before the issue date is allowed: a caught-up renewal period is due on its
    start, which may have passed."""
    due_on = due_on or issued_on
    bounds.check_date(issued_on, "issued_on")
    bounds.check_date(due_on, "due_on")
    with transaction.atomic():
        lock_objects.client(invoice.client_id)
        invoice.refresh_from_db()
        if invoice.status != InvoiceStatus.DRAFT:
            raise Conflict(f"{invoice} is already {invoice.status}.")
        if not invoice.lines.exists():
            raise ValidationFailed.one("lines", "an invoice needs at least one line")
        if invoice.total < 0:
            raise ValidationFailed.one("lines", "the total must not be negative")
        invoice.number = reserve_numbers(invoice.company_id, 1)
        invoice.status = InvoiceStatus.OPEN
        invoice.issued_on = issued_on
        invoice.due_on = due_on
        invoice.seller = parties.seller_of(invoice.company)
        invoice.buyer = parties.buyers_of([invoice.client_id])[invoice.client_id]
        invoice.save(update_fields=["number", "status", "issued_on", "due_on", "seller", "buyer"])
        ledger.settle(invoice)
        record(subject=invoice, actor=actor, action="invoice.issue",
               new=wrap({"number": invoice.number, "total": invoice.total,
                         "currency": invoice.currency, "due_on": due_on.isoformat()}))  # fmt: skip
        signals.invoices_issued.send(
            Invoice, company_id=invoice.company_id, invoice_ids=[invoice.pk], created=False
        )
    return invoice


def _void(invoice: Invoice, actor: str, reason: str, today: date | None = None) -> Invoice:
    """Void the invoice: an issued one's lines not credited yet are credited in a credit
    note (a draft has no number and gets none); whatever was paid on it goes back to the
    client as credit."""
    note = None
    if invoice.status != InvoiceStatus.DRAFT:
        lines = list(credit_notes.uncredited(invoice))
        if lines:
            note = credit_notes.credit(invoice, lines, actor=actor, reason=reason,
                                       issued_on=today)  # fmt: skip
    returned = ledger.remove_applications(invoice)
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = clock.now()
    invoice.paid_at = None
    invoice.save(update_fields=["status", "voided_at", "paid_at"])
    ledger.settle(invoice)
    record(subject=invoice, actor=actor, action="invoice.void",
           new=wrap({"returned_as_credit": returned, "reason": reason,
                     "credit_note": note.number if note else None}))  # fmt: skip
    signals.invoice_voided.send(Invoice, invoice=invoice, reason=reason)
    return invoice


def void_invoice(
    invoice: Invoice, *, actor: str, reason: str = "", today: date | None = None
) -> Invoice:
    """Void an invoice: an issued one is credited in full (what no credit note credits yet
    gets one, dated `today`, by default the company's), a draft just voided; what was paid
    on it goes back to the client as loose credit."""
    reason = _text(reason, "reason", 500)
    with transaction.atomic():
        lock_objects.client(invoice.client_id)
        invoice.refresh_from_db()
        if invoice.status == InvoiceStatus.VOID:
            raise Conflict(f"{invoice} is already void.")
        return _void(invoice, actor, reason, today)


def delete_draft(invoice: Invoice, *, actor: str) -> None:
    with transaction.atomic():
        invoice.refresh_from_db()
        if invoice.status != InvoiceStatus.DRAFT:
            raise Conflict(f"{invoice} has been issued; void it instead.")
        record(subject=invoice, actor=actor, action="invoice.delete_draft")
        invoice.lines.all().delete()
        invoice.delete()
