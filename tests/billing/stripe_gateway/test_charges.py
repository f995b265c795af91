"""Charging, refunding and saving cards through Stripe (localstripe): auto debit by the
engine, declines counted until the account is disabled, gateway errors not counted, 3-D
Secure left pending and settled, refunds, cards added by PaymentMethod or SetupIntent, and
the secret key never shown."""

import logging
from datetime import date, timedelta

import pytest

from groupbill.automation.engine import AsOf, execute
from groupbill.automation.tasks import TASKS
from groupbill.billing import card_setup, charges, invoices, payments
from groupbill.billing.gateways import stripe as stripe_gateway
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import (
    AccountKind,
    GatewayCustomer,
    PaymentAccount,
    Transaction,
)
from groupbill.errors import Conflict, ValidationFailed
from groupbill.settings_catalog.actions import set_group_setting
from tests.billing.stripe_gateway import fake
from tests.billing.stripe_gateway.conftest import (
    AUTHENTICATES,
    DECLINED_AT_ATTACH,
    DECLINES,
    VISA,
)
from tests.conftest import ACTOR, failure_fields

ISSUED = date(2026, 3, 2)
AUTODEBIT = [t for t in TASKS if t.NAME == "autodebit"]


def _invoice(client, amount=1000, due=ISSUED):
    invoice = invoices.create_invoice(client, [NewLine("Hosting March", amount)], actor=ACTOR)
    return invoices.issue_invoice(invoice, issued_on=ISSUED, due_on=due, actor=ACTOR)


def _autodebit(company, day: date):
    [report] = execute(AsOf(day=day), companies=[company], tasks=AUTODEBIT)
    return report


def _pay(invoice, account, key="pay-1"):
    return charges.pay_with_account(invoice, account, actor=ACTOR, principal="apikey:1", key=key)


def test_auto_debit_charges_the_card_off_session_with_the_key_in_metadata(
    stripe_fake, company, payer
):
    """The engine's auto debit pays the due invoice with one confirmed, off-session
    PaymentIntent on the client's customer; Groupbill's key and the invoice are in its
    metadata, and the payment's reference is the PaymentIntent."""
    set_group_setting(payer.group, "autodebit_days_before_due", 0, actor=ACTOR)
    invoice = _invoice(payer)
    card = stripe_fake.card(payer, VISA, autodebit=True)

    report = _autodebit(company, ISSUED)

    assert (report.applied, report.failed) == (1, 0)
    invoice.refresh_from_db()
    txn = Transaction.objects.get(kind="payment")
    assert (invoice.status, txn.status, txn.method, txn.amount) == ("paid", "approved", "stripe",
                                                                     1000)  # fmt: skip
    [intent] = stripe_fake.payment_intents()
    customer = GatewayCustomer.objects.get(client=payer).reference
    assert (intent["id"], intent["status"], intent["amount"], intent["currency"]) == (
        txn.reference,
        "succeeded",
        1000,
        "eur",
    )
    assert (intent["customer"], intent["payment_method"]) == (customer, card.reference)
    assert intent["metadata"] == {"groupbill_key": txn.gateway_key,
                                  "groupbill_client": str(payer.pk),
                                  "groupbill_invoices": str(invoice.pk)}  # fmt: skip
    assert _autodebit(company, ISSUED).applied == 0  # the same day: charged already


def test_a_declining_card_counts_until_auto_debit_disables_it(stripe_fake, company, payer):
    """localstripe's 4000000000000341 attaches, then declines every charge. The group allows
    2 declines: day one declines (1 counted), day two declines and disables the account with
    a note on the client; day three charges nothing. Each decline was a real PaymentIntent."""
    set_group_setting(payer.group, "autodebit_days_before_due", 0, actor=ACTOR)
    set_group_setting(payer.group, "autodebit_attempts", 2, actor=ACTOR)
    invoice = _invoice(payer)
    card = stripe_fake.card(payer, DECLINES, autodebit=True)

    first = _autodebit(company, ISSUED)
    card.refresh_from_db()
    assert (first.failed, card.failure_count, card.autodebit_disabled) == (1, 1, False)
    assert "Your card was declined" in first.actions[0]["error"]

    _autodebit(company, ISSUED + timedelta(days=1))
    card.refresh_from_db()
    assert (card.failure_count, card.autodebit_disabled) == (2, True)
    [note] = payer.notes.all()
    assert "2 declined auto-debit attempts in a row" in note.text

    assert _autodebit(company, ISSUED + timedelta(days=2)).planned == 0
    invoice.refresh_from_db()
    assert invoice.status == "open"
    declined = [t.status for t in Transaction.objects.order_by("pk")]
    assert declined == ["declined", "declined"]
    assert [i["status"] for i in stripe_fake.payment_intents()] == ["requires_payment_method"] * 2


