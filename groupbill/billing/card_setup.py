"""Cards a client types into the gateway's own form (Stripe Elements), so that Groupbill
never sees the number: `begin` gives the form what it needs (a SetupIntent's client secret,
the publishable key, Stripe.js's address); once Stripe.js has confirmed it, `save` keeps the
card as one of the client's payment accounts. Both call the gateway: outside any
transaction."""

from typing import Any

from django.conf import settings

from groupbill import validation as v
from groupbill.billing import accounts
from groupbill.billing.gateways import get_gateway
from groupbill.billing.gateways.stripe import NAME, CardSetup, configured
from groupbill.billing.models import PaymentAccount
from groupbill.clients.models import Client
from groupbill.errors import FieldError


def available() -> bool:
    """Whether cards are added with Stripe's own form: a secret and a publishable key."""
    return configured() and bool(settings.STRIPE_PUBLISHABLE_KEY)


def begin(client: Client) -> CardSetup:
    return get_gateway(NAME).setup_intent(client)


def save(
    client: Client, setup_intent: Any, *, actor: str, is_autodebit: bool = False
) -> PaymentAccount:
    """The card a confirmed SetupIntent of this client saved, as a payment account."""
    try:
        setup_intent = v.text(setup_intent, max_length=255, required=True)
    except ValueError as exc:
        v.raise_if([FieldError("setup_intent", str(exc))])
    method = get_gateway(NAME).setup_payment_method(client, setup_intent)
    data = {"gateway": NAME, "reference": method, "is_autodebit": is_autodebit}
    return accounts.add_payment_account(client, data, actor=actor)
