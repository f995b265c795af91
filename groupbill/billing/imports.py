"""Invoices and transactions brought over from another billing system, as they stand there:
issued invoices keep their numbers and dates, transactions their amounts and status, and
what was applied to which invoice is written as applications. Nothing is sent, charged or
signalled.

The ledger's invariants hold as for every other writer: an invoice's `amount_paid` is the
sum of its applications (recomputed, `settle_imported`), a transaction never has more
applied than its amount, only approved money is applied, and only to open or paid invoices
of the same client and currency. An imported status that the applications contradict (paid
without the money, open with all of it) is refused, not bent. After an import the company's
invoice sequence continues after the highest number it holds (`continue_numbering`).

Callers (the importers) hold the transaction and the client locks they need."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Max, Sum

from groupbill import money
from groupbill.audit.actions import record, wrap
from groupbill.billing import parties
from groupbill.billing.invoices import MAX_AMOUNT, MAX_QUANTITY
from groupbill.billing.models import (
    Application,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
    LineKind,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from groupbill.clients.models import Client
from groupbill.errors import Conflict, ValidationFailed


@dataclass(frozen=True)
class ImportedLine:
    description: str
    unit_amount: int
    quantity: int = 1
    service_id: int | None = None


@dataclass(frozen=True)
class ImportedInvoice:
    """`status`: draft, open, paid or void; `number`: None for a draft. `tax_total` is
    spread over the lines by their amounts (the source's rates are not known)."""

    status: str
    currency: str
    number: int | None
    issued_on: date | None
    due_on: date | None
    lines: tuple[ImportedLine, ...]
    tax_total: int = 0
    paid_at: datetime | None = None
    voided_at: datetime | None = None


@dataclass(frozen=True)
class ImportedTransaction:
    kind: str  # payment | credit
    status: str
    currency: str
    amount: int
    method: str
    reference: str = ""
    created_at: datetime | None = None
    note: str = ""


def _check_invoice(client: Client, data: ImportedInvoice, existing: Invoice | None) -> None:
    if data.status not in InvoiceStatus.values:
        raise ValidationFailed.one("status", f"must be one of {', '.join(InvoiceStatus.values)}")
    if not data.lines:
        raise ValidationFailed.one("lines", "an invoice needs at least one line")
    for line in data.lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise ValidationFailed.one("qty", f"must be a whole number from 1 to {MAX_QUANTITY}")
        if abs(line.unit_amount * line.quantity) > MAX_AMOUNT:
            raise ValidationFailed.one("amount", f"times the quantity exceeds {MAX_AMOUNT}")
    if data.status == InvoiceStatus.DRAFT:
        if data.number is not None:
            raise ValidationFailed.one("number", "a draft has no number")
        return
    if data.number is None or data.number < 1:
        raise ValidationFailed.one("number", "an issued invoice needs a positive number")
    if data.issued_on is None:
        raise ValidationFailed.one("date_billed", "an issued invoice needs its date")
    taken = (
        Invoice.objects.filter(company_id=client.company_id, number=data.number)
        .exclude(pk=existing.pk if existing else None)
        .first()
    )
    if taken is not None:
        raise ValidationFailed.one(
            "number", f"{data.number} is already the number of invoice #{taken.pk}"
        )


def _lines(invoice: Invoice, data: ImportedInvoice) -> list[InvoiceLine]:
    amounts = [line.quantity * line.unit_amount for line in data.lines]
    taxes = [0] * len(amounts)
    if data.tax_total:
        weights = [abs(a) for a in amounts] if any(amounts) else [1] * len(amounts)
        taxes = money.split(data.tax_total, weights, invoice.company.rounding_mode)
    return [
        InvoiceLine(
            invoice=invoice,
            service_id=line.service_id,
            kind=LineKind.SERVICE if line.service_id else LineKind.CUSTOM,
            description=line.description[:500],
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            amount=amount,
            tax1_amount=tax,
            total=amount + tax,
            taxable=bool(tax),
            tax_reason="imported" if tax else "",
            position=i + 1,
        )
        for i, (line, amount, tax) in enumerate(zip(data.lines, amounts, taxes, strict=True))
    ]


def _line_key(line: InvoiceLine) -> tuple:
    return (line.service_id, line.description, line.quantity, line.unit_amount, line.tax1_amount)


def import_invoice(
    client: Client, data: ImportedInvoice, *, actor: str, existing: Invoice | None = None
) -> tuple[Invoice, bool]:
    """Create the invoice (or bring `existing`, made by an earlier import, up to date) with
    its number, dates, status and lines. `amount_paid` follows the applications
    (`settle_imported` once they are written). Returns the invoice and whether anything
    was written."""
    _check_invoice(client, data, existing)
    header = {
        "currency": data.currency,
        "number": data.number,
        "status": data.status,
        "issued_on": data.issued_on,
        "due_on": data.due_on or data.issued_on,
        "paid_at": data.paid_at if data.status == InvoiceStatus.PAID else None,
        "voided_at": data.voided_at if data.status == InvoiceStatus.VOID else None,
    }
    created = existing is None
    if created:
        invoice = Invoice.objects.create(company_id=client.company_id, client=client, **header)
        if data.status != InvoiceStatus.DRAFT:
            invoice.seller = parties.seller_of(invoice.company)
            invoice.buyer = parties.buyers_of([client.pk])[client.pk]
        changed_header = list(header)
    else:
        invoice = existing
        changed_header = [k for k, v in header.items() if getattr(invoice, k) != v]
        for name in changed_header:
            setattr(invoice, name, header[name])
    wanted = _lines(invoice, data)
    current = list(invoice.lines.all()) if not created else []
    lines_changed = [_line_key(x) for x in wanted] != [_line_key(x) for x in current]
    if lines_changed and invoice.credited:
        raise Conflict(
            f"{invoice} has credit notes since it was imported: its lines stay as they were"
        )
    if lines_changed:
        invoice.lines.all().delete()
        InvoiceLine.objects.bulk_create(wanted)
    invoice.subtotal = sum(line.amount for line in wanted)
    invoice.tax_total = sum(line.tax1_amount for line in wanted)
    invoice.total = sum(line.total for line in wanted)
    if not (created or changed_header or lines_changed):
        return invoice, False
    invoice.save()
    record(
        subject=invoice,
        actor=actor,
        action="invoice.import",
        new=wrap(
            {
                "number": invoice.number,
                "status": invoice.status,
                "total": invoice.total,
                "currency": invoice.currency,
                "updated": not created,
            }
        ),
    )
    return invoice, True


def import_transaction(
    client: Client, data: ImportedTransaction, *, actor: str, existing: Transaction | None = None
) -> tuple[Transaction, bool]:
    """Create the payment or credit (or bring `existing` up to date) as the source has it."""
    if data.kind not in (TransactionKind.PAYMENT, TransactionKind.CREDIT):
        raise ValidationFailed.one("type", "must be a payment or a credit")
    if data.status not in TransactionStatus.values:
        raise ValidationFailed.one(
            "status", f"must be one of {', '.join(TransactionStatus.values)}"
        )
    if not 0 < data.amount <= MAX_AMOUNT:
        raise ValidationFailed.one("amount", "must be positive")
    values = {
        "kind": data.kind,
        "status": data.status,
        "currency": data.currency,
        "amount": data.amount,
        "method": data.method[:32],
        "reference": data.reference[:128],
        "note": data.note[:500],
    }
    if existing is None:
        txn = Transaction.objects.create(
            company_id=client.company_id,
            client=client,
            actor=actor,
            settled_at=data.created_at,
            **values,
        )
        if data.created_at is not None:
            Transaction.objects.filter(pk=txn.pk).update(created_at=data.created_at)
        record(
            subject=txn,
            actor=actor,
            action=f"{txn.kind}.import",
            new=wrap({"amount": txn.amount, "currency": txn.currency, "status": txn.status}),
        )
        return txn, True
    changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
    if not changed:
        return existing, False
    for name, value in changed.items():
        setattr(existing, name, value)
    existing.save(update_fields=sorted(changed))
    record(
        subject=existing,
        actor=actor,
        action=f"{existing.kind}.import",
        new=wrap({k: str(v) for k, v in changed.items()}),
    )
    return existing, True


def set_applications(txn: Transaction, amounts: dict[int, int]) -> bool:
    """Make what `txn` has applied exactly `amounts` (invoice id → amount). Refuses more
    than the transaction's amount, money that is not approved, and invoices of another
    client or currency, drafts or voids. Returns whether anything was written; call
    `settle_imported` for the invoices touched."""
    amounts = {k: v for k, v in amounts.items() if v}
    if any(v < 0 for v in amounts.values()):
        raise ValidationFailed.one("amount", "an applied amount must be positive")
    if amounts and txn.status != TransactionStatus.APPROVED:
        raise ValidationFailed.one("status", f"a {txn.status} transaction cannot be applied")
    if sum(amounts.values()) > txn.amount:
        raise ValidationFailed.one(
            "amount", f"applies {sum(amounts.values())}, more than its amount {txn.amount}"
        )
    invoices = Invoice.objects.filter(pk__in=amounts).values_list(
        "pk", "client_id", "currency", "status"
    )
    for pk, client_id, currency, status in invoices:
        if client_id != txn.client_id or currency != txn.currency:
            raise ValidationFailed.one(
                "invoice_id", f"invoice #{pk} is not the same client's in {txn.currency}"
            )
        if status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
            raise ValidationFailed.one("invoice_id", f"invoice #{pk} is {status}")
    current = dict(txn.applications.values_list("invoice_id", "amount"))
    if current == amounts:
        return False
    txn.applications.exclude(invoice_id__in=amounts).delete()
    for invoice_id, amount in amounts.items():
        if current.get(invoice_id) != amount:
            Application.objects.update_or_create(
                transaction=txn, invoice_id=invoice_id, defaults={"amount": amount}
            )
    return True


def settle_imported(invoice_ids: list[int]) -> list[tuple[Invoice, str]]:
    """Recompute `amount_paid` of the imported invoices from their applications and check
    their imported status against it. Returns the invoices whose status the money
    contradicts, with why (the caller refuses the import)."""
    paid = dict(
        Application.objects.filter(invoice_id__in=invoice_ids)
        .values("invoice_id")
        .annotate(total=Sum("amount"))
        .values_list("invoice_id", "total")
    )
    wrong = []
    for invoice in Invoice.objects.filter(pk__in=invoice_ids):
        amount = paid.get(invoice.pk, 0)
        billed = invoice.billed  # its total, less credit notes made here since an import
        if amount > billed:
            wrong.append((invoice, f"has {amount} applied, more than its total {billed}"))
        elif invoice.status == InvoiceStatus.PAID and amount < billed:
            wrong.append((invoice, f"is closed as paid but only {amount} of {billed} was applied"))
        elif invoice.status == InvoiceStatus.OPEN and billed and amount == billed:
            wrong.append((invoice, "is open but fully paid"))
        elif invoice.status in (InvoiceStatus.VOID, InvoiceStatus.DRAFT) and amount:
            wrong.append((invoice, f"is {invoice.status} but has payments applied"))
        if invoice.amount_paid != amount:
            invoice.amount_paid = amount
            invoice.save(update_fields=["amount_paid"])
    return wrong


def continue_numbering(company_id: int) -> int:
    """Make the company's invoice sequence continue after the highest number it holds;
    returns the next number."""
    sequence, _ = InvoiceSequence.objects.get_or_create(company_id=company_id)
    sequence = InvoiceSequence.objects.select_for_update().get(pk=sequence.pk)
    highest = Invoice.objects.filter(company_id=company_id, number__lt=10**18).aggregate(
        top=Max("number")
    )["top"]
    if highest is not None and sequence.next_number <= highest:
        sequence.next_number = highest + 1
        sequence.save(update_fields=["next_number"])
    return sequence.next_number