def test_gateway_errors_are_not_declines(stripe_fake, payer):
    """A card Stripe no longer has (a 404) is an error, and a call that never arrives stays
    pending: neither counts toward auto debit's declines."""
    invoice = _invoice(payer)
    gone = PaymentAccount.objects.create(client=payer, kind=AccountKind.CARD, gateway="stripe",
                                         reference="pm_gone", last4="4242")  # fmt: skip
    stripe_fake.card(payer, VISA)  # the client has a customer
    txn = _pay(invoice, gone)
    gone.refresh_from_db()
    assert (txn.status, gone.failure_count) == ("error", 0)
    assert txn.note  # Stripe's words ("No such PaymentMethod"; localstripe: "Not Found")

    cut_off = stripe_fake.card(payer, VISA)
    stripe_fake.proxy.never(cut_off.reference)
    pending = _pay(invoice, cut_off, key="pay-2")
    cut_off.refresh_from_db()
    assert (pending.status, cut_off.failure_count) == ("pending", 0)


def test_3d_secure_stays_pending_until_the_card_holder_authenticates(stripe_fake, payer, settings):
    """A card that needs 3-D Secure leaves the PaymentIntent in requires_action: the attempt
    stays pending with its reference (staff see why), settle_pending leaves it so (and does
    not count it as a failure); once the card holder authenticates, it is booked."""
    invoice = _invoice(payer)
    card = stripe_fake.card(payer, AUTHENTICATES)
    txn = _pay(invoice, card)
    assert (txn.status, txn.note) == ("pending", stripe_gateway.ACTION_MESSAGE)
    assert stripe_fake.intent(txn.reference)["status"] == "requires_action"

    settings.EFFECT_GRACE_SECONDS = 0
    assert charges.settle(txn).status == "pending"

    stripe_fake.authenticate(txn.reference)
    settled = charges.settle(txn)
    invoice.refresh_from_db()
    card.refresh_from_db()
    assert (settled.status, invoice.status, card.failure_count) == ("approved", "paid", 0)


def test_3d_secure_never_completed_is_canceled_and_declined(
    stripe_fake, payer, settings, monkeypatch
):
    """Past the authentication window, settling cancels the PaymentIntent at Stripe and
    books a decline, which frees the invoice for another charge."""
    invoice = _invoice(payer)
    txn = _pay(invoice, stripe_fake.card(payer, AUTHENTICATES))
    monkeypatch.setattr(stripe_gateway, "AUTHENTICATION_WINDOW", timedelta(0))
    settings.EFFECT_GRACE_SECONDS = 0

    settled = charges.settle(txn)

    assert (settled.status, settled.note) == ("declined", stripe_gateway.ABANDONED_MESSAGE)
    assert stripe_fake.intent(txn.reference)["status"] == "canceled"
    assert _pay(invoice, stripe_fake.card(payer, VISA), key="pay-2").status == "approved"


def test_refunds_through_stripe(stripe_fake, payer):
    """A refund of an unapplied Stripe payment is a Stripe Refund of its PaymentIntent under
    Groupbill's key; more than is left is refused before Stripe is asked."""
    invoice = _invoice(payer)
    payment = _pay(invoice, stripe_fake.card(payer, VISA))
    payments.unapply(invoice, actor=ACTOR)

    refund = payments.refund(payment, amount=300, actor=ACTOR)

    assert (refund.status, refund.amount, refund.refund_of_id) == ("approved", 300, payment.pk)
    [at_stripe] = stripe_fake.client.v1.refunds.list({"payment_intent": payment.reference}).data
    assert (at_stripe.id, at_stripe.amount) == (refund.reference, 300)
    assert at_stripe.metadata.to_dict() == {"groupbill_key": refund.gateway_key}
    assert payments.balances([payer.pk])[payer.pk][0].credit == 700

    gateway = stripe_gateway.StripeGateway()
    too_much = gateway.refund(payment.reference, 701, "EUR", "gb_too_much")
    other_currency = gateway.refund(payment.reference, 10, "USD", "gb_usd")
    assert (too_much.outcome, too_much.message) == ("declined", "Only 700 is left to refund")
    assert (other_currency.outcome, other_currency.message) == ("declined", "The charge was in EUR")


# --- Cards ------------------------------------------------------------------------------


