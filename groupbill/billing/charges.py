"""Charging a saved payment account (and refunding through its gateway), exactly once.

1. Decide and record, in one transaction under the client's lock (then the invoices'):
   - a key this principal used before answers that first attempt, or is refused (422 on
     `idempotency_key`) when it came with another request;
   - an invoice that a pending attempt is paying refuses a second one (409 naming it);
   - the amount is what the invoices still owe now, so an approved charge never exceeds
     what was due when it was decided;
   - the attempt (a pending payment with a random gateway key, and its target invoices)
     is written and committed.
2. Call the gateway with the attempt's gateway key, outside any transaction. A timeout or
   a broken connection (GatewayUnreachable) leaves the attempt pending.
3. Book the answer once, in a new transaction under the client's lock: approved money goes
   to the target invoices in order, as far as they still need it; the rest stays credit.

A process killed between 1 and 3 leaves a pending attempt. `settle_pending` (the engine's
first task, also run when the same request is sent again) asks the gateway for the
outcome of its key once it is older than `EFFECT_GRACE_SECONDS`, and books that outcome;
it never charges again. An attempt the gateway never saw is void: nothing was charged.
"""

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from groupbill import clock, external, money
from groupbill.billing import ledger, lock_objects, signals
from groupbill.billing.gateways import GatewayResult, GatewayUnreachable, get_gateway
from groupbill.billing.gateways.base import MAX_KEY_LENGTH, check_key
from groupbill.billing.models import (
    ChargeTarget,
    Invoice,
    InvoiceStatus,
    PaymentAccount,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from groupbill.companies.queries import company_today
from groupbill.errors import Conflict, ValidationFailed

INVOICE, AUTODEBIT, REFUND = "invoice", "autodebit", "refund"
NEVER_SENT = "The gateway never received this attempt: nothing was charged."
NOT_REFUNDED = "nothing was refunded"


class AttemptPending(Conflict):
    """A charge of these invoices (or this auto debit) is still waiting for its outcome."""

    def __init__(self, attempt: Transaction):
        self.attempt = attempt
        started = attempt.created_at.astimezone(UTC)
        amount = money.format_plain(attempt.amount, attempt.currency)
        super().__init__(
            f"Charge #{attempt.pk} of {amount} {attempt.currency}, started at "
            f"{started:%Y-%m-%d %H:%M:%S} UTC, is still waiting for the "
            f"{attempt.method} gateway's answer; it is settled automatically, then you may "
            "try again if it did not go through."
        )


class NothingToCharge(Conflict):
    pass


@dataclass(frozen=True)
class ChargeRequest:
    operation: str  # INVOICE: pay these invoices; AUTODEBIT: the client's due invoices
    account: PaymentAccount
    invoice_ids: tuple[int, ...]  # in the order the money goes to them
    currency: str
    principal: str  # whose key it is: "apikey:7", "staff:3", "portal:12", "engine"
    key: str
    actor: str
    amount: int | None = None  # INVOICE: part of the balance due; None: all of it

    def fingerprint(self) -> str:
        """What the key is bound to. Auto debit's invoices are decided under the lock (one
        may be paid by then), so its request is the client, account and currency."""
        doc = {
            "operation": self.operation,
            "client": self.account.client_id,
            "account": self.account.pk,
            "currency": self.currency,
            "invoices": sorted(self.invoice_ids) if self.operation == INVOICE else [],
            "amount": self.amount,
        }
        return fingerprint(doc)


def fingerprint(request: dict) -> str:
    """What a key is bound to: the request it first came with."""
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def _grace() -> timedelta:
    return timedelta(seconds=settings.EFFECT_GRACE_SECONDS)


def _new_gateway_key() -> str:
    return f"gb_{secrets.token_hex(16)}"


def checked_key(key: object) -> str:
    try:
        check_key(key)
    except ValueError:
        raise ValidationFailed.one(
            "idempotency_key", f"must be 1 to {MAX_KEY_LENGTH} characters, without NUL"
        ) from None
    return key


def earlier(
    principal: str, key: str, bound_to: str, *, undone: str = "nothing was charged"
) -> Transaction | None:
    """What this principal's key did before, or None; refused when the key came with
    another request (`undone` says what did not happen)."""
    found = Transaction.objects.filter(principal=principal, idempotency_key=key).first()
    if found is not None and found.request_fingerprint != bound_to:
        raise ValidationFailed.one(
            "idempotency_key",
            f"was used for another request (transaction #{found.pk}); {undone}. "
            "Send a new key with a new request.",
        )
    return found


def taken_meanwhile(
    error: IntegrityError, principal: str, key: str, bound_to: str, *, undone: str
) -> Transaction:
    """What took this principal's key while this request was deciding, its insert under
    the key having failed on the key's unique constraint (the transaction rolled back).
    The client's lock orders one client's requests only: requests for two clients both
    find the key free, and the second to insert waits for the first to commit. Answered
    as `earlier` answers a key used before (refused when it came with another request);
    `error` again when the key is free, another constraint having failed."""
    found = earlier(principal, key, bound_to, undone=undone)
    if found is None:
        raise error
    return found


@dataclass(frozen=True)
class RequestKey:
    """A caller's key for a charge, a refund, or a payment or credit recorded by hand, bound
    (`fingerprint`) to the request it first came with."""

    principal: str
    key: str
    fingerprint: str

    def columns(self) -> dict[str, str]:
        return {"principal": self.principal, "idempotency_key": self.key,
                "request_fingerprint": self.fingerprint}  # fmt: skip


def key_columns(key: RequestKey | None) -> dict:
    """What a transaction made under this key stores of it (nothing without a key)."""
    return key.columns() if key is not None else {}


def once_for_key(
    client_id: int, key: RequestKey | None, make: Callable[[], Transaction], *, undone: str
) -> tuple[Transaction, bool]:
    """`make()` under the client's lock, unless the key made its transaction before:
    (that transaction, False); a key that came with another request is refused. The lock
    orders one client's requests; a key sent at once for two clients fails the second
    insert on the key's unique constraint, and that request is rolled back whole and
    answered as a key used before (`undone` says what did not happen)."""
    try:
        with transaction.atomic():
            lock_objects.client(client_id)
            if key is not None:
                before = earlier(key.principal, key.key, key.fingerprint, undone=undone)
                if before is not None:
                    return before, False
            return make(), True
    except IntegrityError as error:
        if key is None:
            raise
        before = taken_meanwhile(error, key.principal, key.key, key.fingerprint, undone=undone)
        return before, False


def _pending_for(request: ChargeRequest) -> Transaction | None:
    pending = Transaction.objects.filter(
        client_id=request.account.client_id,
        currency=request.currency,
        kind=TransactionKind.PAYMENT,
        status=TransactionStatus.PENDING,
    )
    if request.operation == INVOICE:
        pending = pending.filter(targets__invoice_id__in=request.invoice_ids)
    return pending.order_by("pk").first()


def _due(request: ChargeRequest) -> list[tuple[Invoice, int]]:
    locked = {i.pk: i for i in lock_objects.invoices(request.invoice_ids)}
    due = []
    for invoice_id in request.invoice_ids:
        invoice = locked.get(invoice_id)
        if invoice is None or invoice.client_id != request.account.client_id:
            raise ValidationFailed.one("invoice_id", "must be an invoice of the account's client")
        if invoice.status == InvoiceStatus.OPEN and invoice.balance_due > 0:
            due.append((invoice, invoice.balance_due))
        elif request.operation == INVOICE:
            raise NothingToCharge(f"{invoice} is {invoice.status}; nothing to pay.")
    if request.amount is not None:
        [(invoice, balance)] = due
        if request.amount > balance:
            raise ValidationFailed.one("amount", "is more than the invoice's balance due")
        due = [(invoice, request.amount)]
    if not due:
        raise NothingToCharge("Nothing is due on these invoices.")
    return due


def _begin(request: ChargeRequest) -> tuple[Transaction, bool]:
    """Decide and record the attempt; (attempt, False) when the key was used before."""
    account = request.account
    gateway = get_gateway(account.gateway)
    if not gateway.can_charge:
        raise ValidationFailed.one(
            "gateway",
            f"The {gateway.name} gateway cannot charge an account: there is nothing to call. "
            "Record the payment once it has been received.",
        )
    key = RequestKey(request.principal, checked_key(request.key), request.fingerprint())

    def attempt() -> Transaction:
        pending = _pending_for(request)
        if pending is not None:
            raise AttemptPending(pending)
        due = _due(request)
        txn = Transaction.objects.create(
            company_id=due[0][0].company_id,
            client_id=account.client_id,
            kind=TransactionKind.PAYMENT,
            status=TransactionStatus.PENDING,
            currency=request.currency,
            amount=sum(amount for _, amount in due),
            method=account.gateway,
            **key.columns(),
            gateway_key=_new_gateway_key(),
            payment_account=account,
            actor=request.actor,
        )
        ChargeTarget.objects.bulk_create(
            ChargeTarget(transaction=txn, invoice=invoice, amount=amount, position=n)
            for n, (invoice, amount) in enumerate(due)
        )
        ledger.audit_transaction(
            txn, request.actor, "payment.attempt", invoices=[i.pk for i, _ in due]
        )
        return txn

    # Rolled back whole when the key was taken meanwhile: nothing of this attempt is kept.
    return once_for_key(account.client_id, key, attempt, undone="nothing was charged")


def _call(txn: Transaction) -> GatewayResult | None:
    """The gateway's answer, or None when it is unknown (the attempt stays pending)."""
    external.ensure_outside_transaction(f"A charge through the {txn.method} gateway")
    invoice_ids = [t.invoice_id for t in txn.targets.all()]
    try:
        return get_gateway(txn.method).charge(
            txn.payment_account, txn.amount, txn.currency, txn.gateway_key, invoice_ids=invoice_ids
        )
    except GatewayUnreachable:
        return None


def _apply_approved(txn: Transaction) -> list[Invoice]:
    targets = list(txn.targets.all())
    invoices = {i.pk: i for i in lock_objects.invoices(t.invoice_id for t in targets)}
    left, paid = txn.amount, []
    for target in targets:
        invoice = invoices[target.invoice_id]
        part = min(left, invoice.balance_due)
        if invoice.status != InvoiceStatus.OPEN or part <= 0:
            continue  # paid meanwhile (by hand, with credit): the money stays as credit
        ledger.add_application(txn, invoice, part)
        ledger.settle(invoice)
        paid.append(invoice)
        left -= part
    return paid


def _still_pending(txn: Transaction, result: GatewayResult) -> Transaction:
    """The gateway has the attempt but no final answer yet (e.g. the card holder must
    authenticate it: they are asked to, by signal, keyed by the attempt): it stays pending,
    with the gateway's reference and why."""
    note = result.message[:500]
    if (txn.reference, txn.note) != (result.reference, note):
        txn.reference, txn.note = result.reference, note
        txn.save(update_fields=["reference", "note"])
    if result.action_required and txn.kind == TransactionKind.PAYMENT:
        first = txn.targets.select_related("invoice").first()
        if first is not None:
            signals.payment_action_required.send(Transaction, txn=txn, invoice=first.invoice)
    return txn


def _book(txn: Transaction, result: GatewayResult) -> Transaction:
    """Book the gateway's answer once (a concurrent settler may have booked it first); an
    answer that is not final yet leaves the attempt pending."""
    with transaction.atomic():
        lock_objects.client(txn.client_id)
        txn = Transaction.objects.select_related("payment_account").get(pk=txn.pk)
        if txn.status != TransactionStatus.PENDING:
            return txn
        if not result.final:
            return _still_pending(txn, result)
        txn.status = TransactionStatus(result.outcome.value)
        txn.reference = result.reference
        txn.note = result.message[:500]
        txn.settled_at = clock.now()
        txn.save(update_fields=["status", "reference", "note", "settled_at"])
        if txn.kind == TransactionKind.REFUND:
            ledger.audit_transaction(
                txn, txn.actor, "refund.settle", status=txn.status, of=txn.refund_of_id
            )
            if result.approved:
                signals.payment_refunded.send(Transaction, txn=txn)
            return txn
        account = txn.payment_account
        if account is not None:
            if result.approved:
                account.failure_count = 0
            elif result.outcome == "declined":
                account.failure_count += 1  # errors are not the client's doing: not counted
            account.save(update_fields=["failure_count"])
        if result.approved:
            paid = _apply_approved(txn)
            if paid:
                signals.payment_received.send(
                    Transaction, txn=txn, invoice=paid[0], paid_on=company_today(paid[0].company)
                )
        elif result.outcome == "declined":
            first = txn.targets.select_related("invoice").first()
            if first is not None:
                signals.payment_declined.send(
                    Transaction, txn=txn, invoice=first.invoice, reason=result.message
                )
        ledger.audit_transaction(txn, txn.actor, "payment.settle", status=txn.status)
    return txn


def _void(txn: Transaction, note: str) -> Transaction:
    with transaction.atomic():
        lock_objects.client(txn.client_id)
        updated = Transaction.objects.filter(pk=txn.pk, status=TransactionStatus.PENDING).update(
            status=TransactionStatus.VOID, note=note, settled_at=clock.now()
        )
        txn.refresh_from_db()
        if updated:
            ledger.audit_transaction(txn, txn.actor, f"{txn.kind}.void", note=note)
    return txn


def _run(txn: Transaction) -> Transaction:
    result = _call(txn)
    return txn if result is None else _book(txn, result)


def is_stale(txn: Transaction) -> bool:
    """Pending longer than a call may take: its outcome can be asked for."""
    return txn.status == TransactionStatus.PENDING and (txn.created_at < timezone.now() - _grace())


def settle(txn: Transaction) -> Transaction:
    """Book what became of a pending attempt, from the gateway's record of its key."""
    if txn.status != TransactionStatus.PENDING:
        return txn
    external.ensure_outside_transaction(f"Asking the {txn.method} gateway for an outcome")
    try:
        result = get_gateway(txn.method).outcome(txn.gateway_key)
    except GatewayUnreachable:
        return txn  # asked again on the next run
    if result is None:
        return _void(txn, NEVER_SENT)
    return _book(txn, result)


def settle_with(txn: Transaction, result: GatewayResult) -> Transaction:
    """Book what the gateway reported on its own (a webhook) for a pending attempt, as
    `settle` books what it answers when asked: once, and only while it is pending."""
    return _book(txn, result)


def stale_attempts():
    """Pending charges and refunds old enough to be settled, oldest first."""
    return Transaction.objects.filter(
        status=TransactionStatus.PENDING,
        gateway_key__isnull=False,
        created_at__lt=timezone.now() - _grace(),
    ).order_by("created_at", "pk")


def charge(request: ChargeRequest) -> Transaction:
    """Charge once for the principal's key; the same request sent again answers the first
    attempt (settling it first when it was left pending by a crash)."""
    txn, new = _begin(request)
    if new:
        return _run(txn)
    return settle(txn) if is_stale(txn) else txn


def pay_with_account(
    invoice: Invoice,
    account: PaymentAccount,
    *,
    actor: str,
    principal: str,
    key: str,
    amount: int | None = None,
) -> Transaction:
    """Pay an invoice's balance (or `amount` of it) with a saved account: staff, the API
    or the client's own action."""
    if amount is not None and (type(amount) is not int or not 0 < amount <= 10**15):
        raise ValidationFailed.one("amount", "must be a positive whole number of minor units")
    if account.client_id != invoice.client_id:
        raise Conflict("That payment account belongs to another client.")
    return charge(ChargeRequest(INVOICE, account, (invoice.pk,), invoice.currency,
                                principal, key, actor, amount))  # fmt: skip


def autodebit(
    account: PaymentAccount, currency: str, invoice_ids: list[int], *, key: str, actor: str
) -> Transaction | None:
    """The engine's daily charge of a client's due invoices in one currency. None when
    there is nothing to do: charged already under this key, a charge still pending, or
    nothing left to pay."""
    request = ChargeRequest(AUTODEBIT, account, tuple(invoice_ids), currency, actor, key, actor)
    try:
        txn, new = _begin(request)
    except (AttemptPending, NothingToCharge):
        return None
    return _run(txn) if new else None


def request_key(principal: str, key: str | None, request: dict) -> RequestKey | None:
    """The key of a request (`request` names its operation and values); None when the
    caller sent none."""
    if key is None:
        return None
    if not principal:
        raise ValueError("an idempotency key belongs to a principal")
    return RequestKey(principal, checked_key(key), fingerprint(request))


def refund_key(
    principal: str, key: str | None, payment: Transaction, amount: int, reference: str
) -> RequestKey | None:
    """The key of a refund request; None when the caller sent none."""
    request = {"operation": REFUND, "payment": payment.pk, "amount": amount,
               "reference": reference}  # fmt: skip
    return request_key(principal, key, request)


def refund(
    payment: Transaction, *, amount: int, actor: str, key: RequestKey | None = None
) -> tuple[Transaction, bool]:
    """Refund part of a gateway payment through its gateway: recorded (pending, which
    holds the amount) under the client's lock, sent outside it, booked after. A key used
    before answers its refund (settled first when a crash left it pending), sending nothing.
    Returns (the refund, whether this call made it)."""
    gateway = get_gateway(payment.method)
    if not gateway.can_charge:
        raise ValidationFailed.one(
            "gateway", f"The {gateway.name} gateway cannot send a refund: there is nothing to call."
        )

    def attempt() -> Transaction:
        ledger.check_refundable(payment, amount)
        txn = Transaction.objects.create(
            company_id=payment.company_id,
            client_id=payment.client_id,
            kind=TransactionKind.REFUND,
            status=TransactionStatus.PENDING,
            currency=payment.currency,
            amount=amount,
            method=payment.method,
            gateway_key=_new_gateway_key(),
            refund_of=payment,
            actor=actor,
            **key_columns(key),
        )
        ledger.audit_transaction(txn, actor, "refund.attempt", of=payment.pk)
        return txn

    txn, made = once_for_key(payment.client_id, key, attempt, undone=NOT_REFUNDED)
    if not made:
        return (settle(txn) if is_stale(txn) else txn), False
    external.ensure_outside_transaction(f"A refund through the {payment.method} gateway")
    try:
        result = gateway.refund(payment.reference, amount, payment.currency, txn.gateway_key)
    except GatewayUnreachable:
        return txn, True
    return _book(txn, result), True


def pending_attempts(*, client_id: int | None = None, invoice_id: int | None = None):
    """Unsettled charges and refunds, for staff pages: of a client, or paying an invoice."""
    rows = Transaction.objects.filter(status=TransactionStatus.PENDING)
    if client_id is not None:
        rows = rows.filter(client_id=client_id)
    if invoice_id is not None:
        rows = rows.filter(targets__invoice_id=invoice_id)
    return rows.select_related("payment_account").order_by("created_at", "pk")
