"""Payments that wait for their card holder (3-D Secure, SCA). A Stripe charge whose
PaymentIntent answers `requires_action` stays pending (charges._still_pending), and the
client is asked to authenticate it (signals.payment_action_required, once per attempt).
The portal's page for it reads the PaymentIntent here (its client secret goes to the card
holder's browser only and is never stored); Stripe.js does the rest, and the outcome
arrives by webhook (stripe_events), like any other."""

from groupbill.billing.gateways import get_gateway
from groupbill.billing.gateways.stripe import ACTION_MESSAGE, NAME, PaymentAction
from groupbill.billing.models import Transaction, TransactionKind, TransactionStatus


def awaiting(client_id: int, *, invoice_id: int | None = None):
    """The client's pending payments that wait for the card holder (of one invoice)."""
    rows = Transaction.objects.filter(
        client_id=client_id,
        kind=TransactionKind.PAYMENT,
        method=NAME,
        status=TransactionStatus.PENDING,
        note=ACTION_MESSAGE,
    )
    if invoice_id is not None:
        rows = rows.filter(targets__invoice_id=invoice_id)
    return rows.order_by("pk")


def waits_for_card_holder(txn: Transaction) -> bool:
    """Whether this attempt, as just answered, waits for its card holder."""
    return (
        txn.status == TransactionStatus.PENDING
        and getattr(txn, "method", None) == NAME
        and txn.note == ACTION_MESSAGE
    )


def payment_of(client_id: int, attempt_id: int) -> Transaction | None:
    """One of the client's Stripe payment attempts, or None."""
    return (
        Transaction.objects.filter(
            client_id=client_id, pk=attempt_id, kind=TransactionKind.PAYMENT, method=NAME
        )
        .select_related("payment_account")
        .first()
    )


def payment_action(txn: Transaction) -> PaymentAction:
    """What the card holder's browser needs to authenticate the attempt (a call to Stripe:
    outside any transaction)."""
    return get_gateway(NAME).payment_action(txn.client, txn.reference)
