"""Disputes (chargebacks): a card holder asked their bank to take back a payment. The
gateway reports it (Stripe's `charge.dispute.created`); Groupbill marks the payment
disputed, notes it on the client and tells the staff, who answer the dispute at the gateway.
The money stays booked: whether it is lost is decided later, at the gateway."""

from django.db import transaction

from groupbill import clock, money
from groupbill.billing import ledger, lock_objects, signals
from groupbill.billing.models import Transaction
from groupbill.clients.notes import add_note


def open_dispute(
    payment: Transaction,
    *,
    dispute: str,
    amount: int,
    currency: str,
    reason: str,
    actor: str,
) -> Transaction:
    """Mark the payment disputed, once per dispute (`dispute` is the gateway's id): the
    note and the staff's message are keyed by it, so a report sent again changes nothing."""
    with transaction.atomic():
        lock_objects.client(payment.client_id)
        payment = Transaction.objects.select_related("client").get(pk=payment.pk)
        key = f"dispute:{payment.method}:{dispute}"
        if payment.disputed_at is None:
            payment.disputed_at = clock.now()
            payment.save(update_fields=["disputed_at"])
            ledger.audit_transaction(payment, actor, "payment.disputed", dispute=dispute,
                                     disputed=amount, reason=reason)  # fmt: skip
        shown = f"{money.format_plain(amount, currency)} {currency}"
        add_note(
            payment.client,
            f"Payment #{payment.pk} was disputed with the card holder's bank: {shown}, "
            f"reason {reason or 'not given'} ({payment.method} dispute {dispute}). "
            "Answer it at the gateway before its deadline.",
            actor=actor,
            key=key,
        )
        signals.payment_disputed.send(
            Transaction, txn=payment, dispute=dispute, amount=amount, currency=currency,
            reason=reason, key=key,
        )  # fmt: skip
    return payment