def test_a_card_is_added_through_the_api_by_its_payment_method(stripe_fake, api, payer):
    """Staff (or an integration) send a PaymentMethod id: it is attached to the client's
    customer (made on first use, one per client), and what the card is comes from Stripe."""
    first = stripe_fake.payment_method(VISA)
    # The last four digits the caller says are not used: Stripe's are.
    r = api.post(f"/clients/{payer.pk}/payment-accounts",
                 {"gateway": "stripe", "reference": first, "is_autodebit": True,
                  "last4": "0000"})  # fmt: skip
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["kind"], body["last4"], body["expires_on"], body["label"]) == (
        "card",
        "4242",
        "2030-12-31",
        "Visa",
    )
    customer = GatewayCustomer.objects.get(client=payer, gateway="stripe").reference
    assert stripe_fake.client.v1.payment_methods.retrieve(first).customer == customer
    assert stripe_fake.client.v1.customers.retrieve(customer).metadata.to_dict() == {
        "groupbill_client": str(payer.pk)
    }

    second = stripe_fake.payment_method(DECLINES)
    assert api.post(f"/clients/{payer.pk}/payment-accounts",
                    {"gateway": "stripe", "reference": second}).status_code == 201  # fmt: skip
    assert GatewayCustomer.objects.count() == 1
    assert stripe_fake.client.v1.payment_methods.retrieve(second).customer == customer


def test_cards_stripe_refuses_or_another_client_holds_are_refused(
    stripe_fake, api, payer, make_client
):
    path = f"/clients/{payer.pk}/payment-accounts"
    other = make_client(email="bob@example.com")
    bobs = stripe_fake.card(other, VISA).reference
    for reference, says in [
        ("pm_nope", "is not a Stripe PaymentMethod"),
        (stripe_fake.payment_method(DECLINED_AT_ATTACH), "was declined by the card issuer"),
        (bobs, "another client's Stripe customer"),
    ]:
        r = api.post(path, {"gateway": "stripe", "reference": reference})
        assert r.status_code == 422 and says in r.json()["errors"][0]["message"], r.json()
    assert not payer.payment_accounts.exists()


def test_stripe_unconfigured_is_an_unknown_gateway(api, payer, settings):
    settings.STRIPE_SECRET_KEY = ""
    r = api.post(f"/clients/{payer.pk}/payment-accounts",
                 {"gateway": "stripe", "reference": "pm_123"})  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "gateway"


def test_a_card_form_saves_the_card_of_a_confirmed_setup_intent(stripe_fake, payer, make_client):
    """What a Stripe Elements form needs, and the card it confirmed saved for the client
    (the confirmation is what Stripe.js does in the browser, here against localstripe)."""
    setup = card_setup.begin(payer)
    assert (setup.publishable_key, setup.js_url) == (
        fake.PUBLISHABLE_KEY,
        f"{stripe_fake.server.url}/js.stripe.com/v3/",
    )
    assert setup.client_secret.startswith(setup.setup_intent_id)
    with pytest.raises(ValidationFailed) as unconfirmed:
        card_setup.save(payer, setup.setup_intent_id, actor=ACTOR)
    assert "is not confirmed" in failure_fields(unconfirmed)["setup_intent"]

    card = {"number": VISA, "exp_month": 4, "exp_year": 2031, "cvc": "123"}
    stripe_fake.client.raw_request(
        "post", f"/v1/setup_intents/{setup.setup_intent_id}/confirm",
        client_secret=setup.client_secret, payment_method_data={"type": "card", "card": card},
    )  # fmt: skip

    other = make_client(email="bob@example.com")
    with pytest.raises(ValidationFailed) as not_bobs:
        card_setup.save(other, setup.setup_intent_id, actor=ACTOR)
    assert "was not made for this client" in failure_fields(not_bobs)["setup_intent"]

    account = card_setup.save(payer, setup.setup_intent_id, actor=ACTOR, is_autodebit=True)
    assert (account.gateway, account.last4, account.expires_on, account.is_autodebit) == (
        "stripe",
        "4242",
        date(2031, 4, 30),
        True,
    )


# --- Secrets ------------------------------------------------------------------------------


def test_the_secret_key_is_never_shown(stripe_fake, payer, settings, caplog):
    """A key Stripe refuses: the charge is an error that names the setting, not the key;
    nothing logged, stored or shown holds it."""
    invoice = _invoice(payer)
    card = stripe_fake.card(payer, VISA)
    secret = "not-a-stripe-key-but-secret-0123456789"
    settings.STRIPE_SECRET_KEY = secret
    caplog.set_level(logging.DEBUG)

    txn = _pay(invoice, card)
    with pytest.raises(Conflict) as refused:
        stripe_fake.card(payer, VISA)  # localstripe itself is asked with the right key

    assert txn.status == "error"
    assert "GROUPBILL_STRIPE_SECRET_KEY" in txn.note
    shown = [txn.note, txn.reference, str(refused.value), repr(stripe_gateway.StripeGateway()),
             caplog.text]  # fmt: skip
    assert not any(secret in text for text in shown)
    assert not Transaction.objects.filter(note__contains=secret).exists()
