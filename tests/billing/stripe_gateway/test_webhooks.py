"""Stripe's webhook (`POST /api/v1/gateways/stripe/webhook`, no API key): events signed with
the test secret are booked once however often they come; anything unsigned is refused.

localstripe sends webhooks itself, but only for PaymentIntents (no refunds, no disputes) and
one second after the fact; these tests deliver signed events the way Stripe does, with the
objects as localstripe holds them (a dispute, which localstripe lacks, is written as Stripe
documents it)."""

from datetime import date

import pytest
from django.test import Client as HttpClient

from groupbill.billing import charges, invoices, payments
from groupbill.billing.gateways import ChargeOutcome, GatewayResult, GatewayUnreachable
from groupbill.billing.gateways import stripe as stripe_gateway
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import GatewayEvent, Transaction
from groupbill.companies.actions import update_company
from groupbill.notices.models import OutboxMessage
from tests.billing.stripe_gateway.conftest import AUTHENTICATES, VISA, WEBHOOK
from tests.conftest import ACTOR


@pytest.fixture
def http(db):
    return HttpClient()  # no API key: Stripe has none


def _invoice(client, amount=1000):
    invoice = invoices.create_invoice(client, [NewLine("Hosting", amount)], actor=ACTOR)
    return invoices.issue_invoice(invoice, issued_on=date(2026, 3, 2), actor=ACTOR)


def _pay(invoice, account, key="pay-1"):
    return charges.pay_with_account(invoice, account, actor=ACTOR, principal="apikey:1", key=key)


def test_a_payment_event_delivered_twice_is_booked_once(stripe_fake, payer, http):
    """The answer of a charge is lost (the attempt stays pending); Stripe's
    payment_intent.succeeded books it, and the same event sent again changes nothing:
    one payment, one payment-received message, one recorded event."""
    invoice = _invoice(payer)
    card = stripe_fake.card(payer, VISA)
    stripe_fake.proxy.lose(card.reference)
    txn = _pay(invoice, card)
    assert txn.status == "pending"
    [intent] = stripe_fake.payment_intents()
    event = stripe_fake.event("payment_intent.succeeded", intent)

    first, again = stripe_fake.deliver(http, event), stripe_fake.deliver(http, event)

    assert (first.status_code, first.json()["status"]) == (200, "handled")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    txn.refresh_from_db()
    invoice.refresh_from_db()
    assert (txn.status, txn.reference, invoice.status) == ("approved", intent["id"], "paid")
    assert OutboxMessage.objects.filter(template="payment_received").count() == 1
    assert GatewayEvent.objects.filter(event_id=event["id"]).count() == 1


def test_a_failed_payment_event_books_the_decline(stripe_fake, payer, http):
    """3-D Secure was asked for and the card holder failed it: payment_failed books the
    pending attempt as declined (counted), and the invoice may be charged again."""
    invoice = _invoice(payer)
    card = stripe_fake.card(payer, AUTHENTICATES)
    txn = _pay(invoice, card)
    stripe_fake.authenticate(txn.reference, success=False)
    failed = stripe_fake.intent(txn.reference)

    r = stripe_fake.deliver(http, stripe_fake.event("payment_intent.payment_failed", failed))

    assert r.status_code == 200
    txn.refresh_from_db()
    card.refresh_from_db()
    assert (txn.status, card.failure_count) == ("declined", 1)
    assert _pay(invoice, stripe_fake.card(payer, VISA), key="pay-2").status == "approved"


def test_a_late_success_for_an_attempt_booked_otherwise_is_noted_for_staff(
    stripe_fake, payer, http
):
    invoice = _invoice(payer)
    txn = _pay(invoice, stripe_fake.card(payer, AUTHENTICATES))
    declined = GatewayResult(ChargeOutcome.DECLINED, txn.reference, "booked before")
    charges.settle_with(txn, declined)
    stripe_fake.authenticate(txn.reference)  # completed at Stripe after all

    succeeded = stripe_fake.event("payment_intent.succeeded", stripe_fake.intent(txn.reference))
    assert stripe_fake.deliver(http, succeeded).status_code == 200

    txn.refresh_from_db()
    [note] = payer.notes.all()
    assert txn.status == "declined"
    assert f"Stripe reports payment {txn.reference} succeeded" in note.text


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "changed body", "no signature", "not json"],
)
def test_an_event_that_does_not_verify_is_refused(stripe_fake, payer, http, tamper):
    invoice = _invoice(payer)
    card = stripe_fake.card(payer, VISA)
    stripe_fake.proxy.lose(card.reference)
    txn = _pay(invoice, card)
    [intent] = stripe_fake.payment_intents()
    event = stripe_fake.event("payment_intent.succeeded", intent)
    payload, header = stripe_fake.signed(event, "whsec_" + "x" * 24 if tamper == "wrong secret"
                                         else "whsec_groupbill_tests_0123456789")  # fmt: skip
    if tamper == "changed body":
        payload = payload.replace(b'"succeeded"', b'"succeeded" ')
    headers = {} if tamper == "no signature" else {"HTTP_STRIPE_SIGNATURE": header}
    if tamper == "not json":
        payload, header = stripe_fake.signed(event)
        payload = b"{not json"

    r = http.post(WEBHOOK, payload, content_type="application/json", **headers)

    assert r.status_code == 400
    assert r["Content-Type"] == "application/problem+json"
    txn.refresh_from_db()
    assert txn.status == "pending"
    assert not GatewayEvent.objects.exists()


