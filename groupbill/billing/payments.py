"""Payments, credits and refunds, and applying them to invoices. Every function runs in
one transaction under the client's lock and is audited."""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F

from groupbill import validation as v
from groupbill.audit.actions import record, wrap
from groupbill.billing import charges, ledger, lock_objects, signals
from groupbill.billing.invoices import MAX_AMOUNT
from groupbill.billing.models import (
    Invoice,
    InvoiceStatus,
    PaymentAccount,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from groupbill.clients.models import Client
from groupbill.companies.queries import company_today
from groupbill.currencies import clean_currency
from groupbill.errors import Conflict, ValidationFailed


def _positive(amount: Any, field: str = "amount") -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise ValidationFailed.one(field, "must be a positive whole number of minor units")
    return amount


def _currency(currency: Any) -> str:
    try:
        return clean_currency(currency)
    except ValueError as exc:
        raise ValidationFailed.one("currency", str(exc)) from None


# The free text of a transaction, as its columns hold it.
_TEXTS = {
    "method": lambda x: v.text(x, max_length=32, required=True),
    "reference": lambda x: v.text(x, max_length=128),
    "note": lambda x: v.text(x, max_length=500),
}


def _texts(**fields: Any) -> dict[str, str]:
    texts, errors = v.collect(fields, _TEXTS)
    v.raise_if(errors)
    return texts


def _create(client: Client, kind: str, amount: int, currency: str, actor: str, **fields):
    fields |= _texts(**{k: fields[k] for k in _TEXTS if k in fields})
    txn = Transaction.objects.create(
        company_id=client.company_id,
        client=client,
        kind=kind,
        status=fields.pop("status", TransactionStatus.APPROVED),
        amount=amount,
        currency=currency,
        actor=actor,
        **fields,
    )
    ledger.audit_transaction(txn, actor, f"{kind}.record", method=txn.method, status=txn.status)
    return txn


NOT_RECORDED = "nothing was recorded"


def _record(client: Client, kind: str, amount: int, currency: str, actor: str,
            key: charges.RequestKey | None, **fields) -> Transaction:  # fmt: skip
    """`_create`, once for its key."""

    def make() -> Transaction:
        return _create(client, kind, amount, currency, actor, **fields, **charges.key_columns(key))

    return charges.once_for_key(client.pk, key, make, undone=NOT_RECORDED)[0]


def record_payment(
    client: Client,
    *,
    amount: int,
    currency: str,
    actor: str,
    method: str = "manual",
    reference: str = "",
    note: str = "",
    payment_account: PaymentAccount | None = None,
    principal: str = "",
    idempotency_key: str | None = None,
) -> Transaction:
    """An approved payment; until applied it is loose credit.

    With an `idempotency_key` (the principal's, as for charges and refunds) the same
    request sent again answers the payment it recorded, recording nothing more; the key
    sent with another request is refused on `idempotency_key`."""
    amount, currency = _positive(amount), _currency(currency)
    texts = _texts(method=method, reference=reference, note=note)
    account_id = payment_account.pk if payment_account is not None else None
    request = {"operation": "payment", "client": client.pk, "amount": amount,
               "currency": currency, "account": account_id, **texts}  # fmt: skip
    key = charges.request_key(principal, idempotency_key, request)
    return _record(client, TransactionKind.PAYMENT, amount, currency, actor, key,
                   payment_account=payment_account, **texts)  # fmt: skip


def add_credit(
    client: Client,
    *,
    amount: int,
    currency: str,
    actor: str,
    note: str = "",
    principal: str = "",
    idempotency_key: str | None = None,
) -> Transaction:
    """Credit granted by staff (or by a downgrade), usable on any invoice of the currency.
    An `idempotency_key` makes it once, as for `record_payment`."""
    amount, currency = _positive(amount), _currency(currency)
    texts = _texts(note=note)
    request = {"operation": "credit", "client": client.pk, "amount": amount,
               "currency": currency, **texts}  # fmt: skip
    key = charges.request_key(principal, idempotency_key, request)
    return _record(client, TransactionKind.CREDIT, amount, currency, actor, key,
                   method="credit", **texts)  # fmt: skip


def _check_open(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.OPEN:
        raise Conflict(f"{invoice} is {invoice.status}; only open invoices take payments.")


def apply(txn: Transaction, invoice: Invoice, amount: int, *, actor: str) -> None:
    """Apply part of a payment or credit to an open invoice of the same client and currency."""
    amount = _positive(amount)
    with transaction.atomic():
        lock_objects.client(invoice.client_id)
        invoice.refresh_from_db()
        txn.refresh_from_db()
        _check_open(invoice)
        if txn.client_id != invoice.client_id or txn.currency != invoice.currency:
            raise ValidationFailed.one(
                "transaction_id", "must be a payment or credit of the invoice's client and currency"
            )
        if amount > ledger.available(txn):
            raise ValidationFailed.one("amount", "is more than is left on the payment or credit")
        if amount > invoice.balance_due:
            raise ValidationFailed.one("amount", "is more than the invoice's balance due")
        ledger.add_application(txn, invoice, amount)
        ledger.settle(invoice)
        ledger.audit_transaction(txn, actor, "apply", invoice_id=invoice.pk, applied=amount)


def pay_invoice(
    invoice: Invoice,
    *,
    amount: int,
    actor: str,
    method: str = "manual",
    reference: str = "",
    note: str = "",
) -> Transaction:
    """Record a payment and apply it to this invoice; any excess stays as loose credit."""
    return make_invoice_payment(invoice, amount=amount, actor=actor, method=method,
                                reference=reference, note=note)[0]  # fmt: skip


def make_invoice_payment(
    invoice: Invoice,
    *,
    amount: int,
    actor: str,
    method: str = "manual",
    reference: str = "",
    note: str = "",
    principal: str = "",
    idempotency_key: str | None = None,
) -> tuple[Transaction, bool]:
    """`pay_invoice`, also saying whether this call recorded the payment (False: its key
    recorded it before, whatever became of the invoice since)."""
    amount = _positive(amount)
    texts = _texts(method=method, reference=reference, note=note)
    request = {"operation": "invoice_payment", "invoice": invoice.pk, "amount": amount, **texts}
    key = charges.request_key(principal, idempotency_key, request)

    def make() -> Transaction:
        invoice.refresh_from_db()
        _check_open(invoice)
        txn = _create(invoice.client, TransactionKind.PAYMENT, amount, invoice.currency, actor,
                      **texts, **charges.key_columns(key))  # fmt: skip
        part = min(amount, invoice.balance_due)
        ledger.add_application(txn, invoice, part)
        ledger.settle(invoice)
        ledger.audit_transaction(txn, actor, "apply", invoice_id=invoice.pk, applied=part)
        signals.payment_received.send(
            Transaction, txn=txn, invoice=invoice, paid_on=company_today(invoice.company)
        )
        return txn

    return charges.once_for_key(invoice.client_id, key, make, undone=NOT_RECORDED)


def apply_credit(
    client: Client, currency: str, *, actor: str, invoice_ids: list[int] | None = None
) -> int:
    """Apply the client's loose credit in `currency` to open invoices, oldest due date first
    (then lowest id), spending the oldest funds first. Returns the amount applied."""
    currency = _currency(currency)
    with transaction.atomic():
        lock_objects.client(client.pk)
        funds = ledger.funds(client.pk, currency)
        if not funds:
            return 0
        invoices = Invoice.objects.filter(
            client=client, currency=currency, status=InvoiceStatus.OPEN
        ).order_by(F("due_on").asc(nulls_last=True), "pk")
        if invoice_ids is not None:
            invoices = invoices.filter(pk__in=invoice_ids)
        applied_total = 0
        for invoice in invoices:
            due = invoice.balance_due
            while due > 0 and funds:
                txn = funds[0]
                part = min(due, txn.available)
                ledger.add_application(txn, invoice, part)
                ledger.audit_transaction(txn, actor, "apply", invoice_id=invoice.pk, applied=part)
                txn.available -= part
                due -= part
                applied_total += part
                if txn.available == 0:
                    funds.pop(0)
            ledger.settle(invoice)
            if not funds:
                break
        return applied_total


def unapply(invoice: Invoice, *, actor: str, amount: int | None = None) -> int:
    """Take payments back off an invoice (all, or `amount`, newest first); the money becomes
    loose credit again. Returns the amount taken back."""
    with transaction.atomic():
        lock_objects.client(invoice.client_id)
        invoice.refresh_from_db()
        if invoice.status == InvoiceStatus.VOID:
            raise Conflict(f"{invoice} is void; nothing is applied to it.")
        if amount is not None:
            amount = _positive(amount)
            if amount > invoice.amount_paid:
                raise ValidationFailed.one("amount", "is more than is applied to the invoice")
        taken = ledger.remove_applications(invoice, amount)
        ledger.settle(invoice)
        record(subject=invoice, actor=actor, action="invoice.unapply",
               new=wrap({"unapplied": taken}))  # fmt: skip
        return taken


def refund(
    payment: Transaction,
    *,
    amount: int,
    actor: str,
    reference: str = "",
    principal: str = "",
    idempotency_key: str | None = None,
) -> Transaction:
    """Give back part of a payment that is not applied to any invoice (unapply first).
    A payment taken through a gateway is refunded through it (`charges.refund`); a declined
    refund is kept (status declined, no money moved) and the refusal raised after it is
    recorded. Any other payment's refund is recorded as made by hand.

    With an `idempotency_key` (the principal's, as for charges) the same request sent again
    answers the refund it made, refunding nothing more; the key sent with another payment,
    amount or reference is refused on `idempotency_key`."""
    return make_refund(payment, amount=amount, actor=actor, reference=reference,
                       principal=principal, idempotency_key=idempotency_key)[0]  # fmt: skip


def make_refund(
    payment: Transaction,
    *,
    amount: int,
    actor: str,
    reference: str = "",
    principal: str = "",
    idempotency_key: str | None = None,
) -> tuple[Transaction, bool]:
    """`refund`, also saying whether this call made the refund (False: its key made it
    before)."""
    amount = _positive(amount)
    texts = _texts(reference=reference)  # gateway refunds too, though they carry their own
    if payment.kind != TransactionKind.PAYMENT:
        raise ValidationFailed.one("transaction_id", "only payments can be refunded")
    key = charges.refund_key(principal, idempotency_key, payment, amount, texts["reference"])
    if payment.payment_account_id is not None:
        txn, made = charges.refund(payment, amount=amount, actor=actor, key=key)
        if txn.status in (TransactionStatus.DECLINED, TransactionStatus.ERROR):
            raise Conflict(f"The {payment.method} gateway refused the refund: {txn.note}")
        return txn, made

    def make() -> Transaction:
        ledger.check_refundable(payment, amount)
        txn = _create(payment.client, TransactionKind.REFUND, amount, payment.currency, actor,
                      method=payment.method, reference=texts["reference"], refund_of=payment,
                      **charges.key_columns(key))  # fmt: skip
        signals.payment_refunded.send(Transaction, txn=txn)
        return txn

    return charges.once_for_key(payment.client_id, key, make, undone=charges.NOT_REFUNDED)


@dataclass(frozen=True)
class Balance:
    currency: str
    due: int  # open invoices' balance due (total less credit notes and payments)
    credit: int  # loose credit


def balances(client_ids: list[int]) -> dict[int, list[Balance]]:
    """Per client and currency: what is due and what loose credit there is. A constant
    number of queries for any number of clients."""
    due: dict[tuple[int, str], int] = defaultdict(int)
    # Summed here, in Python's unbounded integers: a database SUM over many large
    # invoices could overflow 64 bits (bounds).
    for client_id, currency, total, credited, paid in Invoice.objects.filter(
        client_id__in=client_ids, status=InvoiceStatus.OPEN
    ).values_list("client_id", "currency", "total", "credited", "amount_paid"):
        due[(client_id, currency)] += total - credited - paid
    credit: dict[tuple[int, str], int] = defaultdict(int)
    fund_rows = list(
        Transaction.objects.filter(
            client_id__in=client_ids, kind__in=ledger.FUNDS, status=TransactionStatus.APPROVED
        ).values_list("pk", "client_id", "currency", "amount")
    )
    used = ledger.used_amounts([pk for pk, *_ in fund_rows])
    for pk, client_id, currency, amount in fund_rows:
        credit[(client_id, currency)] += amount - used.get(pk, 0)
    out: dict[int, list[Balance]] = {cid: [] for cid in client_ids}
    for client_id, currency in sorted(due.keys() | credit.keys()):
        out[client_id].append(
            Balance(
                currency, due.get((client_id, currency), 0), credit.get((client_id, currency), 0)
            )
        )
    return out
