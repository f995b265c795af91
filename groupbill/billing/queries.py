"""Reads of the ledger that the API and the UI share."""

from django.db.models import Prefetch, QuerySet

from groupbill.billing import ledger
from groupbill.billing.models import (
    Application,
    Invoice,
    InvoiceLine,
    PaymentAccount,
    Transaction,
    TransactionStatus,
)
from groupbill.errors import NotFound


def invoices() -> QuerySet[Invoice]:
    """Invoices by id, with their lines (in order) and the payments applied to them."""
    return Invoice.objects.order_by("pk").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk")),
        Prefetch("applications", queryset=Application.objects.order_by("pk")),
    )


def get_invoice(invoice_id: int) -> Invoice:
    invoice = invoices().select_related("company").filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(f"Invoice {invoice_id} does not exist.")
    return invoice


def get_invoice_line(invoice: Invoice, line_id: int) -> InvoiceLine:
    line = invoice.lines.filter(pk=line_id).first()
    if line is None:
        raise NotFound(f"{invoice} has no line {line_id}.")
    return line


def transactions() -> QuerySet[Transaction]:
    """Transactions by id, with the amounts applied to invoices."""
    return Transaction.objects.order_by("pk").prefetch_related(
        Prefetch("applications", queryset=Application.objects.order_by("pk"))
    )


def get_transaction(transaction_id: int) -> Transaction:
    txn = transactions().filter(pk=transaction_id).first()
    if txn is None:
        raise NotFound(f"Transaction {transaction_id} does not exist.")
    return txn


def unapplied(txns: list[Transaction]) -> dict[int, int]:
    """What is left of each approved payment or credit (neither applied nor refunded), by
    id, in one query for the list: 0 for refunds and for attempts not approved."""
    used = ledger.used_amounts([t.pk for t in txns])
    return {
        t.pk: t.amount - used.get(t.pk, 0)
        if t.kind in ledger.FUNDS and t.status == TransactionStatus.APPROVED
        else 0
        for t in txns
    }


def get_payment_account(account_id: int) -> PaymentAccount:
    account = PaymentAccount.objects.select_related("client").filter(pk=account_id).first()
    if account is None:
        raise NotFound(f"Payment account {account_id} does not exist.")
    return account