def test_webhooks_need_a_secret_and_ignore_other_events(stripe_fake, http, settings):
    event = stripe_fake.event("customer.created", {"id": "cus_1", "object": "customer"})
    r = stripe_fake.deliver(http, event)
    assert (r.status_code, r.json()["status"]) == (200, "ignored")
    assert GatewayEvent.objects.get().handled is False

    settings.STRIPE_WEBHOOK_SECRET = ""
    assert stripe_fake.deliver(http, stripe_fake.event("customer.created", {})).status_code == 404
    assert http.get(WEBHOOK).status_code == 405


def test_a_dispute_marks_the_payment_notes_the_client_and_tells_the_staff(
    stripe_fake, payer, http, company, api
):
    """charge.dispute.created (localstripe has no disputes: the event carries a Dispute as
    Stripe documents it) marks the payment disputed, adds one client note and queues one
    message to the company's staff address, however often it is delivered."""
    update_company(company, {"notify_email": "billing@acme.example"}, actor=ACTOR)
    invoice = _invoice(payer, 2500)
    payment = _pay(invoice, stripe_fake.card(payer, VISA))
    intent = stripe_fake.intent(payment.reference)
    dispute = {
        "id": "dp_1Test", "object": "dispute", "amount": 2500, "currency": "eur",
        "charge": intent["latest_charge"]["id"], "payment_intent": payment.reference,
        "reason": "fraudulent", "status": "needs_response",
    }  # fmt: skip
    event = stripe_fake.event("charge.dispute.created", dispute)

    for _ in range(2):
        assert stripe_fake.deliver(http, event).status_code == 200
    stripe_fake.deliver(http, stripe_fake.event("charge.dispute.created", dispute))  # new id

    payment.refresh_from_db()
    assert payment.disputed_at is not None
    shown = api.get(f"/transactions/{payment.pk}").json()["disputed_at"]
    assert shown.startswith(payment.disputed_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert payment.status == "approved"  # the money stays booked until the dispute ends
    [note] = payer.notes.all()
    assert f"Payment #{payment.pk} was disputed" in note.text and "fraudulent" in note.text
    [message] = OutboxMessage.objects.filter(template="payment_disputed")
    assert message.recipients == [{"name": company.name, "email": "billing@acme.example"}]
    assert (message.context["transaction_id"], message.context["dispute"]) == (
        payment.pk,
        "dp_1Test",
    )


def test_a_refund_event_settles_a_pending_refund_and_notes_one_made_at_stripe(
    stripe_fake, payer, http, monkeypatch
):
    """A refund whose answer was lost is booked when charge.refunded comes; money refunded
    in Stripe's dashboard (not by Groupbill) is noted on the client for staff to record."""
    invoice = _invoice(payer)
    payment = _pay(invoice, stripe_fake.card(payer, VISA))
    payments.unapply(invoice, actor=ACTOR)
    real_create = stripe_gateway.StripeGateway.refund

    def answer_lost(self, *args):
        real_create(self, *args)
        raise GatewayUnreachable("lost")

    monkeypatch.setattr(stripe_gateway.StripeGateway, "refund", answer_lost)
    refund = payments.refund(payment, amount=400, actor=ACTOR)
    monkeypatch.undo()
    assert refund.status == "pending"

    def charge_event():
        charge = stripe_fake.intent(payment.reference)["latest_charge"]
        return stripe_fake.event("charge.refunded", charge)

    assert stripe_fake.deliver(http, charge_event()).status_code == 200
    refund.refresh_from_db()
    assert refund.status == "approved"
    assert not payer.notes.exists()

    stripe_fake.client.v1.refunds.create({"payment_intent": payment.reference, "amount": 100})
    assert stripe_fake.deliver(http, charge_event()).status_code == 200
    [note] = payer.notes.all()
    assert "Stripe has refunded 1.00 EUR more of payment" in note.text
    assert Transaction.objects.filter(kind="refund").count() == 1
