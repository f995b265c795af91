"""Stripe's webhook events, received by the API's endpoint (`POST
/api/v1/gateways/stripe/webhook`, which needs no API key: the signature made with
GROUPBILL_STRIPE_WEBHOOK_SECRET is what is trusted).

    payment_intent.succeeded        the pending attempt with the PaymentIntent's key is
    payment_intent.payment_failed     booked with that answer, by the booking code
                                      settle_pending uses (charges.settle_with): once
    charge.refunded                 pending refunds of that payment are settled; a refund
                                      made in Stripe's dashboard (more refunded at Stripe
                                      than in Groupbill) is noted on the client for staff
    charge.dispute.created          the payment is marked disputed, noted on the client,
                                      and the staff are told (disputes.open_dispute)
    anything else                   answered and ignored

Each event is handled once: its id is recorded (GatewayEvent, unique) after it is handled,
and an id already recorded is answered without handling it again. Every handler is also
safe to run twice on its own (booking happens only while an attempt is pending; notes and
messages are keyed), so an event delivered twice at the same moment is still booked once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum

from groupbill import money
from groupbill.billing import charges, disputes
from groupbill.billing.gateways.stripe import KEY_FIELD, NAME, intent_result
from groupbill.billing.models import (
    GatewayEvent,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from groupbill.clients.notes import add_note
from groupbill.currencies import MINOR_UNITS

ACTOR = f"gateway:{NAME}"


class NotConfigured(Exception):
    """No webhook secret: no event can be trusted."""


class BadEvent(Exception):
    """The signature does not verify (or is missing), or the body is not an event."""


@dataclass(frozen=True)
class Received:
    event_id: str
    type: str
    status: str  # handled | ignored | duplicate


def receive(payload: bytes, signature: str | None) -> Received:
    """Verify, then handle an event once. Raises NotConfigured or BadEvent."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise NotConfigured("GROUPBILL_STRIPE_WEBHOOK_SECRET is not set")
    try:
        event = stripe.Webhook.construct_event(payload, signature or "", secret).to_dict()
        event_id, kind, obj = event["id"], event["type"], event["data"]["object"]
    except stripe.SignatureVerificationError:
        raise BadEvent("The Stripe-Signature does not verify with the webhook secret.") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BadEvent("The body is not a Stripe event.") from None
    if not (isinstance(event_id, str) and isinstance(kind, str) and isinstance(obj, dict)):
        raise BadEvent("The body is not a Stripe event.")
    if GatewayEvent.objects.filter(gateway=NAME, event_id=event_id).exists():
        return Received(event_id, kind, "duplicate")
    handler = HANDLERS.get(kind)
    if handler is not None:
        handler(obj, event_id)
    try:
        with transaction.atomic():
            GatewayEvent.objects.create(
                gateway=NAME, event_id=event_id[:255], type=kind[:100], handled=handler is not None
            )
    except IntegrityError:
        return Received(event_id, kind, "duplicate")  # the same event, handled meanwhile
    return Received(event_id, kind, "handled" if handler is not None else "ignored")


def _payment(payment_intent: Any) -> Transaction | None:
    if not isinstance(payment_intent, str) or not payment_intent:
        return None
    return Transaction.objects.filter(
        method=NAME, kind=TransactionKind.PAYMENT, reference=payment_intent
    ).first()


def _payment_intent(intent: dict[str, Any], event_id: str) -> None:
    """Book the attempt this PaymentIntent was made for, with what it says."""
    key = (intent.get("metadata") or {}).get(KEY_FIELD)
    if not key or not isinstance(intent.get("id"), str):
        return  # not made by Groupbill
    txn = Transaction.objects.filter(gateway_key=key, method=NAME).first()
    if txn is None:
        return
    result = intent_result(intent)
    booked = charges.settle_with(txn, result)
    if result.approved and booked.status != TransactionStatus.APPROVED:
        # Money taken after Groupbill booked the attempt otherwise: staff must look.
        add_note(
            booked.client,
            f"Stripe reports payment {intent['id']} succeeded, but Groupbill booked "
            f"attempt #{booked.pk} as {booked.status}: check it in Stripe's dashboard and "
            "record or refund the money.",
            actor=ACTOR,
            key=f"stripe-event:{event_id}",
        )


def _refunded(charge: dict[str, Any], event_id: str) -> None:
    """Settle the payment's pending refunds; note money refunded outside Groupbill."""
    payment = _payment(charge.get("payment_intent"))
    if payment is None:
        return
    for refund in Transaction.objects.filter(refund_of=payment, status=TransactionStatus.PENDING):
        charges.settle(refund)  # asks Stripe for the refund made under its key
    booked = (
        Transaction.objects.filter(
            refund_of=payment, status__in=[TransactionStatus.APPROVED, TransactionStatus.PENDING]
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    at_stripe = charge.get("amount_refunded")
    if isinstance(at_stripe, int) and at_stripe > booked:
        missing = money.format_plain(at_stripe - booked, payment.currency)
        add_note(
            payment.client,
            f"Stripe has refunded {missing} {payment.currency} more of payment #{payment.pk} "
            "than Groupbill booked (a refund made in Stripe's dashboard?): record the refund.",
            actor=ACTOR,
            key=f"stripe-event:{event_id}",
        )


def _dispute(dispute: dict[str, Any], event_id: str) -> None:
    payment = _payment(dispute.get("payment_intent"))
    if payment is None or not isinstance(dispute.get("id"), str):
        return
    amount = dispute.get("amount")
    currency = str(dispute.get("currency") or "").upper()
    disputes.open_dispute(
        payment,
        dispute=dispute["id"],
        amount=amount if isinstance(amount, int) else payment.amount,
        currency=currency if currency in MINOR_UNITS else payment.currency,
        reason=str(dispute.get("reason") or ""),
        actor=ACTOR,
    )


HANDLERS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "payment_intent.succeeded": _payment_intent,
    "payment_intent.payment_failed": _payment_intent,
    "charge.refunded": _refunded,
    "charge.dispute.created": _dispute,
}
