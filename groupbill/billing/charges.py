"""Charging a payment account through its gateway, exactly once per idempotency key.

The attempt (a pending payment carrying the key) is committed *before* the gateway is
called, and the same key is sent to the gateway. If the process dies in between, the
attempt stays pending and `settle_pending` asks the gateway for that key's outcome instead
of charging again.
"""

from django.db import IntegrityError, transaction

from groupbill.billing import ledger
from groupbill.billing.gateways import GatewayResult, get_gateway
from groupbill.billing.gateways.base import MAX_KEY_LENGTH, check_key
from groupbill.billing.models import (
    Invoice,
    InvoiceStatus,
    PaymentAccount,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from groupbill.companies.queries import company_today
from groupbill.errors import Conflict, DomainError, ValidationFailed
from groupbill.notices import events


def _record_attempt(account, amount, currency, key, actor) -> Transaction:
    try:
        with transaction.atomic():
            return Transaction.objects.create(
                company_id=account.client.company_id,
                client_id=account.client_id,
                kind=TransactionKind.PAYMENT,
                status=TransactionStatus.PENDING,
                currency=currency,
                amount=amount,
                method=account.gateway,
                idempotency_key=key,
                payment_account=account,
                actor=actor,
            )
    except IntegrityError:
        return Transaction.objects.get(idempotency_key=key)


def _settle(txn: Transaction, result: GatewayResult, invoices: list[Invoice]) -> Transaction:
    """Record the gateway's answer and, when approved, apply the money to `invoices` in order
    (what they no longer need stays as loose credit)."""
    with transaction.atomic():
        ledger.lock_client(txn.client_id)
        txn.refresh_from_db()
        if txn.status != TransactionStatus.PENDING:
            return txn  # settled already (by a concurrent caller)
        txn.status = TransactionStatus(result.outcome.value)
        txn.reference = result.reference
        txn.note = result.message[:500]
        txn.save(update_fields=["status", "reference", "note"])
        account = txn.payment_account
        if account is not None:
            if result.approved:
                account.failure_count = 0
            elif result.outcome == "declined":
                account.failure_count += 1  # errors are not the client's doing: not counted
            account.save(update_fields=["failure_count"])
        if result.approved:
            left = txn.amount
            paid = []
            for invoice in invoices:
                invoice.refresh_from_db()
                part = min(left, invoice.balance_due)
                if invoice.status != InvoiceStatus.OPEN or part <= 0:
                    continue
                ledger.add_application(txn, invoice, part)
                ledger.settle(invoice)
                paid.append(invoice)
                left -= part
            if paid:
                events.payment_received(txn, paid[0], company_today(paid[0].company))
        elif result.outcome == "declined" and invoices:
            events.payment_declined(txn, invoices[0], result.message)
    return txn


def charge(
    account: PaymentAccount,
    *,
    amount: int,
    currency: str,
    idempotency_key: str,
    actor: str,
    invoices: list[Invoice] = (),
) -> Transaction:
    """Charge the account once for this key; a repeated call with the same key returns the
    first attempt (settling it with the gateway's recorded outcome if it was left pending)."""
    if amount <= 0:
        raise Conflict("Nothing to charge.")
    try:
        check_key(idempotency_key)
    except ValueError:
        raise ValidationFailed.one(
            "idempotency_key", f"must be 1 to {MAX_KEY_LENGTH} characters, without NUL"
        ) from None
    gateway = get_gateway(account.gateway)
    txn = _record_attempt(account, amount, currency, idempotency_key, actor)
    if txn.status != TransactionStatus.PENDING:
        return txn
    try:
        result = gateway.outcome(idempotency_key) or gateway.charge(
            account, amount, currency, idempotency_key
        )
    except DomainError:
        # Refused before anything was sent (the manual gateway): no attempt to settle.
        Transaction.objects.filter(pk=txn.pk, status=TransactionStatus.PENDING).delete()
        raise
    return _settle(txn, result, list(invoices))


def settle_pending(txn: Transaction, invoices: list[Invoice] = ()) -> Transaction:
    """After a crash: settle a pending attempt from the gateway's record of its key; a key
    the gateway never saw is charged now with that same key."""
    account = txn.payment_account
    gateway = get_gateway(txn.method)
    result = gateway.outcome(txn.idempotency_key) or gateway.charge(
        account, txn.amount, txn.currency, txn.idempotency_key
    )
    return _settle(txn, result, list(invoices))


def pay_with_account(invoice: Invoice, account: PaymentAccount, *, actor: str, key: str):
    """Pay an invoice's balance with a saved account (staff or the client's own action)."""
    if account.client_id != invoice.client_id:
        raise Conflict("That payment account belongs to another client.")
    invoice.refresh_from_db()
    if invoice.status != InvoiceStatus.OPEN:
        raise Conflict(f"{invoice} is {invoice.status}; nothing to pay.")
    return charge(account, amount=invoice.balance_due, currency=invoice.currency,
                  idempotency_key=key, actor=actor, invoices=[invoice])  # fmt: skip
