"""Moving money between transactions and invoices, keeping the ledger's invariants:

- an invoice's `amount_paid` is the sum of the amounts applied to it (recomputed from the
  rows after every change, never incremented blindly), and at most what it still bills
  (`total - credited`);
- a transaction never has more applied plus refunded than its amount, so loose credit is
  never negative;
- every change runs under the client's row lock, so concurrent payments for one client are
  serialised (PostgreSQL; SQLite serialises all writers anyway).

Callers hold a transaction (`transaction.atomic`) around these functions.
"""

from collections import defaultdict

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from groupbill import clock
from groupbill.audit.actions import record, wrap
from groupbill.billing.models import (
    Application,
    Invoice,
    InvoiceStatus,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from groupbill.billing.signals import invoice_paid
from groupbill.errors import ValidationFailed

FUNDS = (TransactionKind.PAYMENT, TransactionKind.CREDIT)
# A refund on its way to the gateway holds its amount until it is booked.
REFUND_HOLDS = (TransactionStatus.APPROVED, TransactionStatus.PENDING)


def _sums(rows) -> dict[int, int]:
    return {k: v or 0 for k, v in rows}


def used_amounts(transaction_ids: list[int]) -> dict[int, int]:
    """Applied plus refunded (or being refunded), per transaction id."""
    applied = _sums(
        Application.objects.filter(transaction_id__in=transaction_ids)
        .values("transaction_id")
        .annotate(total=Sum("amount"))
        .values_list("transaction_id", "total")
    )
    refunded = _sums(
        Transaction.objects.filter(
            refund_of_id__in=transaction_ids,
            kind=TransactionKind.REFUND,
            status__in=REFUND_HOLDS,
        )
        .values("refund_of_id")
        .annotate(total=Sum("amount"))
        .values_list("refund_of_id", "total")
    )
    used: dict[int, int] = defaultdict(int)
    for source in (applied, refunded):
        for pk, amount in source.items():
            used[pk] += amount
    return used


def with_credit_left(transactions: QuerySet) -> QuerySet:
    """Those of the transactions that are funds (approved payments and credits) with money
    left: not applied, nor refunded or being refunded, in full. In SQL, for a subquery."""
    applied = (
        Application.objects.filter(transaction=OuterRef("pk"))
        .values("transaction")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    refunded = (
        Transaction.objects.filter(refund_of=OuterRef("pk"), kind=TransactionKind.REFUND,
                                   status__in=REFUND_HOLDS)
        .values("refund_of")
        .annotate(total=Sum("amount"))
        .values("total")
    )  # fmt: skip
    return (
        transactions.filter(kind__in=FUNDS, status=TransactionStatus.APPROVED)
        .annotate(used=Coalesce(Subquery(applied), 0) + Coalesce(Subquery(refunded), 0))
        .filter(amount__gt=F("used"))
    )


def available(txn: Transaction) -> int:
    return with_available([txn])[0].available


def with_available(txns: list[Transaction]) -> list[Transaction]:
    """The transactions, each with `available` set: what of an approved payment or credit
    is neither applied nor refunded (0 for anything else). Two queries for any number."""
    fund_ids = {t.pk for t in txns if t.status == TransactionStatus.APPROVED and t.kind in FUNDS}
    used = used_amounts(list(fund_ids))
    for txn in txns:
        txn.available = txn.amount - used.get(txn.pk, 0) if txn.pk in fund_ids else 0
    return txns


def check_refundable(payment: Transaction, amount: int) -> None:
    """A refund of `amount` takes only what no invoice holds (the client locked)."""
    payment.refresh_from_db()
    if amount > available(payment):
        raise ValidationFailed.one(
            "amount", "is more than the unapplied part of the payment (unapply it first)"
        )


def funds(client_id: int, currency: str) -> list[Transaction]:
    """Approved payments and credits with money left, oldest first, each with `available`
    set. Three queries whatever the number of transactions."""
    rows = list(
        Transaction.objects.filter(
            client_id=client_id,
            currency=currency,
            kind__in=FUNDS,
            status=TransactionStatus.APPROVED,
        ).order_by("created_at", "pk")
    )
    return [txn for txn in with_available(rows) if txn.available > 0]


def settle(invoice: Invoice) -> Invoice:
    """Recompute `amount_paid` from the applications and move the invoice between open and
    paid accordingly: paid once it covers what the invoice still bills (its total less its
    credit notes). Drafts and voids keep their status."""
    paid = Application.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))["total"]
    invoice.amount_paid = paid or 0
    became_paid = False
    if invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
        if invoice.amount_paid >= invoice.billed:
            if invoice.status != InvoiceStatus.PAID:
                invoice.status = InvoiceStatus.PAID
                invoice.paid_at = clock.now()
                became_paid = True
        else:
            invoice.status = InvoiceStatus.OPEN
            invoice.paid_at = None
    invoice.save(update_fields=["amount_paid", "status", "paid_at"])
    if became_paid:
        invoice_paid.send(sender=Invoice, invoice=invoice)
    return invoice


def add_application(txn: Transaction, invoice: Invoice, amount: int) -> None:
    row, created = Application.objects.get_or_create(
        transaction=txn, invoice=invoice, defaults={"amount": amount}
    )
    if not created:
        row.amount += amount
        row.save(update_fields=["amount"])


def remove_applications(invoice: Invoice, amount: int | None = None) -> int:
    """Take back `amount` (all when None) applied to the invoice, newest first. The money
    returns to its transactions as loose credit. Returns the amount taken back."""
    remaining = amount
    taken = 0
    for row in Application.objects.filter(invoice=invoice).order_by("-created_at", "-pk"):
        part = row.amount if remaining is None else min(row.amount, remaining)
        if part <= 0:
            break
        if part == row.amount:
            row.delete()
        else:
            row.amount -= part
            row.save(update_fields=["amount"])
        taken += part
        if remaining is not None:
            remaining -= part
    return taken


def audit_transaction(txn: Transaction, actor: str, action: str, **data) -> None:
    """A transaction's audit entry: its amount and currency, and what happened."""
    record(subject=txn, actor=actor, action=action,
           new=wrap({"amount": txn.amount, "currency": txn.currency, **data}))  # fmt: skip
